/**
 * The emulator's seeded data set: Amazon Connect contacts (in the SDK's own `Contact` shape,
 * `Date` objects included), plus the queues, users, contact attributes and contact references
 * the related read APIs answer with.
 *
 * Contract:
 * - `buildDataset(seed)` is a pure function of `seed`: no `Math.random`, no clock. Every
 *   timestamp lies in October–November 2026 (after Connect's 2021-11-12 cut-off) and has at
 *   most millisecond precision, so it round-trips exactly through the epoch-seconds wire format.
 * - The contacts named in `DEMO` exist, with the same ids, for every seed.
 * - Transfer chains follow Connect: the first contact of a chain has neither `PreviousContactId`
 *   nor `InitialContactId`; every later contact has both (`InitialContactId` = the chain's first).
 * - Bulk contacts are realistic per channel (chat metrics only on CHAT, e-mail recipients only on
 *   EMAIL, recordings on VOICE, no `SystemEndpoint` for MONITOR / QUEUE_TRANSFER / CALLBACK).
 *   The one exception is `DEMO.fullContactId`, a deliberately synthetic contact on which every
 *   member path of the SDK's `Contact` schema is populated.
 */
import type {
  AgentInfo,
  Channel,
  ChatMetrics,
  Contact,
  ContactEvaluation,
  ContactInitiationMethod,
  DeviceInfo,
  EndpointInfo,
  Expression,
  NextContactEntry,
  ParticipantState,
  Queue,
  RecordingInfo,
  ReferenceSummary,
  RoutingCriteria,
  SegmentAttributeValue,
  User,
} from "@aws-sdk/client-connect";
import { Rng } from "./rng.js";

export const REGION = "us-east-1";
export const ACCOUNT_ID = "123456789012";

/** Well-known values of the default data set, for banners, tests and benchmarks. */
export const DEMO = {
  seed: 1,
  region: REGION,
  accountId: ACCOUNT_ID,
  /** The main instance (≥1,000 contacts over VOICE, CHAT, TASK and EMAIL). */
  instanceId: "9f2c4e1a-7b3d-4c8e-a5f6-0d1e2f3a4b5c",
  instanceArn: `arn:aws:connect:${REGION}:${ACCOUNT_ID}:instance/9f2c4e1a-7b3d-4c8e-a5f6-0d1e2f3a4b5c`,
  /** A second, small instance (about 20 contacts). */
  secondInstanceId: "3b7e9d21-5c4a-4f8b-9e6d-1a2b3c4d5e6f",
  /** A contact of the second instance (it does not exist in the main instance). */
  secondInstanceContactId: "6a4d2c8e-1b9f-4e3a-a7c5-d0e8f6b2c419",
  /** Tail of a 12-contact VOICE transfer chain. */
  longChainTailId: "5e1f0c3a-9d24-4b7e-8a61-f2c94d07b3e8",
  longChainLength: 12,
  /** A contact on which every member path of the SDK's `Contact` schema is populated. */
  fullContactId: "a8d3f2b1-6c4e-4f7a-9b2d-e5c1f08a3d47",
  /** Tail of a TASK chain whose first contact has a `RelatedContactId` (a VOICE contact). */
  relatedChainContactId: "7c2b9e14-3f8a-4d6c-b1e5-9a0f2d4c6e81",
  /** A VOICE contact still in progress (no `DisconnectTimestamp`), tail of a 2-contact chain. */
  inProgressContactId: "e4b7a1c9-2d5f-4e8b-a3c6-7f1d9b2e5a04",
  /** A contact whose `InitiationMethod` ("CAMPAIGN_PREVIEW") and one agent state ("PAUSED")
   *  are values the SDK's enumerations do not know yet. */
  unknownEnumContactId: "b3c8e2d7-4a1f-4c9b-8e6d-2f5a7c1b9e30",
  unknownInitiationMethod: "CAMPAIGN_PREVIEW",
  /** Well-formed, but no such contact exists in any instance. */
  missingContactId: "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6",
  /** Queue and agent of the full contact (they exist in the main instance). */
  queueId: "2f8e6c4a-0b1d-4e3f-9a5c-7d6e8f0a1b2c",
  userId: "8b1d3f5e-7a9c-4b2d-8e0f-1a3c5e7b9d2f",
} as const;

/** One Connect instance's data. Maps are keyed by the resource's id. */
export interface InstanceData {
  instanceId: string;
  instanceArn: string;
  contacts: Map<string, Contact>;
  queues: Map<string, Queue>;
  users: Map<string, User>;
  /** GetContactAttributes: keyed by the chain's initial contact id. */
  attributes: Map<string, Record<string, string>>;
  /** ListContactReferences: keyed by contact id (contacts without references are absent). */
  references: Map<string, ReferenceSummary[]>;
}

export interface Dataset {
  seed: number;
  region: string;
  accountId: string;
  instances: Map<string, InstanceData>;
}

/** The ARN of a contact, as Connect writes it. */
export function contactArn(instanceId: string, contactId: string): string {
  return `arn:aws:connect:${REGION}:${ACCOUNT_ID}:instance/${instanceId}/contact/${contactId}`;
}

/** Looks a contact up by instance id and contact id. */
export function findContact(dataset: Dataset, instanceId: string, contactId: string): Contact | undefined {
  return dataset.instances.get(instanceId)?.contacts.get(contactId);
}

// Private: constants and small builders.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** First instant of the data set: 2026-10-01T00:00:00Z. */
const BASE = Date.UTC(2026, 9, 1);
/** The data set's "now": 2026-11-30T18:00:00Z (in-progress contacts started shortly before). */
const NOW = Date.UTC(2026, 10, 30, 18);

const FIRST_NAMES = ["Ana", "Ben", "Chloe", "Dmitri", "Eve", "Farah", "Gus", "Hana", "Ivan", "Jia", "Kofi", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoe"];
const LAST_NAMES = ["Alvarez", "Becker", "Chen", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jensen", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Quispe", "Rossi", "Silva", "Tanaka", "Usman", "Varga", "Weber", "Xu", "Yilmaz", "Zimmer"];
const BROWSERS: readonly DeviceInfo[] = [
  { PlatformName: "Chrome", PlatformVersion: "142.0.7444.60", OperatingSystem: "Windows 11" },
  { PlatformName: "Edge", PlatformVersion: "141.0.3537.92", OperatingSystem: "Windows 10" },
  { PlatformName: "Firefox", PlatformVersion: "144.0.2", OperatingSystem: "macOS 15.6" },
  { PlatformName: "Safari", PlatformVersion: "26.1", OperatingSystem: "macOS 26.1" },
];
const MOBILE_DEVICES: readonly DeviceInfo[] = [
  { PlatformName: "Safari", PlatformVersion: "26.1", OperatingSystem: "iOS 26.1" },
  { PlatformName: "Chrome", PlatformVersion: "142.0.7444.48", OperatingSystem: "Android 16" },
];

/** How often each channel occurs among the data set's chains. */
const CHANNEL_WEIGHTS: readonly (readonly [Channel, number])[] = [["VOICE", 45], ["CHAT", 25], ["TASK", 18], ["EMAIL", 12]];

interface QueueSpec {
  name: string;
  channels: Channel[];
  description: string;
}
const QUEUE_SPECS: QueueSpec[] = [
  { name: "Technical Support", channels: ["VOICE", "CHAT"], description: "Troubleshooting for devices and the mobile app" },
  { name: "BasicQueue", channels: ["VOICE", "CHAT", "TASK"], description: "Default queue" },
  { name: "Billing", channels: ["VOICE", "CHAT"], description: "Invoices, refunds and payment plans" },
  { name: "Sales", channels: ["VOICE", "CHAT"], description: "New orders and upgrades" },
  { name: "Retention", channels: ["VOICE"], description: "Cancellation requests" },
  { name: "Callbacks", channels: ["VOICE"], description: "Queued callbacks" },
  { name: "Email Support", channels: ["EMAIL"], description: "Inbound customer e-mail" },
  { name: "Back Office", channels: ["TASK"], description: "Follow-up tasks and claims" },
  { name: "Escalations", channels: ["TASK", "EMAIL", "VOICE"], description: "Supervisor escalations" },
];

/** Removes `undefined` members recursively, so stored objects equal what the SDK parses. */
function prune<T>(value: T): T {
  if (Array.isArray(value)) {
    for (const item of value) prune(item);
  } else if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (record[key] === undefined) delete record[key];
      else prune(record[key]);
    }
  }
  return value;
}

/** Moves every Date inside `value` by `deltaMs`. */
function shiftDates(value: unknown, deltaMs: number): void {
  if (Array.isArray(value)) value.forEach((item) => shiftDates(item, deltaMs));
  else if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    for (const [key, item] of Object.entries(record)) {
      if (item instanceof Date) record[key] = new Date(item.getTime() + deltaMs);
      else shiftDates(item, deltaMs);
    }
  }
}

/** A Date with millisecond precision at most. */
function at(ms: number): Date {
  return new Date(Math.round(ms));
}

function secondsBetween(a: number, b: number): number {
  return Math.round((b - a) / SECOND);
}

// Private: the per-instance builder.

interface Hierarchy {
  /** ARNs from level 1 down to the group itself. */
  path: string[];
  id: string;
}

