import type { AgentInfo, Contact } from "@aws-sdk/client-connect";

/**
 * How a contact's state moves with its contact events. A contact made while the emulator runs has
 * a plan: the finished contact the data set's generator made for it at INITIATED, every member its
 * whole life would have. It starts as the plan without the members that come later, and each event
 * reveals the ones it announces, their times moved to when the event happened. A contact of the
 * seeded data set has no plan: events set only the members they announce.
 */

/** One event to apply, with what the caller decided for it. */
export interface LifecycleStep {
  eventType: string;
  /** When it happened, epoch ms. */
  at: number;
  /** The finished contact planned at INITIATED, when the contact was made here. */
  plan?: Contact | undefined;
  /** QUEUED: the queue. */
  queueId?: string | undefined;
  /** CONNECTED_TO_AGENT: the agent and the hierarchy groups a contact names for it. */
  agent?: { id: string; hierarchy: AgentInfo["HierarchyGroups"] } | undefined;
  /** DISCONNECTED: why; default the plan's, else CUSTOMER_DISCONNECT. */
  disconnectReason?: string | undefined;
  /** CONTACT_DATA_UPDATED: the members that change. */
  update?: { attributes?: Record<string, string> | undefined; name?: string | undefined; description?: string | undefined } | undefined;
}

/** The members a contact gains as its life goes on, absent from a contact just initiated. */
const LATER_MEMBERS = [
  "ConnectedToSystemTimestamp",
  "QueueInfo",
  "QueuePriority",
  "QueueTimeAdjustmentSeconds",
  "RoutingCriteria",
  "AgentInfo",
  "RingStartTimestamp",
  "WisdomInfo",
  "DisconnectTimestamp",
  "DisconnectReason",
  "DisconnectDetails",
  "LastPausedTimestamp",
  "LastResumedTimestamp",
  "TotalPauseCount",
  "TotalPauseDurationInSeconds",
  "Recordings",
  "QualityMetrics",
  "ChatMetrics",
  "ContactEvaluations",
  "NextContacts",
] as const satisfies readonly (keyof Contact)[];

/** The contact as INITIATED announces it: the plan without its later members, initiated `at`. */
export function initiatedContact(plan: Contact, at: number): Contact {
  const contact: Contact = structuredClone(plan);
  for (const member of LATER_MEMBERS) delete contact[member];
  contact.InitiationTimestamp = date(at);
  contact.LastUpdateTimestamp = date(at);
  return contact;
}

