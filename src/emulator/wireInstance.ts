import type { Contact, ContactSearchSummary } from "@aws-sdk/client-connect";
import type { InstanceData } from "./dataset.js";

/** Connect's JSON: Dates as epoch seconds (milliseconds kept as the fraction). */
export function toWireJson(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    const raw = this[key];
    return raw instanceof Date ? raw.getTime() / 1000 : v;
  });
}

/** A contact as SearchContacts scans it: the contact, and its summary serialized once. */
export interface SearchEntry {
  contact: Contact;
  json: string;
}

/**
 * The pre-serialized wire form of one instance: answers are bytes made once, so serving a read
 * costs no JSON work. A contact changed by a contact event is written again with `putContact`.
 */
export class WireInstance {
  readonly contacts = new Map<string, Buffer>();
  readonly queues = new Map<string, Buffer>();
  readonly users = new Map<string, Buffer>();
  readonly search: SearchEntry[] = [];
  private readonly searchIndex = new Map<string, number>();
  private readonly attributeBodies = new Map<string, Buffer>();

  constructor(
    readonly data: InstanceData,
    private readonly describeContactAttributes = true,
  ) {
    for (const contact of data.contacts.values()) this.writeContact(contact);
    for (const [id, queue] of data.queues) this.queues.set(id, Buffer.from(toWireJson({ Queue: queue })));
    for (const [id, user] of data.users) this.users.set(id, Buffer.from(toWireJson({ User: user })));
  }

  /**
   * Stores `contact` in the data set (replacing the one with its id) and rewrites its DescribeContact,
   * SearchContacts and GetContactAttributes answers.
   */
  putContact(contact: Contact): void {
    this.data.contacts.set(contact.Id!, contact);
    this.writeContact(contact);
    this.attributeBodies.delete(contact.InitialContactId ?? contact.Id!);
  }

  /** GetContactAttributes body for any contact of a chain (the chain's attributes), or undefined. */
  attributes(contactId: string): Buffer | undefined {
    const contact = this.data.contacts.get(contactId);
    if (!contact) return undefined;
    const initialId = contact.InitialContactId ?? contactId;
    let body = this.attributeBodies.get(initialId);
    if (!body) {
      body = Buffer.from(JSON.stringify({ Attributes: this.data.attributes.get(initialId) ?? {} }));
      this.attributeBodies.set(initialId, body);
    }
    return body;
  }

  // Private: (re)writes one contact's DescribeContact body and search entry.
  private writeContact(contact: Contact): void {
    const id = contact.Id!;
    const described = this.describeContactAttributes ? contact : { ...contact, Attributes: undefined };
    this.contacts.set(id, Buffer.from(toWireJson({ Contact: described })));
    const entry = { contact, json: toWireJson(searchSummary(contact)) };
    const index = this.searchIndex.get(id);
    if (index === undefined) {
      this.searchIndex.set(id, this.search.length);
      this.search.push(entry);
    } else this.search[index] = entry;
  }
}

/** The SearchContacts summary of a contact (Connect's `ContactSearchSummary`). */
export function searchSummary(c: Contact): ContactSearchSummary {
  const summary: ContactSearchSummary = {
    Arn: c.Arn,
    Id: c.Id,
    InitialContactId: c.InitialContactId,
    PreviousContactId: c.PreviousContactId,
    InitiationMethod: c.InitiationMethod,
    Channel: c.Channel,
    QueueInfo: c.QueueInfo && { Id: c.QueueInfo.Id, EnqueueTimestamp: c.QueueInfo.EnqueueTimestamp },
    AgentInfo: c.AgentInfo && { Id: c.AgentInfo.Id, ConnectedToAgentTimestamp: c.AgentInfo.ConnectedToAgentTimestamp },
    InitiationTimestamp: c.InitiationTimestamp,
    DisconnectTimestamp: c.DisconnectTimestamp,
    ScheduledTimestamp: c.ScheduledTimestamp,
    Name: c.Name,
    RoutingCriteria: c.RoutingCriteria,
    Tags: c.Tags,
    GlobalResiliencyMetadata: c.GlobalResiliencyMetadata,
    AiAgentInfo: c.WisdomInfo?.AiAgents?.map((a) => ({ AiAgentVersionId: a.AiAgentVersionId, AiAgentEscalated: a.AiAgentEscalated, AiUseCase: a.AiUseCase })),
  };
  if (c.SegmentAttributes) {
    // The summary's segment attribute values carry only ValueString and ValueMap.
    const attrs: NonNullable<ContactSearchSummary["SegmentAttributes"]> = {};
    for (const [key, value] of Object.entries(c.SegmentAttributes)) {
      if (value.ValueString !== undefined || value.ValueMap !== undefined) attrs[key] = { ValueString: value.ValueString, ValueMap: value.ValueMap };
    }
    if (Object.keys(attrs).length > 0) summary.SegmentAttributes = attrs;
  }
  return summary;
}