interface ChainPlan {
  channel: Channel;
  length: number;
  start: number;
  inProgressTail?: boolean;
  tailId?: string;
  /** Per-position overrides of the initiation method. */
  methods?: (ContactInitiationMethod | undefined)[];
  relatedForFirst?: string;
}

class InstanceBuilder {
  readonly data: InstanceData;
  readonly queueIdsByChannel = new Map<Channel, string[]>();
  readonly userIds: string[] = [];
  readonly userGroups = new Map<string, Hierarchy>();
  readonly allContactIds: string[] = [];
  private readonly arnPrefix: string;

  constructor(
    readonly rng: Rng,
    instanceId: string,
    readonly alias: string,
    /** An instance built before, to add contacts to (its queues and users stay as they are). */
    existing?: InstanceData,
  ) {
    this.arnPrefix = existing?.instanceArn ?? `arn:aws:connect:${REGION}:${ACCOUNT_ID}:instance/${instanceId}`;
    this.data = existing ?? {
      instanceId,
      instanceArn: this.arnPrefix,
      contacts: new Map(),
      queues: new Map(),
      users: new Map(),
      attributes: new Map(),
      references: new Map(),
    };
    if (existing) this.adoptResources();
  }

  /** Learns an existing instance's queue channels (from the queue specs their names come from), users and agent hierarchy. */
  private adoptResources(): void {
    for (const [id, queue] of this.data.queues) {
      const channels = QUEUE_SPECS.find((spec) => spec.name === queue.Name)?.channels ?? (["VOICE", "CHAT", "TASK", "EMAIL"] as Channel[]);
      for (const channel of channels) this.queueIdsByChannel.set(channel, [...(this.queueIdsByChannel.get(channel) ?? []), id]);
    }
    // A group's path (level 1 down to the group) is only written on contacts; users name the group.
    const pathOfGroup = new Map<string, string[]>();
    for (const contact of this.data.contacts.values()) {
      const levels = contact.AgentInfo?.HierarchyGroups;
      const path = [levels?.Level1, levels?.Level2, levels?.Level3, levels?.Level4, levels?.Level5].flatMap((g) => (g?.Arn ? [g.Arn] : []));
      if (path.length > 0) pathOfGroup.set(path[path.length - 1]!.slice(path[path.length - 1]!.lastIndexOf("/") + 1), path);
    }
    for (const [id, user] of this.data.users) {
      this.userIds.push(id);
      const group = user.HierarchyGroupId;
      if (group) this.userGroups.set(id, { id: group, path: pathOfGroup.get(group) ?? [this.arn("agent-group", group)] });
    }
  }

  arn(kind: string, id: string): string {
    return `${this.arnPrefix}/${kind}/${id}`;
  }

  // Queues, hierarchy and users.

  buildQueues(specs: QueueSpec[], firstId?: string): void {
    const rng = this.rng;
    specs.forEach((spec, i) => {
      const id = i === 0 && firstId ? firstId : rng.uuid();
      const voice = spec.channels.includes("VOICE");
      const email = spec.channels.includes("EMAIL");
      const queue: Queue = {
        Name: spec.name,
        QueueArn: this.arn("queue", id),
        QueueId: id,
        Description: spec.description,
        OutboundCallerConfig: voice
          ? { OutboundCallerIdName: "Example Corp", OutboundCallerIdNumberId: rng.uuid(), OutboundFlowId: rng.uuid() }
          : undefined,
        OutboundEmailConfig: email ? { OutboundEmailAddressId: rng.uuid() } : undefined,
        HoursOfOperationId: rng.uuid(),
        MaxContacts: rng.chance(0.5) ? rng.pick([50, 100, 250, 500]) : undefined,
        Status: spec.name === "Retention" ? "DISABLED" : "ENABLED",
        Tags: { Department: spec.name.split(" ")[0]!, ManagedBy: "connect-graphql" },
        LastModifiedTime: at(BASE - rng.int(5, 120) * DAY + rng.int(0, DAY - 1)),
        LastModifiedRegion: REGION,
      };
      this.data.queues.set(id, prune(queue));
      for (const channel of spec.channels) {
        const list = this.queueIdsByChannel.get(channel) ?? [];
        list.push(id);
        this.queueIdsByChannel.set(channel, list);
      }
    });
  }

  buildUsers(count: number, firstId?: string): void {
    const rng = this.rng;
    // A five-level agent hierarchy: region > site > department > team > squad.
    const levels: Hierarchy[][] = [[], [], [], [], []];
    const grow = (parent: Hierarchy | undefined, level: number, names: string[]): void => {
      for (const name of names) {
        void name;
        const id = rng.uuid();
        const node: Hierarchy = { id, path: [...(parent?.path ?? []), this.arn("agent-group", id)] };
        levels[level]!.push(node);
        if (level < 4) grow(node, level + 1, level === 3 ? ["squad"] : ["a", "b"]);
      }
    };
    grow(undefined, 0, ["Americas", "EMEA"]);
    for (let i = 0; i < count; i++) {
      const id = i === 0 && firstId ? firstId : rng.uuid();
      // The first user sits at level 5, so the full contact has all five hierarchy levels.
      const group = i === 0 ? levels[4]![0]! : rng.pick(levels[rng.int(2, 4)]!);
      const first = FIRST_NAMES[i % FIRST_NAMES.length]!;
      const last = LAST_NAMES[(i * 7 + 3) % LAST_NAMES.length]!;
      const username = `${first[0]!.toLowerCase()}${last.toLowerCase()}${i >= FIRST_NAMES.length ? i : ""}`;
      const softPhone = rng.chance(0.85);
      const user: User = {
        Id: id,
        Arn: this.arn("agent", id),
        Username: username,
        IdentityInfo: {
          FirstName: first,
          LastName: last,
          Email: `${first.toLowerCase()}.${last.toLowerCase()}@example.com`,
          SecondaryEmail: rng.chance(0.3) ? `${username}@example.net` : undefined,
          Mobile: rng.chance(0.5) ? `+1206555${rng.digits(4)}` : undefined,
        },
        PhoneConfig: {
          PhoneType: softPhone ? "SOFT_PHONE" : "DESK_PHONE",
          AutoAccept: rng.chance(0.3),
          AfterContactWorkTimeLimit: rng.pick([0, 30, 60, 120]),
          DeskPhoneNumber: softPhone ? undefined : `+1206555${rng.digits(4)}`,
          PersistentConnection: rng.chance(0.2),
        },
        DirectoryUserId: rng.uuid(),
        SecurityProfileIds: [rng.uuid()],
        RoutingProfileId: rng.uuid(),
        HierarchyGroupId: group.id,
        Tags: { Team: `team-${(i % 6) + 1}` },
        AutoAcceptConfigs: [
          { Channel: "VOICE", AutoAccept: rng.chance(0.3), AgentFirstCallbackAutoAccept: rng.chance(0.5) },
          { Channel: "CHAT", AutoAccept: rng.chance(0.2) },
        ],
        AfterContactWorkConfigs: [
          {
            Channel: "VOICE",
            AfterContactWorkConfig: { AfterContactWorkTimeLimit: 60 },
            AgentFirstCallbackAfterContactWorkConfig: { AfterContactWorkTimeLimit: 30 },
          },
          { Channel: "CHAT", AfterContactWorkConfig: { AfterContactWorkTimeLimit: 30 } },
        ],
        PhoneNumberConfigs: [
          softPhone
            ? { Channel: "VOICE", PhoneType: "SOFT_PHONE" }
            : { Channel: "VOICE", PhoneType: "DESK_PHONE", PhoneNumber: `+1206555${rng.digits(4)}` },
        ],
        PersistentConnectionConfigs: [{ Channel: "VOICE", PersistentConnection: rng.chance(0.2) }],
        VoiceEnhancementConfigs: [{ Channel: "VOICE", VoiceEnhancementMode: rng.pick(["NONE", "NOISE_SUPPRESSION", "VOICE_ISOLATION"] as const) }],
        LastModifiedTime: at(BASE - rng.int(1, 200) * DAY + rng.int(0, DAY - 1)),
        LastModifiedRegion: REGION,
      };
      this.data.users.set(id, prune(user));
      this.userIds.push(id);
      this.userGroups.set(id, group);
    }
  }

  queueFor(channel: Channel): string {
    return this.rng.pick(this.queueIdsByChannel.get(channel) ?? [...this.data.queues.keys()]);
  }

  hierarchyOf(userId: string): AgentInfo["HierarchyGroups"] {
    const path = this.userGroups.get(userId)?.path ?? [];
    const level = (i: number) => (path[i] ? { Arn: path[i] } : undefined);
    return { Level1: level(0), Level2: level(1), Level3: level(2), Level4: level(3), Level5: level(4) };
  }

  // Contacts.

  addContact(contact: Contact, references?: ReferenceSummary[]): void {
    const id = contact.Id!;
    this.data.contacts.set(id, prune(contact));
    this.allContactIds.push(id);
    if (references && references.length > 0) this.data.references.set(id, prune(references));
  }