/** The contact after `step` (a new object; `contact` is left as it was). */
export function applyContactEvent(contact: Contact, step: LifecycleStep): Contact {
  const next: Contact = structuredClone(contact);
  const { at, plan } = step;
  next.LastUpdateTimestamp = date(at);
  switch (step.eventType) {
    case "CONNECTED_TO_SYSTEM":
      next.ConnectedToSystemTimestamp = date(at);
      break;
    case "QUEUED": {
      const planned = plan?.QueueInfo?.EnqueueTimestamp?.getTime();
      next.QueueInfo = { Id: step.queueId ?? plan?.QueueInfo?.Id, EnqueueTimestamp: date(at) };
      if (plan && planned !== undefined) {
        if (plan.QueuePriority !== undefined) next.QueuePriority = plan.QueuePriority;
        if (plan.QueueTimeAdjustmentSeconds !== undefined) next.QueueTimeAdjustmentSeconds = plan.QueueTimeAdjustmentSeconds;
        if (plan.RoutingCriteria) next.RoutingCriteria = shifted(plan.RoutingCriteria, at - planned);
      }
      break;
    }
    case "CONNECTED_TO_AGENT": {
      const id = step.agent?.id ?? plan?.AgentInfo?.Id;
      const planned = plan?.AgentInfo?.ConnectedToAgentTimestamp?.getTime();
      if (plan?.AgentInfo && planned !== undefined && plan.AgentInfo.Id === id) {
        // The planned agent: everything the plan knows about them, moved to now, minus after-contact work.
        const agent = shifted(plan.AgentInfo, at - planned);
        delete agent.AfterContactWorkStartTimestamp;
        delete agent.AfterContactWorkEndTimestamp;
        delete agent.AfterContactWorkDuration;
        next.AgentInfo = agent;
        if (plan.RingStartTimestamp) next.RingStartTimestamp = date(plan.RingStartTimestamp.getTime() + at - planned);
        if (plan.WisdomInfo) next.WisdomInfo = structuredClone(plan.WisdomInfo);
      } else {
        next.AgentInfo = { Id: id, AcceptedByAgentTimestamp: date(at - 800), ConnectedToAgentTimestamp: date(at), HierarchyGroups: step.agent?.hierarchy };
        if (next.Channel === "VOICE" || next.Channel === "CHAT") next.RingStartTimestamp = date(at - 3000);
      }
      break;
    }
    case "DISCONNECTED": {
      next.DisconnectTimestamp = date(at);
      next.DisconnectReason = step.disconnectReason ?? plan?.DisconnectReason ?? "CUSTOMER_DISCONNECT";
      const connected = next.AgentInfo?.ConnectedToAgentTimestamp?.getTime();
      if (next.AgentInfo && next.InitiationMethod !== "MONITOR") next.AgentInfo.AfterContactWorkStartTimestamp = date(at);
      const plannedEnd = plan?.DisconnectTimestamp?.getTime();
      const plannedConnected = plan?.AgentInfo?.ConnectedToAgentTimestamp?.getTime();
      // What the plan knew at its end, when the contact lived the plan's life (the same agent, or none).
      if (plan && plannedEnd !== undefined && (next.AgentInfo?.Id ?? null) === (plan.AgentInfo?.Id ?? null)) {
        if (plan.DisconnectDetails) next.DisconnectDetails = structuredClone(plan.DisconnectDetails);
        if (plan.QualityMetrics) next.QualityMetrics = structuredClone(plan.QualityMetrics);
        if (plan.ChatMetrics) next.ChatMetrics = shifted(plan.ChatMetrics, at - plannedEnd);
        if (plan.Recordings && connected !== undefined && plannedConnected !== undefined) {
          next.Recordings = plan.Recordings.map((r) => ({
            ...r,
            StartTimestamp: r.StartTimestamp && date(r.StartTimestamp.getTime() + connected - plannedConnected),
            StopTimestamp: r.StopTimestamp && date(at),
          }));
        }
      }
      break;
    }
    case "COMPLETED": {
      const agent = next.AgentInfo;
      const acwStart = agent?.AfterContactWorkStartTimestamp?.getTime();
      if (agent && acwStart !== undefined) {
        agent.AfterContactWorkEndTimestamp = date(at);
        agent.AfterContactWorkDuration = Math.round((at - acwStart) / 1000);
      }
      const plannedDone = plan?.AgentInfo?.AfterContactWorkEndTimestamp?.getTime() ?? plan?.DisconnectTimestamp?.getTime();
      if (plan?.ContactEvaluations && agent && agent.Id === plan.AgentInfo?.Id && plannedDone !== undefined) next.ContactEvaluations = shifted(plan.ContactEvaluations, at - plannedDone);
      break;
    }
    case "CONTACT_DATA_UPDATED": {
      const update = step.update ?? {};
      if (update.attributes) next.Attributes = { ...next.Attributes, ...update.attributes };
      if (update.name !== undefined) next.Name = update.name;
      if (update.description !== undefined) next.Description = update.description;
      break;
    }
    case "PAUSED":
      next.LastPausedTimestamp = date(at);
      next.TotalPauseCount = (next.TotalPauseCount ?? 0) + 1;
      break;
    case "RESUMED": {
      next.LastResumedTimestamp = date(at);
      const paused = next.LastPausedTimestamp?.getTime();
      if (paused !== undefined) next.TotalPauseDurationInSeconds = (next.TotalPauseDurationInSeconds ?? 0) + Math.round((at - paused) / 1000);
      break;
    }
    default:
      // Other event types are announced as they are; the contact changes only its LastUpdateTimestamp.
      break;
  }
  return next;
}

/** The Contact members a CONTACT_DATA_UPDATED `update` changes, as its `updatedProperties` lists them. */
export function updatedProperties(update: LifecycleStep["update"]): string[] {
  const members: string[] = [];
  if (update?.attributes) members.push("Attributes");
  if (update?.name !== undefined) members.push("Name");
  if (update?.description !== undefined) members.push("Description");
  return members;
}

// Private: Dates at millisecond precision (they round-trip exactly through the wire's epoch seconds).

function date(ms: number): Date {
  return new Date(Math.round(ms));
}

/** A deep copy of `value` with every Date moved by `deltaMs`. */
function shifted<T>(value: T, deltaMs: number): T {
  const copy = structuredClone(value);
  const visit = (v: unknown): void => {
    if (v === null || typeof v !== "object") return;
    for (const [key, item] of Object.entries(v)) {
      if (item instanceof Date) (v as Record<string, unknown>)[key] = date(item.getTime() + deltaMs);
      else visit(item);
    }
  };
  visit(copy);
  return copy;
}
