import { z } from "zod";
import type { ContactEvent } from "../domain/contactEvent.js";
import { CONNECT_SERVICE_REGIONS, CONTACT_ID_MAX, idProblem, parseInstanceArn } from "../domain/contactRef.js";

/** What `parseContactEvent` makes of a message body: the event, or why it is not one. */
export type ParsedMessage = { readonly ok: true; readonly event: ContactEvent } | { readonly ok: false; readonly reason: string };

const DEFAULT_REGIONS: ReadonlySet<string> = new Set(CONNECT_SERVICE_REGIONS);

/** EventBridge's envelope of a Connect contact event. Unknown members are ignored. */
const Envelope = z.object({
  id: z.string().min(1).max(256),
  "detail-type": z.literal("Amazon Connect Contact Event"),
  source: z.literal("aws.connect"),
  time: z.iso.datetime({ offset: true }),
  region: z.string().optional(),
  resources: z.array(z.string()).optional(),
  detail: z.record(z.string(), z.unknown()),
});

/** `detail`, its member names camelCased first. Unknown members are ignored. */
const Detail = z.object({
  eventType: z.string().min(1).max(64),
  contactId: z.string().min(1),
  instanceArn: z.string().optional(),
  initialContactId: z.string().optional(),
  previousContactId: z.string().optional(),
  channel: z.string().optional(),
  initiationMethod: z.string().optional(),
  queueInfo: z.object({ queueArn: z.string().optional() }).optional(),
  agentInfo: z.object({ agentArn: z.string().optional() }).optional(),
});

/**
 * Reads one SQS message body as an Amazon Connect contact event in EventBridge's envelope
 * (`source: aws.connect`, `detail-type: Amazon Connect Contact Event`). Member names of `detail` are
 * read camelCase, as real consumers do; PascalCase (as in some of AWS's samples) is tolerated;
 * unknown members and unknown event types pass. The instance and region come from
 * `detail.instanceArn` (else the envelope's first resource), which must be in one of `regions` (the
 * regions the gateway may call: it reads the event's contact there). Anything else is
 * `{ ok: false }` with a reason that never quotes the body (it may hold personal data).
 */
export function parseContactEvent(body: string, regions: ReadonlySet<string> = DEFAULT_REGIONS): ParsedMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  const envelope = Envelope.safeParse(json);
  if (!envelope.success) return { ok: false, reason: `not a contact event (${describeIssue(envelope.error)})` };
  const detail = Detail.safeParse(camelCased(envelope.data.detail, DETAIL_LEVELS));
  if (!detail.success) return { ok: false, reason: `not a contact event (detail: ${describeIssue(detail.error)})` };
  const d = detail.data;
  const instance = parseInstanceArn(d.instanceArn ?? envelope.data.resources?.[0] ?? "");
  if (!instance) return { ok: false, reason: "not a contact event (no instance ARN)" };
  if (!regions.has(instance.region)) return { ok: false, reason: "not a contact event of a region the gateway calls (CONNECT_REGIONS)" };
  if (idProblem(d.contactId, CONTACT_ID_MAX)) return { ok: false, reason: "not a contact event (malformed contactId)" };
  return {
    ok: true,
    event: {
      eventId: envelope.data.id,
      eventType: d.eventType,
      timestamp: new Date(envelope.data.time),
      ref: { region: instance.region, instanceId: instance.instanceId, contactId: d.contactId },
      accountId: instance.accountId,
      initialContactId: d.initialContactId,
      previousContactId: d.previousContactId,
      channel: d.channel,
      initiationMethod: d.initiationMethod,
      queueId: resourceIdOf(d.queueInfo?.queueArn, "queue"),
      agentId: resourceIdOf(d.agentInfo?.agentArn, "agent"),
    },
  };
}

/**
 * Levels of `detail` whose member names are read (`detail.queueInfo.queueArn`: two). Deeper members
 * are passed through unread: walking a body's whole tree let one message nested thousands of levels
 * deep (JSON.parse takes any depth) overflow the stack and stop the consumer.
 */
const DETAIL_LEVELS = 2;

// Private: `detail` with the first letter of every member name lower-cased, `levels` deep
// (`QueueInfo.QueueArn` → `queueInfo.queueArn`); a camelCase member wins over its PascalCase twin.
function camelCased(value: unknown, levels: number): unknown {
  if (levels === 0 || value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    const name = key.charAt(0).toLowerCase() + key.slice(1);
    if (name !== key && name in value) continue;
    out[name] = camelCased(member, levels - 1);
  }
  return out;
}

// Private: the id at the end of `arn:…:instance/{instance}/{kind}/{id}`.
function resourceIdOf(arn: string | undefined, kind: "queue" | "agent"): string | undefined {
  const match = arn ? new RegExp(`:instance/[^/]+/${kind}/([^/]+)$`).exec(arn) : null;
  return match?.[1];
}

// Private: the first problem, by path only (zod's messages can quote the value).
function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join(".") || "body"}: ${issue.code}` : "invalid";
}