  /** Builds one transfer chain of realistic contacts; returns its contacts in order. */
  buildChain(plan: ChainPlan): Contact[] {
    const rng = this.rng;
    const chain: Contact[] = [];
    const attributes = rng.chance(0.75) ? this.chainAttributes(plan.channel) : undefined;
    let t = plan.start;
    for (let i = 0; i < plan.length; i++) {
      const last = i === plan.length - 1;
      const id = last && plan.tailId ? plan.tailId : rng.uuid();
      const method = plan.methods?.[i] ?? (i === 0 ? this.firstMethod(plan.channel) : this.nextMethod(plan.channel));
      const contact = this.realisticContact({
        id,
        channel: plan.channel,
        method,
        start: t,
        initialId: chain[0]?.Id,
        previousId: chain[i - 1]?.Id,
        inProgress: last && plan.inProgressTail === true,
        attributes,
        relatedContactId: i === 0 ? plan.relatedForFirst : undefined,
      });
      chain.push(contact);
      t = (contact.DisconnectTimestamp ?? contact.InitiationTimestamp!).getTime() + rng.int(200, 8000);
    }
    // Transfers made through a quick connect name the next contact in NextContacts.
    for (let i = 0; i < chain.length - 1; i++) {
      const next = chain[i + 1]!;
      if (next.InitiationMethod === "TRANSFER" && rng.chance(0.6)) chain[i]!.NextContacts = [this.quickConnectEntry(next)];
    }
    if (attributes) this.data.attributes.set(chain[0]!.Id!, { ...attributes });
    for (const contact of chain) this.addContact(contact, this.referencesFor(contact));
    return chain;
  }

  firstMethod(channel: Channel): ContactInitiationMethod {
    switch (channel) {
      case "VOICE":
        return this.rng.weighted<ContactInitiationMethod>([["INBOUND", 70], ["OUTBOUND", 10], ["API", 6], ["WEBRTC_API", 6], ["EXTERNAL_OUTBOUND", 3], ["MONITOR", 5]]);
      case "CHAT":
        return this.rng.weighted<ContactInitiationMethod>([["API", 85], ["INBOUND", 10], ["FLOW", 5]]);
      case "TASK":
        return this.rng.weighted<ContactInitiationMethod>([["API", 60], ["FLOW", 40]]);
      default:
        return this.rng.weighted<ContactInitiationMethod>([["INBOUND", 80], ["OUTBOUND", 20]]);
    }
  }

  nextMethod(channel: Channel): ContactInitiationMethod {
    switch (channel) {
      case "VOICE":
        return this.rng.weighted<ContactInitiationMethod>([["TRANSFER", 60], ["QUEUE_TRANSFER", 25], ["CALLBACK", 15]]);
      case "CHAT":
        return this.rng.weighted<ContactInitiationMethod>([["TRANSFER", 60], ["QUEUE_TRANSFER", 35], ["DISCONNECT", 5]]);
      case "TASK":
        return this.rng.weighted<ContactInitiationMethod>([["TRANSFER", 55], ["QUEUE_TRANSFER", 45]]);
      default:
        return this.rng.weighted<ContactInitiationMethod>([["AGENT_REPLY", 50], ["TRANSFER", 25], ["QUEUE_TRANSFER", 25]]);
    }
  }

  chainAttributes(channel: Channel): Record<string, string> {
    const rng = this.rng;
    const attrs: Record<string, string> = {
      language: rng.pick(["en-US", "es-US", "fr-CA", "de-DE"]),
      customerTier: rng.pick(["Bronze", "Silver", "Gold", "Platinum"]),
    };
    if (channel === "VOICE") attrs.ivrSelection = rng.pick(["billing", "support", "sales", "cancel"]);
    if (rng.chance(0.5)) attrs.accountNumber = `AC-${rng.digits(8)}`;
    if (rng.chance(0.3)) attrs.orderId = `ORD-${rng.digits(6)}`;
    if (rng.chance(0.2)) attrs.authenticated = rng.pick(["true", "false"]);
    return attrs;
  }

  private quickConnectEntry(next: Contact): NextContactEntry {
    const rng = this.rng;
    const type = rng.pick(["QUEUE", "USER", "PHONE_NUMBER", "FLOW"] as const);
    const names = { QUEUE: "Transfer to Billing", USER: "Transfer to supervisor", PHONE_NUMBER: "Warm transfer to partner desk", FLOW: "Transfer to survey flow" };
    return {
      Type: "QUICK_CONNECT",
      NextContactMetadata: {
        QuickConnectContactData: {
          ContactId: next.Id,
          InitiationTimestamp: next.InitiationTimestamp,
          QuickConnectId: rng.uuid(),
          QuickConnectName: names[type],
          QuickConnectType: type,
        },
      },
    };
  }

  private phone(): string {
    return `+1${this.rng.pick(["206", "425", "312", "646", "415", "512"])}555${this.rng.digits(4)}`;
  }

  private systemPhone(): EndpointInfo {
    return { Type: "TELEPHONE_NUMBER", Address: `+1800555${this.rng.digits(4)}`, DisplayName: "Example Corp Support" };
  }

  private segmentAttributes(channel: Channel, method: ContactInitiationMethod, sms: boolean): Record<string, SegmentAttributeValue> | undefined {
    const rng = this.rng;
    const attrs: Record<string, SegmentAttributeValue> = {};
    if (channel === "CHAT") attrs["connect:Subtype"] = { ValueString: sms ? "connect:SMS" : rng.pick(["connect:Chat", "connect:Chat", "connect:WhatsApp", "connect:Apple"]) };
    else if (channel === "EMAIL") attrs["connect:Subtype"] = { ValueString: "connect:Email" };
    else if (channel === "VOICE" && method === "WEBRTC_API") attrs["connect:Subtype"] = { ValueString: "connect:WebRTC" };
    else if (channel === "TASK" && rng.chance(0.3)) attrs["connect:Subtype"] = { ValueString: "connect:Guide" };
    if (channel === "EMAIL" || channel === "VOICE") attrs["connect:Direction"] = { ValueString: method === "OUTBOUND" || method === "AGENT_REPLY" || method === "API" ? "OUTBOUND" : "INBOUND" };
    if (channel === "TASK" && rng.chance(0.4)) attrs["connect:CreatedByUser"] = { ValueArn: this.arn("agent", rng.pick(this.userIds)) };
    if (rng.chance(0.25)) attrs["customer:Tier"] = { ValueString: rng.pick(["Silver", "Gold", "Platinum"]) };
    if (rng.chance(0.15)) attrs["customer:OpenOrders"] = { ValueInteger: rng.int(0, 12) };
    return Object.keys(attrs).length > 0 ? attrs : undefined;
  }

  private routingCriteria(start: number, agentId: string | undefined): RoutingCriteria {
    const rng = this.rng;
    const language: Expression = { AttributeCondition: { Name: "Language", Value: rng.pick(["English", "Spanish", "French"]), ProficiencyLevel: rng.int(2, 5), ComparisonOperator: "NumberGreaterOrEqualTo" } };
    const skill: Expression = { AttributeCondition: { Name: "Technology", Value: rng.pick(["Router", "Mobile App", "Billing Portal"]), Range: { MinProficiencyLevel: 2, MaxProficiencyLevel: 5 }, ComparisonOperator: "Range" } };
    const steps: RoutingCriteria["Steps"] = [
      { Expression: { AndExpression: [language, skill] }, Expiry: { DurationInSeconds: 30, ExpiryTimestamp: at(start + 30 * SECOND) }, Status: "EXPIRED" },
      { Expression: language, Status: "JOINED" },
    ];
    if (agentId && rng.chance(0.3)) {
      steps.unshift({ Expression: { AttributeCondition: { MatchCriteria: { AgentsCriteria: { AgentIds: [agentId] } }, ComparisonOperator: "Match" } }, Expiry: { DurationInSeconds: 15, ExpiryTimestamp: at(start + 15 * SECOND) }, Status: "EXPIRED" });
    }
    return { Steps: steps, ActivationTimestamp: at(start), Index: steps.length - 1 };
  }

  private evaluations(after: number): Record<string, ContactEvaluation> {
    const rng = this.rng;
    const id = rng.uuid();
    const status = rng.weighted<"COMPLETE" | "IN_PROGRESS" | "DELETED">([["COMPLETE", 70], ["IN_PROGRESS", 25], ["DELETED", 5]]);
    const startTs = after + rng.int(1, 48) * HOUR;
    return {
      [id]: {
        FormId: rng.uuid(),
        EvaluationArn: this.arn("contact-evaluation", id),
        Status: status,
        StartTimestamp: at(startTs),
        EndTimestamp: status === "IN_PROGRESS" ? undefined : at(startTs + rng.int(5, 40) * MINUTE),
        DeleteTimestamp: status === "DELETED" ? at(startTs + rng.int(2, 10) * DAY) : undefined,
        ExportLocation: status === "COMPLETE" ? `s3://connect-evaluations-${ACCOUNT_ID}/${this.alias}/evaluations/${id}.json` : undefined,
      },
    };
  }

  private voiceRecordings(id: string, start: number, end: number, screen: boolean): RecordingInfo[] {
    const rng = this.rng;
    const day = new Date(start).toISOString().slice(0, 10).replace(/-/g, "/");
    const stamp = new Date(start).toISOString().slice(0, 16).replace(/-/g, "").replace(":", "");
    const recordings: RecordingInfo[] = [
      {
        StorageType: "S3",
        Location: `connect-${this.alias}-recordings/connect/${this.alias}/CallRecordings/${day}/${id}_${stamp}_UTC.wav`,
        MediaStreamType: "AUDIO",
        ParticipantType: "AGENT",
        StartTimestamp: at(start),
        StopTimestamp: at(end),
        Status: "AVAILABLE",
      },
    ];
    if (screen) {
      recordings.push({
        StorageType: "S3",
        Location: `connect-${this.alias}-recordings/connect/${this.alias}/ScreenRecordings/${day}/${id}_${stamp}_UTC.mp4`,
        MediaStreamType: "VIDEO",
        ParticipantType: "AGENT",
        StartTimestamp: at(start + rng.int(1, 5) * SECOND),
        StopTimestamp: at(end),
        Status: rng.chance(0.9) ? "AVAILABLE" : "DELETED",
      });
      const last = recordings[recordings.length - 1]!;
      if (last.Status === "DELETED") last.DeletionReason = "Deleted by retention policy";
    }
    return recordings;
  }

