import { randomUUID } from "node:crypto";
import type { Channel, Contact, ContactInitiationMethod } from "@aws-sdk/client-connect";
import { applyContactEvent, initiatedContact, updatedProperties, type LifecycleStep } from "./contactLifecycle.js";
import { contactFactory, type ContactFactory, type Dataset, type InstanceData } from "./dataset.js";
import type { Rng } from "./rng.js";
import type { SqsQueue } from "./sqsQueue.js";
import type { Stats } from "./stats.js";
import type { WireInstance } from "./wireInstance.js";

/** The event types the emulator changes contacts for; any other string is announced as it is. */
export type ContactEventType = "INITIATED" | "CONNECTED_TO_SYSTEM" | "QUEUED" | "CONNECTED_TO_AGENT" | "DISCONNECTED" | "CONTACT_DATA_UPDATED" | "COMPLETED" | "PAUSED" | "RESUMED" | (string & {});

/** What to emit: the event type, the contact, and whatever the event decides (defaults as documented). */
export interface ContactEventInput {
  eventType: ContactEventType;
  /** The instance. Default: the data set's first (`DEMO.instanceId`). */
  instanceId?: string | undefined;
  /** The contact. INITIATED without one makes a new contact (with one: a new contact with that id); every other type needs an existing one. */
  contactId?: string | undefined;
  /**
   * INITIATED: a transfer. The new contact continues the chain of this one: PreviousContactId, the
   * chain's InitialContactId and attributes, its channel, InitiationMethod TRANSFER (unless given).
   */
  previousContactId?: string | undefined;
  /** INITIATED: the new contact's channel. Default the previous contact's, else drawn like the data set's. */
  channel?: Channel | undefined;
  /** INITIATED: how it started. Default TRANSFER for a transfer, else drawn like the data set's first contacts. */
  initiationMethod?: ContactInitiationMethod | (string & {}) | undefined;
  /** QUEUED: the queue (one of the instance's). Default the contact's planned queue, else one serving its channel. */
  queueId?: string | undefined;
  /** CONNECTED_TO_AGENT: the agent (a user id of the instance). Default the contact's planned agent, else one of the users. */
  agentId?: string | undefined;
  /** DISCONNECTED: the DisconnectReason. Default the planned one, else CUSTOMER_DISCONNECT. */
  disconnectReason?: string | undefined;
  /** CONTACT_DATA_UPDATED: attributes to set (merged into the contact's and its chain's, as GetContactAttributes answers them). */
  attributes?: Record<string, string> | undefined;
  /** CONTACT_DATA_UPDATED: a new Name. */
  name?: string | undefined;
  /** CONTACT_DATA_UPDATED: a new Description. */
  description?: string | undefined;
  /** CONTACT_DATA_UPDATED: as the event lists them. Default the Contact members the update changes. */
  updatedProperties?: string[] | undefined;
  /** When it happened (Date, ISO-8601 string or epoch ms). Default now. */
  time?: Date | string | number | undefined;
}

/** `detail` of a contact event: camelCase, timestamps ISO-8601 strings, absent members left out. */
export interface ContactEventDetail {
  eventType: string;
  contactId: string;
  initialContactId: string;
  previousContactId?: string;
  channel: string;
  instanceArn: string;
  initiationMethod: string;
  initiationTimestamp: string;
  connectedToSystemTimestamp?: string;
  disconnectTimestamp?: string;
  queueInfo?: { queueArn: string; queueType: "STANDARD"; enqueueTimestamp: string };
  agentInfo?: { agentArn: string; connectedToAgentTimestamp: string };
  updatedProperties?: string[];
}

/** An Amazon Connect contact event in EventBridge's envelope, as an EventBridge rule delivers it to SQS. */
export interface ContactEventEnvelope {
  version: "0";
  /** EventBridge's event id (a UUID): consumers de-duplicate on it. */
  id: string;
  "detail-type": "Amazon Connect Contact Event";
  source: "aws.connect";
  account: string;
  /** When the event happened, ISO-8601 to the second. */
  time: string;
  region: string;
  /** The instance ARN and the contact ARN. */
  resources: [string, string];
  detail: ContactEventDetail;
}

/** An event the emulator cannot emit (unknown instance, contact, queue or agent; a contact that already exists). */
export class ContactEventError extends Error {
  override readonly name = "ContactEventError";
}

