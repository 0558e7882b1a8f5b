import { describe, expect, it } from "vitest";
import { parseContactEvent } from "../../src/events/parseContactEvent.js";

const INSTANCE_ARN = "arn:aws:connect:eu-west-2:123456789012:instance/11111111-2222-3333-4444-555555555555";

function envelope(detail: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
  return {
    version: "0",
    id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "Amazon Connect Contact Event",
    source: "aws.connect",
    account: "123456789012",
    time: "2026-11-29T10:00:05Z",
    region: "eu-west-2",
    resources: [INSTANCE_ARN, `${INSTANCE_ARN}/contact/c-1`],
    detail,
    ...overrides,
  };
}

describe("parseContactEvent", () => {
  it("reads a camelCase contact event with its instance, region, queue and agent", () => {
    const parsed = parseContactEvent(
      JSON.stringify(
        envelope({
          eventType: "CONNECTED_TO_AGENT",
          contactId: "c-1",
          initialContactId: "c-0",
          previousContactId: "c-0",
          channel: "VOICE",
          instanceArn: INSTANCE_ARN,
          initiationMethod: "TRANSFER",
          queueInfo: { queueArn: `${INSTANCE_ARN}/queue/q-1`, queueType: "STANDARD", enqueueTimestamp: "2026-11-29T10:00:01Z" },
          agentInfo: { agentArn: `${INSTANCE_ARN}/agent/a-1`, connectedToAgentTimestamp: "2026-11-29T10:00:05Z" },
          someFutureMember: { nested: true },
        }),
      ),
    );
    expect(parsed).toEqual({
      ok: true,
      event: {
        eventId: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        eventType: "CONNECTED_TO_AGENT",
        timestamp: new Date("2026-11-29T10:00:05Z"),
        ref: { region: "eu-west-2", instanceId: "11111111-2222-3333-4444-555555555555", contactId: "c-1" },
        accountId: "123456789012",
        initialContactId: "c-0",
        previousContactId: "c-0",
        channel: "VOICE",
        initiationMethod: "TRANSFER",
        queueId: "q-1",
        agentId: "a-1",
      },
    });
  });

  it("tolerates PascalCase member names, as in some of AWS's samples", () => {
    const parsed = parseContactEvent(
      JSON.stringify(envelope({ EventType: "QUEUED", ContactId: "c-2", InstanceArn: INSTANCE_ARN, Channel: "CHAT", QueueInfo: { QueueArn: `${INSTANCE_ARN}/queue/q-9` } })),
    );
    expect(parsed.ok && parsed.event).toMatchObject({ eventType: "QUEUED", ref: { contactId: "c-2" }, channel: "CHAT", queueId: "q-9" });
  });

  it("passes unknown event types through", () => {
    const parsed = parseContactEvent(JSON.stringify(envelope({ eventType: "SOMETHING_NEW", contactId: "c-3", instanceArn: INSTANCE_ARN })));
    expect(parsed.ok && parsed.event.eventType).toBe("SOMETHING_NEW");
  });

  it("refuses an event of an instance in a region the gateway does not call (CONNECT_REGIONS)", () => {
    const body = JSON.stringify(envelope({ eventType: "INITIATED", contactId: "c-5", instanceArn: INSTANCE_ARN.replace("eu-west-2", "us-east-99") }));
    expect(parseContactEvent(body)).toEqual({ ok: false, reason: "not a contact event of a region the gateway calls (CONNECT_REGIONS)" });
    expect(parseContactEvent(JSON.stringify(envelope({ eventType: "INITIATED", contactId: "c-5" })), new Set(["us-east-1"]))).toMatchObject({ ok: false });
    expect(parseContactEvent(JSON.stringify(envelope({ eventType: "INITIATED", contactId: "c-5" })), new Set(["eu-west-2"]))).toMatchObject({ ok: true });
  });

  it("takes the instance from the envelope's resources when the detail has no instanceArn", () => {
    const parsed = parseContactEvent(JSON.stringify(envelope({ eventType: "INITIATED", contactId: "c-4" })));
    expect(parsed.ok && parsed.event.ref).toEqual({ region: "eu-west-2", instanceId: "11111111-2222-3333-4444-555555555555", contactId: "c-4" });
  });

  it.each([
    ["not JSON", "{ nope", "not JSON"],
    ["another EventBridge event", JSON.stringify(envelope({ eventType: "X", contactId: "c" }, { "detail-type": "EC2 Instance State-change Notification", source: "aws.ec2" })), "not a contact event"],
    ["a contact event without contactId", JSON.stringify(envelope({ eventType: "INITIATED", instanceArn: INSTANCE_ARN })), "not a contact event"],
    ["a contact event without any instance ARN", JSON.stringify(envelope({ eventType: "INITIATED", contactId: "c" }, { resources: [] })), "not a contact event"],
    ["a contact id with a slash", JSON.stringify(envelope({ eventType: "INITIATED", contactId: "a/b", instanceArn: INSTANCE_ARN })), "not a contact event"],
  ])("refuses %s, with a reason that never quotes the body", (_name, body, reason) => {
    const parsed = parseContactEvent(body);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.reason).toContain(reason);
      expect(parsed.reason).not.toContain("a/b");
      expect(parsed.reason).not.toContain("ec2");
    }
  });
});