  private chatMetrics(start: number, end: number, agentConnected: number | undefined): ChatMetrics {
    const rng = this.rng;
    const customerMsgs = rng.int(2, 30);
    const agentMsgs = agentConnected ? rng.int(2, 30) : 0;
    const bot = rng.int(1, 8);
    // Persistent chats are occasionally closed weeks later: ConversationCloseTimeInMillis > 2^31.
    const closeMs = rng.chance(0.02) ? rng.int(25, 40) * DAY : end - start;
    const firstResponse = agentConnected ? rng.int(4, 90) * SECOND + rng.int(0, 999) : undefined;
    return {
      ChatContactMetrics: {
        MultiParty: rng.chance(0.05),
        TotalMessages: customerMsgs + agentMsgs + bot,
        TotalBotMessages: bot,
        TotalBotMessageLengthInChars: bot * rng.int(40, 160),
        ConversationCloseTimeInMillis: closeMs,
        ConversationTurnCount: Math.min(customerMsgs, agentMsgs + bot),
        AgentFirstResponseTimestamp: agentConnected && firstResponse ? at(agentConnected + firstResponse) : undefined,
        AgentFirstResponseTimeInMillis: firstResponse,
      },
      AgentMetrics: agentConnected
        ? {
            ParticipantId: this.rng.uuid(),
            ParticipantType: "AGENT",
            ConversationAbandon: false,
            MessagesSent: agentMsgs,
            NumResponses: Math.max(1, agentMsgs - rng.int(0, 2)),
            MessageLengthInChars: agentMsgs * rng.int(30, 120),
            TotalResponseTimeInMillis: agentMsgs * rng.int(5000, 40000),
            MaxResponseTimeInMillis: rng.int(40000, 180000),
            LastMessageTimestamp: at(end - rng.int(1, 30) * SECOND),
          }
        : undefined,
      CustomerMetrics: {
        ParticipantId: this.rng.uuid(),
        ParticipantType: "CUSTOMER",
        ConversationAbandon: !agentConnected,
        MessagesSent: customerMsgs,
        NumResponses: Math.max(1, customerMsgs - 1),
        MessageLengthInChars: customerMsgs * rng.int(20, 90),
        TotalResponseTimeInMillis: customerMsgs * rng.int(4000, 60000),
        MaxResponseTimeInMillis: rng.int(30000, 240000),
        LastMessageTimestamp: at(end - rng.int(5, 60) * SECOND),
      },
    };
  }

  referencesFor(contact: Contact): ReferenceSummary[] | undefined {
    const rng = this.rng;
    const refs: ReferenceSummary[] = [];
    if (contact.Channel === "TASK") {
      const n = rng.int(0, 6);
      for (let i = 0; i < n; i++) {
        const kind = rng.pick(["Url", "String", "Number", "Date", "Email", "Attachment"] as const);
        switch (kind) {
          case "Url":
            refs.push({ Url: { Name: "Order page", Value: `https://shop.example.com/orders/${rng.digits(6)}` } });
            break;
          case "String":
            refs.push({ String: { Name: "Summary", Value: rng.pick(["Refund requested", "Replacement shipped", "Waiting for customer"]) } });
            break;
          case "Number":
            refs.push({ Number: { Name: "Amount", Value: `${rng.int(5, 900)}.${rng.digits(2)}` } });
            break;
          case "Date":
            refs.push({ Date: { Name: "Due", Value: new Date(contact.InitiationTimestamp!.getTime() + rng.int(1, 14) * DAY).toISOString().slice(0, 10) } });
            break;
          case "Email":
            refs.push({ Email: { Name: "Customer e-mail", Value: `customer${rng.digits(4)}@example.org` } });
            break;
          default: {
            const attId = rng.uuid();
            refs.push({ Attachment: { Name: `receipt-${rng.digits(4)}.pdf`, Value: `s3://connect-${this.alias}-attachments/${attId}`, Status: "APPROVED", Arn: this.arn("file", attId) } });
          }
        }
      }
    } else if (contact.Channel === "EMAIL") {
      refs.push({ EmailMessage: { Name: "message.eml", Arn: this.arn("file", rng.uuid()) } });
      refs.push({ EmailMessagePlainText: { Name: "message.txt", Arn: this.arn("file", rng.uuid()) } });
      if (rng.chance(0.3)) {
        const attId = rng.uuid();
        refs.push({ Attachment: { Name: `photo-${rng.digits(3)}.jpg`, Value: `s3://connect-${this.alias}-attachments/${attId}`, Status: rng.pick(["APPROVED", "PROCESSING"] as const), Arn: this.arn("file", attId) } });
      }
    } else if (contact.Channel === "VOICE" && contact.AgentInfo && contact.DisconnectTimestamp && rng.chance(0.3)) {
      refs.push({ ContactAnalysis: { Name: "Contact Lens analysis", Value: `s3://connect-${this.alias}-recordings/Analysis/Voice/${contact.Id}_analysis.json`, Status: "AVAILABLE", Arn: this.arn("file", rng.uuid()), AnalyticsMode: "PostContact", IsRedacted: rng.chance(0.5) } });
    }
    return refs.length > 0 ? refs : undefined;
  }