/**
 * Emits Amazon Connect contact events onto the emulator's SQS queue, as Connect → EventBridge → SQS
 * would deliver them. Emitting applies the event's state change to the contact in the data set first
 * (a new contact joins its instance, so DescribeContact and SearchContacts find it), then queues the
 * event: a DescribeContact made after the event was received answers at least the state it announced.
 *
 * New contacts are made by the data set's generator (`contactFactory`), as rich as the seeded ones,
 * with the instance's own queues and users, and drawn from `rng`, so a seed replays the same contacts.
 */
export class ContactEvents {
  private readonly factories = new Map<string, ContactFactory>();
  /** The finished contact planned for each contact made here, until COMPLETED; by `instanceId/contactId`. */
  private readonly plans = new Map<string, Contact>();

  constructor(
    private readonly dataset: Dataset,
    private readonly wire: ReadonlyMap<string, WireInstance>,
    private readonly queue: SqsQueue,
    private readonly stats: Stats,
    readonly rng: Rng,
  ) {}

  /** The instance events go to by default: the data set's first. */
  get defaultInstanceId(): string {
    return this.dataset.instances.keys().next().value ?? "";
  }

  /** Applies the event to its contact, queues it, and returns it. Throws `ContactEventError` for what it cannot emit. */
  emit(input: ContactEventInput): ContactEventEnvelope {
    if (typeof input.eventType !== "string" || input.eventType === "") throw new ContactEventError("eventType is required");
    const instanceId = input.instanceId ?? this.defaultInstanceId;
    const wire = this.wire.get(instanceId);
    if (!wire) throw new ContactEventError(`Instance not found: ${instanceId}`);
    const data = wire.data;
    const at = timeOf(input.time);
    const existing = input.contactId === undefined ? undefined : data.contacts.get(input.contactId);
    let contact: Contact;
    if (input.eventType === "INITIATED" && !existing) contact = this.initiate(data, input, at);
    else {
      if (input.contactId === undefined) throw new ContactEventError(`${input.eventType} needs a contactId`);
      if (!existing) throw new ContactEventError(`Contact not found: ${input.contactId} in instance ${instanceId}`);
      if (input.eventType === "INITIATED") throw new ContactEventError(`Contact ${input.contactId} already exists`);
      contact = applyContactEvent(existing, this.step(data, existing, input, at));
      if (input.eventType === "CONTACT_DATA_UPDATED" && input.attributes) {
        const initialId = existing.InitialContactId ?? existing.Id!;
        data.attributes.set(initialId, { ...data.attributes.get(initialId), ...input.attributes });
      }
      if (input.eventType === "COMPLETED") this.plans.delete(`${instanceId}/${existing.Id}`);
    }
    wire.putContact(contact);
    const event = envelope(this.dataset, data, contact, input, at);
    this.stats.event(input.eventType);
    this.queue.send(JSON.stringify(event));
    return event;
  }

  /** Queues `body` as it is (not a contact event, maybe not JSON), as a misdirected or malformed delivery would arrive. */
  sendRaw(body: string): { MessageId: string } {
    if (body === "") throw new ContactEventError("An SQS message body cannot be empty");
    return { MessageId: this.queue.send(body).MessageId };
  }

  // Private: the new contact an INITIATED event announces.
  private initiate(data: InstanceData, input: ContactEventInput, at: number): Contact {
    const factory = this.factoryFor(data);
    const previous = input.previousContactId === undefined ? undefined : data.contacts.get(input.previousContactId);
    if (input.previousContactId !== undefined && !previous) throw new ContactEventError(`Previous contact not found: ${input.previousContactId}`);
    const channel = input.channel ?? previous?.Channel ?? factory.channel();
    const method = (input.initiationMethod ?? (previous ? "TRANSFER" : factory.initiationMethod(channel, false))) as ContactInitiationMethod;
    const id = input.contactId ?? factory.id();
    const initialId = previous ? (previous.InitialContactId ?? previous.Id!) : undefined;
    const attributes = initialId ? (data.attributes.get(initialId) ?? previous?.Attributes) : factory.chainAttributes(channel);
    const plan = factory.contact({ id, channel, method, start: at, initialId, previousId: previous?.Id, attributes });
    this.plans.set(`${data.instanceId}/${id}`, plan);
    if (!initialId && attributes) data.attributes.set(id, { ...attributes });
    const references = factory.references(plan);
    if (references) data.references.set(id, references);
    return initiatedContact(plan, at);
  }