  /** One realistic contact for its channel and initiation method. */
  realisticContact(spec: {
    id: string;
    channel: Channel;
    method: ContactInitiationMethod;
    start: number;
    initialId?: string | undefined;
    previousId?: string | undefined;
    inProgress: boolean;
    attributes?: Record<string, string> | undefined;
    relatedContactId?: string | undefined;
  }): Contact {
    const rng = this.rng;
    const { id, channel, method } = spec;
    const jitter = () => rng.int(0, 999);
    const init = spec.start;
    const monitor = method === "MONITOR";
    const campaign = channel === "VOICE" && method === "OUTBOUND" && rng.chance(0.6);
    const sms = channel === "CHAT" && rng.chance(0.2);
    const webrtc = method === "WEBRTC_API";

    // Routing timeline.
    const system = channel === "VOICE" || channel === "CHAT" ? init + rng.int(0, 2000) : undefined;
    const queued = !monitor && method !== "EXTERNAL_OUTBOUND";
    const enqueue = queued ? init + rng.int(3, 45) * SECOND + jitter() : undefined;
    const waitCap = channel === "EMAIL" || channel === "TASK" ? 3 * HOUR : 6 * MINUTE;
    const agentPicked = monitor || method === "EXTERNAL_OUTBOUND" || rng.chance(channel === "VOICE" ? 0.86 : 0.9);
    const ring = agentPicked ? (enqueue ?? init) + rng.int(2000, waitCap) : undefined;
    const accepted = ring !== undefined ? ring + rng.int(1500, 12000) : undefined;
    const connected = accepted !== undefined ? accepted + rng.int(100, 900) : undefined;
    const handle = { VOICE: [60, 1200], CHAT: [120, 1800], TASK: [60, 3600], EMAIL: [120, 2400] }[channel] ?? [60, 600];
    const end = connected !== undefined ? connected + rng.int(handle[0]!, handle[1]!) * SECOND + jitter() : (enqueue ?? init) + rng.int(10, 400) * SECOND + jitter();
    const disconnect = spec.inProgress ? undefined : end;
    const agentId = agentPicked ? rng.pick(this.userIds) : undefined;
    const acwStart = disconnect !== undefined && agentId && !monitor ? disconnect : undefined;
    const acwEnd = acwStart !== undefined ? acwStart + rng.int(5, 150) * SECOND + jitter() : undefined;
    const paused = (channel === "TASK" || channel === "EMAIL") && connected !== undefined && rng.chance(0.2);
    const pauseCount = paused ? rng.int(1, 3) : 0;
    const pauseSeconds = paused ? rng.int(30, 900) : 0;

    let agent: AgentInfo | undefined;
    if (agentId && connected !== undefined) {
      const device = rng.pick(BROWSERS);
      agent = {
        Id: agentId,
        AcceptedByAgentTimestamp: accepted !== undefined && !monitor ? at(accepted) : undefined,
        ConnectedToAgentTimestamp: at(connected),
        AgentPauseDurationInSeconds: paused ? pauseSeconds : undefined,
        HierarchyGroups: this.hierarchyOf(agentId),
        DeviceInfo: channel === "VOICE" || channel === "CHAT" ? { ...device } : undefined,
        Capabilities: webrtc && rng.chance(0.5) ? { Video: "SEND", ScreenShare: "SEND" } : undefined,
        AfterContactWorkDuration: acwStart !== undefined && acwEnd !== undefined ? secondsBetween(acwStart, acwEnd) : undefined,
        AfterContactWorkStartTimestamp: acwStart !== undefined ? at(acwStart) : undefined,
        AfterContactWorkEndTimestamp: acwEnd !== undefined ? at(acwEnd) : undefined,
        AgentInitiatedHoldDuration: channel === "VOICE" && !monitor && rng.chance(0.3) ? rng.int(5, 240) : undefined,
        StateTransitions: monitor
          ? [
              { State: "CONNECTED", StateStartTimestamp: at(connected), StateEndTimestamp: disconnect !== undefined ? at(disconnect) : undefined },
              ...(disconnect !== undefined ? [{ State: "DISCONNECTED" as const, StateStartTimestamp: at(disconnect) }] : []),
            ]
          : undefined,
        VoiceEnhancementMode: channel === "VOICE" ? rng.pick(["NONE", "NOISE_SUPPRESSION", "VOICE_ISOLATION"] as const) : undefined,
      };
    }

    const customerPhone = this.phone();
    let customerEndpoint: EndpointInfo | undefined;
    let systemEndpoint: EndpointInfo | undefined;
    if (channel === "VOICE") {
      customerEndpoint = webrtc
        ? { Type: "VOIP", Address: `web-${rng.hex(12)}`, DisplayName: "Web caller" }
        : monitor
          ? undefined
          : { Type: "TELEPHONE_NUMBER", Address: customerPhone };
      systemEndpoint = this.systemPhone();
    } else if (channel === "CHAT" && sms) {
      customerEndpoint = { Type: "TELEPHONE_NUMBER", Address: customerPhone };
      systemEndpoint = { Type: "TELEPHONE_NUMBER", Address: `+1800555${rng.digits(4)}`, DisplayName: "Example Corp SMS" };
    } else if (channel === "EMAIL") {
      const first = rng.pick(FIRST_NAMES);
      customerEndpoint = { Type: "EMAIL_ADDRESS", Address: `${first.toLowerCase()}.${rng.digits(3)}@example.org`, DisplayName: `${first} ${rng.pick(LAST_NAMES)}` };
      systemEndpoint = { Type: "EMAIL_ADDRESS", Address: "support@example.com", DisplayName: "Example Corp Support" };
    }
    if (method === "MONITOR" || method === "QUEUE_TRANSFER" || method === "CALLBACK") systemEndpoint = undefined;

    const taskName = channel === "TASK" ? rng.pick(["Process refund", "Call back customer", "Review damaged item claim", "Update shipping address", "Verify identity documents"]) : undefined;
    const subject = channel === "EMAIL" ? rng.pick(["Where is my order?", "Invoice question", "Re: your support request", "Cannot log in", "Return label"]) : undefined;
    const description = channel === "TASK" ? `Follow up on ${rng.pick(["order", "case", "claim"])} ${rng.digits(6)}` : undefined;
    const scheduled = channel === "TASK" && rng.chance(0.3) ? init + rng.int(1, 72) * HOUR : undefined;
    const lastUpdate = Math.max(acwEnd ?? 0, disconnect ?? 0, connected ?? 0, enqueue ?? 0, init) + rng.int(1, 30) * SECOND + jitter();
    const globalResiliency = rng.chance(0.08);

    const contact: Contact = {
      Arn: this.arn("contact", id),
      Id: id,
      InitialContactId: spec.initialId,
      PreviousContactId: spec.previousId,
      ContactAssociationId: channel === "EMAIL" ? (spec.initialId ?? id) : undefined,
      InitiationMethod: method,
      Name: taskName ?? subject,
      Description: description,
      Channel: channel,
      QueueInfo: queued && enqueue !== undefined ? { Id: this.queueFor(method === "CALLBACK" ? "VOICE" : channel), EnqueueTimestamp: at(enqueue) } : undefined,
      AgentInfo: agent,
      InitiationTimestamp: at(init),
      DisconnectTimestamp: disconnect !== undefined ? at(disconnect) : undefined,
      LastUpdateTimestamp: at(lastUpdate),
      LastPausedTimestamp: paused && connected !== undefined ? at(connected + rng.int(1, 10) * MINUTE) : undefined,
      LastResumedTimestamp: paused && connected !== undefined ? at(connected + rng.int(11, 20) * MINUTE) : undefined,
      RingStartTimestamp: ring !== undefined && (channel === "VOICE" || channel === "CHAT") ? at(ring) : undefined,
      TotalPauseCount: paused ? pauseCount : undefined,
      TotalPauseDurationInSeconds: paused ? pauseSeconds : undefined,
      ScheduledTimestamp: scheduled !== undefined ? at(scheduled) : undefined,
      RelatedContactId: spec.relatedContactId,
      WisdomInfo:
        (channel === "VOICE" || channel === "CHAT") && agent && rng.chance(0.2)
          ? {
              SessionArn: `arn:aws:wisdom:${REGION}:${ACCOUNT_ID}:session/${rng.uuid()}/${rng.uuid()}`,
              AiAgents: [{ AiUseCase: "AgentAssistance", AiAgentVersionId: `${rng.uuid()}:${rng.int(1, 9)}`, AiAgentEscalated: false }],
            }
          : undefined,
      CustomerId: rng.chance(0.5) ? rng.hex(32) : undefined,
      CustomerEndpoint: customerEndpoint,
      SystemEndpoint: systemEndpoint,
      QueueTimeAdjustmentSeconds: queued && rng.chance(0.1) ? rng.pick([-60, 30, 120, 300]) : undefined,
      QueuePriority: queued && rng.chance(0.4) ? rng.int(1, 9) : undefined,
      Tags: rng.chance(0.3) ? { Department: rng.pick(["Billing", "Support", "Sales"]), CostCenter: `cc-${rng.digits(4)}` } : undefined,
      ConnectedToSystemTimestamp: system !== undefined ? at(system) : undefined,
      RoutingCriteria: queued && enqueue !== undefined && (channel === "VOICE" || channel === "CHAT") && rng.chance(0.15) ? this.routingCriteria(enqueue, agentId) : undefined,
      Customer:
        webrtc || (channel === "CHAT" && rng.chance(0.4))
          ? { DeviceInfo: { ...rng.pick(webrtc ? BROWSERS : MOBILE_DEVICES) }, Capabilities: webrtc ? { Video: "SEND", ScreenShare: rng.chance(0.5) ? "SEND" : undefined } : undefined }
          : undefined,
      Campaign: campaign ? { CampaignId: rng.uuid() } : undefined,
      AnsweringMachineDetectionStatus: campaign ? rng.weighted([["HUMAN_ANSWERED", 70], ["VOICEMAIL_BEEP", 15], ["VOICEMAIL_NO_BEEP", 5], ["SIT_TONE_BUSY", 5], ["AMD_UNRESOLVED", 5]] as const) : undefined,
      CustomerVoiceActivity: campaign ? { GreetingStartTimestamp: at(init + rng.int(3, 9) * SECOND), GreetingEndTimestamp: at(init + rng.int(10, 14) * SECOND) } : undefined,
      QualityMetrics:
        channel === "VOICE" && agent && disconnect !== undefined && rng.chance(0.6)
          ? {
              Agent: { Audio: { QualityScore: rng.int(30, 50) / 10, PotentialQualityIssues: rng.chance(0.2) ? [rng.pick(["HighPacketLoss", "HighRoundTripTime", "HighJitterBuffer"])] : [] } },
              Customer: { Audio: { QualityScore: rng.int(25, 50) / 10, PotentialQualityIssues: rng.chance(0.15) ? ["HighPacketLoss"] : [] } },
            }
          : undefined,
      ChatMetrics: channel === "CHAT" && disconnect !== undefined ? this.chatMetrics(init, disconnect, connected) : undefined,
      DisconnectDetails: channel === "VOICE" && disconnect !== undefined && rng.chance(0.05) ? { PotentialDisconnectIssue: rng.pick(["AGENT_CONNECTIVITY_ISSUE", "AGENT_NETWORK_DISCONNECT", "CUSTOMER_CONNECTIVITY_ISSUE"]) } : undefined,
      AdditionalEmailRecipients:
        channel === "EMAIL" && rng.chance(0.4)
          ? {
              ToList: [{ Address: "orders@example.com", DisplayName: "Example Corp Orders" }],
              CcList: rng.chance(0.5) ? [{ Address: `${rng.pick(FIRST_NAMES).toLowerCase()}@example.org`, DisplayName: rng.pick(FIRST_NAMES) }] : undefined,
            }
          : undefined,
      SegmentAttributes: this.segmentAttributes(channel, method, sms),
      Recordings: channel === "VOICE" && agent && connected !== undefined && disconnect !== undefined && !monitor ? this.voiceRecordings(id, connected, disconnect, rng.chance(0.1)) : undefined,
      DisconnectReason:
        disconnect !== undefined
          ? channel === "TASK"
            ? rng.weighted([["AGENT_COMPLETED", 70], ["EXPIRED", 10], ["API", 10], ["CONTACT_FLOW_DISCONNECT", 10]] as const)
            : agent
              ? rng.weighted([["CUSTOMER_DISCONNECT", 50], ["AGENT_DISCONNECT", 35], ["CONTACT_FLOW_DISCONNECT", 5], ["THIRD_PARTY_DISCONNECT", 5], ["TELECOM_PROBLEM", 5]] as const)
              : rng.weighted([["CUSTOMER_DISCONNECT", 70], ["CONTACT_FLOW_DISCONNECT", 30]] as const)
          : undefined,
      ContactEvaluations: (channel === "VOICE" || channel === "CHAT") && agent && disconnect !== undefined && !monitor && rng.chance(0.12) ? this.evaluations(disconnect) : undefined,
      TaskTemplateInfo: channel === "TASK" && rng.chance(0.6) ? { Arn: this.arn("task-template", rng.uuid()), Name: rng.pick(["Refund request", "Callback request", "Damage claim"]) } : undefined,
      ContactDetails: channel === "TASK" && rng.chance(0.5) ? { Name: taskName, Description: description } : undefined,
      OutboundStrategy: undefined,
      Attributes: spec.attributes ? { ...spec.attributes } : undefined,
      GlobalResiliencyMetadata: globalResiliency ? { ActiveRegion: REGION, OriginRegion: "us-west-2", TrafficDistributionGroupId: rng.uuid() } : undefined,
    };
    if (globalResiliency && contact.AgentInfo) contact.AgentInfo.ActiveRegion = REGION;
    // Preview campaigns: the agent previews the contact before the call is placed.
    if (campaign && agent && connected !== undefined && rng.chance(0.3)) {
      contact.OutboundStrategy = { Type: "AGENT_FIRST", Config: { AgentFirst: { Preview: { PostAcceptTimeoutConfig: { DurationInSeconds: 60 }, AllowedUserActions: ["CALL", "DISCARD"] } } } };
      agent.PreviewEndTimestamp = at(connected - rng.int(1, 20) * SECOND);
    }
    return contact;
  }
}

// Private: the hand-built contacts DEMO names.

/** The fully populated contact: every member path of `Contact$`, recursive shapes several levels deep. */
function fullContact(b: InstanceBuilder, spec: { id: string; initialId: string; previousId: string; nextId: string; nextStart: number; relatedId: string; start: number }): Contact {
  const { id, start } = spec;
  const s = (sec: number, ms = 0) => at(start + sec * SECOND + ms);
  const agentId = DEMO.userId;
  const agentArn = b.arn("agent", agentId);
  const evalA = "4d9e2b7c-8a1f-4e3d-b6c5-0f2a9d8e7c61";
  const evalB = "5e0f3c8d-9b2a-4f4e-a7d6-1a3b0e9f8d72";
  const and = (...e: Expression[]): Expression => ({ AndExpression: e });
  const or = (...e: Expression[]): Expression => ({ OrExpression: e });
  const cond = (Name: string, Value: string, ProficiencyLevel: number): Expression => ({ AttributeCondition: { Name, Value, ProficiencyLevel, ComparisonOperator: "NumberGreaterOrEqualTo" } });
  const ranged = (Name: string, Value: string, min: number, max: number): Expression => ({ AttributeCondition: { Name, Value, Range: { MinProficiencyLevel: min, MaxProficiencyLevel: max }, ComparisonOperator: "Range" } });
  const notCond = (Name: string, Value: string): Expression => ({ NotAttributeCondition: { Name, Value, ProficiencyLevel: 1, Range: { MinProficiencyLevel: 1, MaxProficiencyLevel: 5 }, MatchCriteria: { AgentsCriteria: { AgentIds: [b.userIds[3]!] } }, ComparisonOperator: "NumberGreaterOrEqualTo" } });
  const preferred: Expression = { AttributeCondition: { MatchCriteria: { AgentsCriteria: { AgentIds: [agentId, b.userIds[1]!] } }, ComparisonOperator: "Match" } };
  const day = new Date(start).toISOString().slice(0, 10).replace(/-/g, "/");
  return {
    Arn: b.arn("contact", id),
    Id: id,
    InitialContactId: spec.initialId,
    PreviousContactId: spec.previousId,
    ContactAssociationId: spec.initialId,
    InitiationMethod: "TRANSFER",
    Name: "Escalated router replacement",
    Description: "Customer reports intermittent Wi-Fi drops after firmware 4.2; transferred to tier 2.",
    Channel: "VOICE",
    QueueInfo: { Id: DEMO.queueId, EnqueueTimestamp: s(14, 250) },
    AgentInfo: {
      Id: agentId,
      AcceptedByAgentTimestamp: s(71, 480),
      PreviewEndTimestamp: s(9, 120),
      ConnectedToAgentTimestamp: s(72, 5),
      AgentPauseDurationInSeconds: 95,
      HierarchyGroups: b.hierarchyOf(agentId),
      DeviceInfo: { PlatformName: "Chrome", PlatformVersion: "142.0.7444.60", OperatingSystem: "Windows 11" },
      Capabilities: { Video: "SEND", ScreenShare: "SEND" },
      AfterContactWorkDuration: 84,
      AfterContactWorkStartTimestamp: s(842, 910),
      AfterContactWorkEndTimestamp: s(926, 910),
      AgentInitiatedHoldDuration: 137,
      StateTransitions: [
        { State: "INITIAL", StateStartTimestamp: s(66), StateEndTimestamp: s(72, 5) },
        { State: "CONNECTED", StateStartTimestamp: s(72, 5), StateEndTimestamp: s(842, 910) },
        { State: "DISCONNECTED", StateStartTimestamp: s(842, 910) },
      ],
      VoiceEnhancementMode: "VOICE_ISOLATION",
      ActiveRegion: REGION,
    },
    InitiationTimestamp: s(0, 345),
    DisconnectTimestamp: s(842, 910),
    LastUpdateTimestamp: s(931, 2),
    LastPausedTimestamp: s(300, 17),
    LastResumedTimestamp: s(395, 17),
    RingStartTimestamp: s(66),
    TotalPauseCount: 1,
    TotalPauseDurationInSeconds: 95,
    ScheduledTimestamp: s(3600),
    RelatedContactId: spec.relatedId,
    WisdomInfo: {
      SessionArn: `arn:aws:wisdom:${REGION}:${ACCOUNT_ID}:session/0b5c8e2f-3d1a-4c7b-9e6f-8a2d4c6e0b13/6f1e9d3c-2b8a-4e7d-a5c4-3b1f0e9d8c27`,
      AiAgents: [
        { AiUseCase: "AgentAssistance", AiAgentVersionId: "c7e2a9d4-1f3b-4a6c-8e5d-9b0f2a4c6e81:4", AiAgentEscalated: false },
        { AiUseCase: "SelfService", AiAgentVersionId: "e1b4d7a0-3c6f-4e9a-b2d5-8f1a3c5e7b90:2", AiAgentEscalated: true },
      ],
    },
    CustomerId: "7f3e9a1c5b2d4e6f8a0b1c2d3e4f5a6b",
    CustomerEndpoint: { Type: "TELEPHONE_NUMBER", Address: "+12065550147", DisplayName: "Rosa Silva" },
    SystemEndpoint: { Type: "TELEPHONE_NUMBER", Address: "+18005550199", DisplayName: "Example Corp Support" },
    QueueTimeAdjustmentSeconds: -120,
    QueuePriority: 2,
    Tags: { Department: "Support", CostCenter: "cc-4410", "aws:connect:systemTag": "escalation" },
    ConnectedToSystemTimestamp: s(0, 901),
    RoutingCriteria: {
      Steps: [
        { Expression: preferred, Expiry: { DurationInSeconds: 20, ExpiryTimestamp: s(34, 250) }, Status: "EXPIRED" },
        {
          // Three levels: AND( OR( AND(lang, tech), lang' ), NOT(...), OR( OR(range), AND(range) ) )
          Expression: and(
            or(and(cond("Language", "English", 4), cond("Technology", "Router", 3)), cond("Language", "Spanish", 5)),
            notCond("Team", "Trainees"),
            or(or(ranged("Technology", "Mesh Wi-Fi", 2, 5)), and(ranged("Technology", "Firmware", 3, 5)), notCond("Shift", "Night")),
            and(or(cond("Tier", "2", 1)), and(cond("Certification", "Networking", 2)), notCond("Location", "Offsite")),
          ),
          Expiry: { DurationInSeconds: 45, ExpiryTimestamp: s(79, 250) },
          Status: "JOINED",
        },
        { Expression: or(cond("Language", "English", 1), ranged("Language", "Spanish", 3, 5)), Expiry: { DurationInSeconds: 60 }, Status: "INACTIVE" },
        { Expression: notCond("Team", "Trainees"), Status: "INACTIVE" },
        { Expression: ranged("Technology", "Router", 1, 5), Status: "INACTIVE" },
        { Expression: cond("Language", "English", 1), Status: "INACTIVE" },
      ],
      ActivationTimestamp: s(14, 250),
      Index: 1,
    },
    Customer: {
      DeviceInfo: { PlatformName: "Safari", PlatformVersion: "26.1", OperatingSystem: "iOS 26.1" },
      Capabilities: { Video: "SEND", ScreenShare: "SEND" },
    },
    Campaign: { CampaignId: "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d" },
    AnsweringMachineDetectionStatus: "HUMAN_ANSWERED",
    CustomerVoiceActivity: { GreetingStartTimestamp: s(4, 200), GreetingEndTimestamp: s(6, 850) },
    QualityMetrics: {
      Agent: { Audio: { QualityScore: 4.6, PotentialQualityIssues: ["HighRoundTripTime"] } },
      Customer: { Audio: { QualityScore: 3.1, PotentialQualityIssues: ["HighPacketLoss", "HighJitterBuffer"] } },
    },
    ChatMetrics: {
      ChatContactMetrics: {
        MultiParty: true,
        TotalMessages: 58,
        TotalBotMessages: 6,
        TotalBotMessageLengthInChars: 742,
        ConversationCloseTimeInMillis: 2_678_400_000,
        ConversationTurnCount: 21,
        AgentFirstResponseTimestamp: s(95, 333),
        AgentFirstResponseTimeInMillis: 23_328,
      },
      AgentMetrics: {
        ParticipantId: "2c4e6a8b-0d1f-4b3c-9e5a-7c9e1b3d5f70",
        ParticipantType: "AGENT",
        ConversationAbandon: false,
        MessagesSent: 24,
        NumResponses: 22,
        MessageLengthInChars: 2_310,
        TotalResponseTimeInMillis: 3_100_000_000,
        MaxResponseTimeInMillis: 185_000,
        LastMessageTimestamp: s(830, 4),
      },
      CustomerMetrics: {
        ParticipantId: "3d5f7b9c-1e2a-4c4d-8f6b-8d0f2c4e6a81",
        ParticipantType: "CUSTOMER",
        ConversationAbandon: false,
        MessagesSent: 28,
        NumResponses: 26,
        MessageLengthInChars: 1_904,
        TotalResponseTimeInMillis: 940_000,
        MaxResponseTimeInMillis: 240_000,
        LastMessageTimestamp: s(838, 620),
      },
    },
    DisconnectDetails: { PotentialDisconnectIssue: "AGENT_CONNECTIVITY_ISSUE" },
    AdditionalEmailRecipients: {
      ToList: [{ Address: "orders@example.com", DisplayName: "Example Corp Orders" }],
      CcList: [
        { Address: "rosa.silva@example.org", DisplayName: "Rosa Silva" },
        { Address: "tier2@example.com", DisplayName: "Tier 2 Support" },
      ],
    },
    SegmentAttributes: {
      "connect:Subtype": { ValueString: "connect:Telephony" },
      "connect:Direction": { ValueString: "INBOUND" },
      "connect:CreatedByUser": { ValueArn: agentArn },
      "customer:OpenOrders": { ValueInteger: 3 },
      "customer:Profile": {
        ValueMap: {
          tier: { ValueString: "Platinum" },
          lifetimeOrders: { ValueInteger: 148 },
          accountManager: { ValueArn: b.arn("agent", b.userIds[2]!) },
          devices: {
            ValueList: [
              {
                ValueMap: {
                  model: { ValueString: "Router X2" },
                  ports: { ValueInteger: 4 },
                  firmware: { ValueList: [{ ValueString: "4.2.0" }, { ValueInteger: 420 }, { ValueArn: `arn:aws:iot:${REGION}:${ACCOUNT_ID}:thing/router-x2-0147` }, { ValueList: [{ ValueString: "beta" }] }, { ValueMap: { channel: { ValueString: "stable" } } }] },
                  owner: { ValueMap: { name: { ValueString: "Rosa Silva" }, ids: { ValueList: [{ ValueInteger: 1 }] } } },
                  arn: { ValueArn: `arn:aws:iot:${REGION}:${ACCOUNT_ID}:thing/router-x2-0147` },
                },
              },
              { ValueString: "Mesh Node M1" },
              { ValueInteger: 2 },
              { ValueArn: `arn:aws:iot:${REGION}:${ACCOUNT_ID}:thing/mesh-m1-0147` },
              { ValueList: [{ ValueString: "spare" }, { ValueMap: { note: { ValueString: "unopened" } } }] },
            ],
          },
          preferences: { ValueMap: { contactTime: { ValueString: "evenings" }, nested: { ValueMap: { depth: { ValueInteger: 3 } } } } },
        },
      },
      "customer:RecentCases": {
        ValueList: [
          { ValueString: "CASE-88121" },
          { ValueInteger: 88122 },
          { ValueArn: b.arn("case", "88123") },
          { ValueMap: { id: { ValueString: "CASE-88124" }, tags: { ValueList: [{ ValueString: "wifi" }] }, link: { ValueMap: { rel: { ValueString: "duplicate" } } }, count: { ValueInteger: 2 }, owner: { ValueArn: agentArn } } },
          { ValueList: [{ ValueString: "archived" }, { ValueInteger: 7 }, { ValueArn: b.arn("case", "77001") }, { ValueList: [{ ValueString: "deep" }] }, { ValueMap: { k: { ValueString: "v" } } }] },
        ],
      },
    },
    Recordings: [
      {
        StorageType: "S3",
        Location: `connect-main-recordings/connect/main/CallRecordings/${day}/${id}_20261014T0931_UTC.wav`,
        MediaStreamType: "AUDIO",
        ParticipantType: "AGENT",
        StartTimestamp: s(72, 5),
        StopTimestamp: s(842, 910),
        Status: "AVAILABLE",
        UnprocessedTranscriptLocation: `connect-main-recordings/Analysis/Voice/Unprocessed/${day}/${id}_analysis.json`,
      },
      {
        StorageType: "KINESIS_VIDEO_STREAM",
        Location: `arn:aws:kinesisvideo:${REGION}:${ACCOUNT_ID}:stream/connect-main-contact-${id}/1791964812345`,
        MediaStreamType: "AUDIO",
        ParticipantType: "CUSTOMER",
        FragmentStartNumber: "91343852333181432392682062623193226765553926522",
        FragmentStopNumber: "91343852333181432397633822781090683411244136970",
        StartTimestamp: s(0, 901),
        StopTimestamp: s(842, 910),
        Status: "AVAILABLE",
      },
      {
        StorageType: "S3",
        Location: `connect-main-recordings/connect/main/ScreenRecordings/${day}/${id}_20261014T0931_UTC.mp4`,
        MediaStreamType: "VIDEO",
        ParticipantType: "AGENT",
        StartTimestamp: s(75),
        StopTimestamp: s(842, 910),
        Status: "DELETED",
        DeletionReason: "Deleted by supervisor: captured customer payment details",
      },
    ],
    DisconnectReason: "AGENT_DISCONNECT",
    ContactEvaluations: {
      [evalA]: {
        FormId: "6f1a4d7b-0c3e-4f6a-b9d2-2b4c6e8f0a13",
        EvaluationArn: b.arn("contact-evaluation", evalA),
        Status: "COMPLETE",
        StartTimestamp: s(7200),
        EndTimestamp: s(8100, 500),
        ExportLocation: `s3://connect-evaluations-${ACCOUNT_ID}/main/evaluations/${evalA}.json`,
      },
      [evalB]: {
        FormId: "7a2b5e8c-1d4f-4a7b-8c3e-3c5d7f9a1b24",
        EvaluationArn: b.arn("contact-evaluation", evalB),
        Status: "DELETED",
        StartTimestamp: s(9000),
        EndTimestamp: s(9600),
        DeleteTimestamp: s(86400 * 3),
      },
    },
    TaskTemplateInfo: { Arn: b.arn("task-template", "8b3c6f9d-2e5a-4b8c-9d4f-4d6e8a0b2c35"), Name: "Escalation follow-up" },
    ContactDetails: { Name: "Escalated router replacement", Description: "Tier 2 escalation" },
    OutboundStrategy: {
      Type: "AGENT_FIRST",
      Config: { AgentFirst: { Preview: { PostAcceptTimeoutConfig: { DurationInSeconds: 45 }, AllowedUserActions: ["CALL", "DISCARD"] } } },
    },
    Attributes: { language: "en-US", customerTier: "Platinum", ivrSelection: "support", accountNumber: "AC-00480147", orderId: "ORD-771204" },
    NextContacts: [
      {
        Type: "QUICK_CONNECT",
        NextContactMetadata: {
          QuickConnectContactData: {
            ContactId: spec.nextId,
            InitiationTimestamp: at(spec.nextStart),
            QuickConnectId: "9c4d7a0e-3f6b-4c9d-8e5a-5e7f9b1c3d46",
            QuickConnectName: "Transfer to Tier 3",
            QuickConnectType: "QUEUE",
          },
        },
      },
    ],
    GlobalResiliencyMetadata: { ActiveRegion: REGION, OriginRegion: "us-west-2", TrafficDistributionGroupId: "0d5e8b1f-4a7c-4d0e-9f6b-6f8a0c2d4e57" },
  };
}