  // Private: what the event decides for an existing contact (queue, agent, ...), checked against the instance.
  private step(data: InstanceData, contact: Contact, input: ContactEventInput, at: number): LifecycleStep {
    const plan = this.plans.get(`${data.instanceId}/${contact.Id}`);
    const step: LifecycleStep = { eventType: input.eventType, at, plan, disconnectReason: input.disconnectReason };
    if (input.eventType === "QUEUED") {
      if (input.queueId !== undefined && !data.queues.has(input.queueId)) throw new ContactEventError(`Queue not found: ${input.queueId}`);
      step.queueId = input.queueId ?? plan?.QueueInfo?.Id ?? this.factoryFor(data).queueFor(contact.Channel ?? "VOICE");
      if (step.queueId === undefined) throw new ContactEventError(`Instance ${data.instanceId} has no queue`);
    }
    if (input.eventType === "CONNECTED_TO_AGENT") {
      if (input.agentId !== undefined && !data.users.has(input.agentId)) throw new ContactEventError(`User not found: ${input.agentId}`);
      const id = input.agentId ?? plan?.AgentInfo?.Id ?? this.factoryFor(data).agent();
      if (id === undefined) throw new ContactEventError(`Instance ${data.instanceId} has no user to connect the contact to`);
      step.agent = { id, hierarchy: this.factoryFor(data).hierarchyOf(id) };
    }
    if (input.eventType === "CONTACT_DATA_UPDATED") step.update = { attributes: input.attributes, name: input.name, description: input.description };
    return step;
  }

  private factoryFor(data: InstanceData): ContactFactory {
    let factory = this.factories.get(data.instanceId);
    if (!factory) this.factories.set(data.instanceId, (factory = contactFactory(data, this.rng)));
    return factory;
  }
}

// Private: the envelope.

function envelope(dataset: Dataset, data: InstanceData, contact: Contact, input: ContactEventInput, at: number): ContactEventEnvelope {
  const iso = (d: Date | undefined) => d?.toISOString();
  const queueId = contact.QueueInfo?.Id;
  const agentId = contact.AgentInfo?.Id;
  const updated = input.eventType === "CONTACT_DATA_UPDATED" ? (input.updatedProperties ?? updatedProperties({ attributes: input.attributes, name: input.name, description: input.description })) : undefined;
  const detail: ContactEventDetail = {
    eventType: input.eventType,
    contactId: contact.Id!,
    initialContactId: contact.InitialContactId ?? contact.Id!,
    ...(contact.PreviousContactId && { previousContactId: contact.PreviousContactId }),
    channel: contact.Channel!,
    instanceArn: data.instanceArn,
    initiationMethod: contact.InitiationMethod!,
    initiationTimestamp: iso(contact.InitiationTimestamp)!,
    ...(contact.ConnectedToSystemTimestamp && { connectedToSystemTimestamp: iso(contact.ConnectedToSystemTimestamp)! }),
    ...(contact.DisconnectTimestamp && { disconnectTimestamp: iso(contact.DisconnectTimestamp)! }),
    ...(queueId &&
      contact.QueueInfo?.EnqueueTimestamp && {
        queueInfo: { queueArn: data.queues.get(queueId)?.QueueArn ?? `${data.instanceArn}/queue/${queueId}`, queueType: "STANDARD" as const, enqueueTimestamp: iso(contact.QueueInfo.EnqueueTimestamp)! },
      }),
    ...(agentId &&
      contact.AgentInfo?.ConnectedToAgentTimestamp && {
        agentInfo: { agentArn: data.users.get(agentId)?.Arn ?? `${data.instanceArn}/agent/${agentId}`, connectedToAgentTimestamp: iso(contact.AgentInfo.ConnectedToAgentTimestamp)! },
      }),
    ...(updated && { updatedProperties: updated }),
  };
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "Amazon Connect Contact Event",
    source: "aws.connect",
    account: dataset.accountId,
    time: new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z"),
    region: dataset.region,
    resources: [data.instanceArn, contact.Arn!],
    detail,
  };
}

/** An event's time in epoch ms (whole milliseconds), now when not given. */
function timeOf(time: ContactEventInput["time"]): number {
  if (time === undefined) return Date.now();
  const ms = time instanceof Date ? time.getTime() : typeof time === "number" ? time : Date.parse(time);
  if (!Number.isFinite(ms)) throw new ContactEventError(`time is not a date: ${String(time)}`);
  return Math.round(ms);
}