function fullContactReferences(b: InstanceBuilder): ReferenceSummary[] {
  const file = (n: string) => b.arn("file", n);
  return [
    { Url: { Name: "Knowledge article", Value: "https://support.example.com/kb/router-x2-firmware" } },
    { Attachment: { Name: "router-photo.jpg", Value: "s3://connect-main-attachments/router-photo.jpg", Status: "APPROVED", Arn: file("0e6f9c2a-5b8d-4e1f-a0c7-7a9b1d3e5f68") } },
    { EmailMessage: { Name: "message.eml", Arn: file("1f7a0d3b-6c9e-4f2a-b1d8-8b0c2e4f6a79") } },
    { EmailMessageRedacted: { Name: "message-redacted.eml", Arn: file("2a8b1e4c-7d0f-4a3b-82e9-9c1d3f5a7b80") } },
    { EmailMessagePlainText: { Name: "message.txt", Arn: file("3b9c2f5d-8e1a-4b4c-93fa-0d2e4a6b8c91") } },
    { EmailMessagePlainTextRedacted: { Name: "message-redacted.txt", Arn: file("4cad3a6e-9f2b-4c5d-a40b-1e3f5b7c9da2") } },
    { String: { Name: "Summary", Value: "Replacement router approved" } },
    { Number: { Name: "Refund amount", Value: "129.99" } },
    { Date: { Name: "Replacement due", Value: "2026-10-21" } },
    { Email: { Name: "Customer e-mail", Value: "rosa.silva@example.org" } },
    { ContactAnalysis: { Name: "Contact Lens analysis", Value: "s3://connect-main-recordings/Analysis/Voice/analysis.json", Status: "AVAILABLE", Arn: file("5dbe4b7f-a03c-4d6e-b51c-2f4a6c8d0eb3"), AnalyticsMode: "PostContact", IsRedacted: true } },
  ];
}

// Public: the builders.

/**
 * Makes new contacts for an instance of a built data set, as realistic as the seeded ones, for
 * contacts that appear while the emulator runs (contact events, live traffic). It uses the
 * instance's own queues (by the channels their names serve), users and agent hierarchy, and draws
 * from `rng` only, so a run is reproducible for a seed.
 */
export interface ContactFactory {
  /** A new contact id. */
  id(): string;
  /** A channel, weighted like the data set's chains. */
  channel(): Channel;
  /** How a chain's first contact on `channel` starts, or (`transfer`) how a later one of its chain does. */
  initiationMethod(channel: Channel, transfer: boolean): ContactInitiationMethod;
  /** A queue of the instance serving `channel`. */
  queueFor(channel: Channel): string;
  /** A user of the instance, as an agent. */
  agent(): string;
  /** An agent's hierarchy groups, as a contact's AgentInfo names them. */
  hierarchyOf(userId: string): AgentInfo["HierarchyGroups"];
  /** The attributes a new chain gets (most have some), or undefined. */
  chainAttributes(channel: Channel): Record<string, string> | undefined;
  /**
   * A finished contact starting at `start` (epoch ms): every member its whole life would have,
   * on the seeded data set's timeline (seconds to queue, minutes with an agent).
   */
  contact(spec: { id: string; channel: Channel; method: ContactInitiationMethod; start: number; initialId?: string | undefined; previousId?: string | undefined; attributes?: Record<string, string> | undefined }): Contact;
  /** The references (ListContactReferences) a contact like `contact` has, if any. */
  references(contact: Contact): ReferenceSummary[] | undefined;
}

/** A `ContactFactory` for `data`, an instance of a data set made by `buildDataset`. */
export function contactFactory(data: InstanceData, rng: Rng): ContactFactory {
  const b = new InstanceBuilder(rng, data.instanceId, data.instanceId === DEMO.instanceId ? "main" : data.instanceId.slice(0, 8), data);
  return {
    id: () => rng.uuid(),
    channel: () => rng.weighted(CHANNEL_WEIGHTS),
    initiationMethod: (channel, transfer) => (transfer ? b.nextMethod(channel) : b.firstMethod(channel)),
    queueFor: (channel) => b.queueFor(channel),
    agent: () => rng.pick(b.userIds),
    hierarchyOf: (userId) => prune(b.hierarchyOf(userId)),
    chainAttributes: (channel) => (rng.chance(0.75) ? b.chainAttributes(channel) : undefined),
    contact: (spec) => prune(b.realisticContact({ ...spec, inProgress: false })),
    references: (contact) => {
      const refs = b.referencesFor(contact);
      return refs && prune(refs);
    },
  };
}

/**
 * Builds the seeded data set: the main instance (`DEMO.instanceId`, ≥1,000 contacts) and a
 * second small instance (`DEMO.secondInstanceId`). Deterministic for a given seed.
 */
export function buildDataset(seed = 1): Dataset {
  const rng = new Rng(seed);
  const instances = new Map<string, InstanceData>();

  // Main instance.
  const main = new InstanceBuilder(rng, DEMO.instanceId, "main");
  main.buildQueues(QUEUE_SPECS, DEMO.queueId);
  main.buildUsers(40, DEMO.userId);

  // The special chains DEMO names (fixed ids, fixed placement in time).
  const longChain = main.buildChain({ channel: "VOICE", length: DEMO.longChainLength, start: Date.UTC(2026, 9, 6, 14, 2, 11, 125), tailId: DEMO.longChainTailId, methods: ["INBOUND"] });

  const fullStart = Date.UTC(2026, 9, 14, 9, 30, 12);
  const fullHead = main.realisticContact({ id: main.rng.uuid(), channel: "VOICE", method: "INBOUND", start: fullStart - 5 * MINUTE, inProgress: false });
  // The transfer ends the head contact just before the full contact starts.
  shiftDates(fullHead, fullStart - 400 - fullHead.DisconnectTimestamp!.getTime());
  const tailStart = fullStart + 843 * SECOND + 410;
  const tailId = main.rng.uuid();
  const full = fullContact(main, { id: DEMO.fullContactId, initialId: fullHead.Id!, previousId: fullHead.Id!, nextId: tailId, nextStart: tailStart, relatedId: longChain[0]!.Id!, start: fullStart });
  const fullTail = main.realisticContact({ id: tailId, channel: "VOICE", method: "TRANSFER", start: tailStart, initialId: fullHead.Id, previousId: full.Id, inProgress: false, attributes: full.Attributes });
  fullHead.Attributes = { ...full.Attributes! };
  main.data.attributes.set(fullHead.Id!, { ...full.Attributes! });
  main.addContact(fullHead);
  main.addContact(full, fullContactReferences(main));
  main.addContact(fullTail);

  const relatedVoice = main.buildChain({ channel: "VOICE", length: 1, start: Date.UTC(2026, 9, 20, 16, 45, 3, 12), methods: ["INBOUND"] });
  main.buildChain({ channel: "TASK", length: 4, start: Date.UTC(2026, 9, 20, 17, 5, 40, 500), tailId: DEMO.relatedChainContactId, methods: ["API", "TRANSFER", "QUEUE_TRANSFER", "TRANSFER"], relatedForFirst: relatedVoice[0]!.Id });
  main.buildChain({ channel: "VOICE", length: 2, start: NOW - 25 * MINUTE, tailId: DEMO.inProgressContactId, methods: ["INBOUND", "TRANSFER"], inProgressTail: true });

  const previewChain = main.buildChain({ channel: "VOICE", length: 1, start: Date.UTC(2026, 10, 3, 15, 12, 44), tailId: DEMO.unknownEnumContactId, methods: ["OUTBOUND"] });
  const preview = previewChain[0]!;
  const previewStart = preview.InitiationTimestamp!.getTime();
  preview.InitiationMethod = DEMO.unknownInitiationMethod as string as ContactInitiationMethod;
  preview.Campaign = { CampaignId: "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e" };
  preview.OutboundStrategy = { Type: "AGENT_FIRST", Config: { AgentFirst: { Preview: { PostAcceptTimeoutConfig: { DurationInSeconds: 30 }, AllowedUserActions: ["CALL"] } } } };
  const previewAgent = preview.AgentInfo ?? (preview.AgentInfo = { Id: DEMO.userId, HierarchyGroups: main.hierarchyOf(DEMO.userId) });
  previewAgent.PreviewEndTimestamp = at(previewStart + 21 * SECOND);
  previewAgent.StateTransitions = [
    { State: "PAUSED" as string as ParticipantState, StateStartTimestamp: at(previewStart + 2 * SECOND), StateEndTimestamp: at(previewStart + 21 * SECOND) },
    { State: "CONNECTED", StateStartTimestamp: at(previewStart + 21 * SECOND) },
  ];

  // The bulk: chains over all four channels until the instance holds at least 1,000 contacts.
  // Lengths mostly 1–3; every 40th chain is 10–12 long so several long chains always exist.
  let chainIndex = 0;
  while (main.data.contacts.size < 1200) {
    const channel = rng.weighted<Channel>(CHANNEL_WEIGHTS);
    const length = chainIndex % 40 === 7 ? rng.int(10, 12) : rng.weighted([[1, 45], [2, 25], [3, 14], [4, 7], [5, 4], [6, 2], [7, 1], [8, 1], [9, 1]] as const);
    const inProgress = rng.chance(0.015);
    const start = inProgress ? NOW - rng.int(2, 90) * MINUTE : BASE + rng.int(0, 59 * DAY);
    const earlier = main.allContactIds.length > 0 && channel === "TASK" && rng.chance(0.3) ? rng.pick(main.allContactIds) : undefined;
    main.buildChain({ channel, length, start, inProgressTail: inProgress, relatedForFirst: earlier });
    chainIndex++;
  }
  instances.set(DEMO.instanceId, main.data);

  // Second instance: a small one with its own queues and users.
  const second = new InstanceBuilder(rng, DEMO.secondInstanceId, "second");
  second.buildQueues([QUEUE_SPECS[1]!, QUEUE_SPECS[6]!, QUEUE_SPECS[7]!]);
  second.buildUsers(5);
  second.buildChain({ channel: "VOICE", length: 3, start: Date.UTC(2026, 9, 9, 10, 0, 0), tailId: DEMO.secondInstanceContactId, methods: ["INBOUND"] });
  while (second.data.contacts.size < 20) {
    const channel = rng.pick<Channel>(["VOICE", "CHAT", "TASK", "EMAIL"]);
    second.buildChain({ channel, length: Math.min(rng.int(1, 3), 20 - second.data.contacts.size), start: BASE + rng.int(0, 59 * DAY) });
  }
  instances.set(DEMO.secondInstanceId, second.data);

  return { seed, region: REGION, accountId: ACCOUNT_ID, instances };
}
