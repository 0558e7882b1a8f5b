import { Contact$ } from "@aws-sdk/client-connect";
import { badUserInput } from "./errors.js";
import { graphqlModel } from "./graphqlModel.js";

/**
 * Where a contact lives: the region selects the Connect endpoint (and its quota), the instance and
 * contact ids address DescribeContact. Every upstream read of a contact is keyed by one of these.
 */
export interface ContactRef {
  readonly region: string;
  readonly instanceId: string;
  readonly contactId: string;
  /**
   * The account the ARN that named the contact spells, when an ARN named it (`contactArnArgument`,
   * `instanceArgument`). Not part of the contact's key: the gateway sends Connect ids, never ARNs, so
   * Connect answers from the gateway's own account whatever account the ARN spelled; the loader
   * (`Loaders.readContact`) answers NOT_FOUND unless Connect's answer is of this account. Absent on
   * contacts named by ids, by relations and by events.
   */
  readonly accountId?: string | undefined;
}

/** A map member as GraphQL serves it: `{ key, value }` entries in the order upstream sent them. */
export interface Entry<V> {
  readonly key: string;
  readonly value: V;
}

/**
 * A contact's `queueInfo` and `agentInfo` know only ids; the contact they came from knows the region
 * and instance. The contact's model gives them its ref as `$ref` (see `toContactModel`), so `queue`
 * and `agent` resolve where the contact lives. Other fields are read by the default resolver.
 */
export interface QueueInfoModel {
  readonly $ref: ContactRef;
  readonly id?: string;
  readonly [field: string]: unknown;
}
export interface AgentInfoModel {
  readonly $ref: ContactRef;
  readonly id?: string;
  readonly afterContactWorkStartTimestamp?: string;
  readonly afterContactWorkEndTimestamp?: string;
  readonly [field: string]: unknown;
}

/**
 * A contact as resolvers see it: the GraphQL shape of `Contact` (see `graphqlModel`: camelCase
 * fields, ISO timestamps, maps as entry lists), which graphql-js's default resolver reads field by
 * field, plus the ref it was read under, so relations resolve in the same region and instance.
 * `queueInfo` and `agentInfo` carry that ref too, for their joins. Built once per answer (the
 * contact cache holds it) and never mutated. The members the gateway's own code reads are typed;
 * the other 200-odd fields are there for the default resolver.
 */
export interface ContactModel {
  readonly $ref: ContactRef;
  readonly id?: string;
  readonly arn?: string;
  readonly channel?: string;
  readonly initialContactId?: string;
  readonly previousContactId?: string;
  readonly relatedContactId?: string;
  readonly queueInfo?: QueueInfoModel;
  readonly agentInfo?: AgentInfoModel;
  readonly disconnectTimestamp?: string;
  readonly lastUpdateTimestamp?: string;
  /** DescribeContact's own attributes, when it returned them. */
  readonly attributes?: Array<Entry<string>>;
  readonly [field: string]: unknown;
}

/** The string every cache and loader keys a contact by. */
export function contactKey(ref: ContactRef): string {
  // `join` makes one flat string; concatenation makes a rope of three nodes plus, once hashed, a
  // flat copy: ~100 bytes more for every key the cross-request cache holds (src/upstream/tieredCache.ts).
  return [ref.region, ref.instanceId, ref.contactId].join("/");
}

const contactShape = graphqlModel(Contact$);

/** What each model was made from (its JSON text, or the answer object), until the cache takes it. */
const answers = new WeakMap<ContactModel, string | object>();

/**
 * The model of DescribeContact's `Contact` read under `ref`. `answer` is the contact as upstream
 * answered it: the answer's parsed JSON (`ConnectUpstream`, timestamps in epoch seconds) or an
 * SDK-parsed object (`Date`s); `json` is that answer's JSON text when the caller has it (the body
 * Connect sent, `{"Contact":{…}}`), which the cache then keeps as it is instead of serializing the
 * model again.
 */
export function toContactModel(answer: object, ref: ContactRef, json?: string): ContactModel {
  const model = build(answer, ref);
  answers.set(model, json ?? answer);
  return model;
}

/**
 * The JSON of the DescribeContact answer `model` was made from (`{"Contact":{…}}`, the form the
 * contact cache keeps in process and in Redis), handed out once: the cache takes it when it stores
 * the model, so the model does not keep its answer alive beside the cache's copy. An answer that
 * came without its text (an SDK-parsed object) is serialized here, its `Date`s as ISO strings.
 */
export function contactAnswerJson(model: ContactModel): string {
  const answer = answers.get(model);
  if (answer === undefined) throw new Error(`No answer is known for the model of ${describeRef(model.$ref)}`);
  answers.delete(model);
  return typeof answer === "string" ? answer : JSON.stringify({ Contact: answer });
}

/**
 * The model again from a cached answer (`contactAnswerJson`'s JSON, parsed). Throws for anything
 * else (an entry an earlier version wrote), which the cache treats as a miss.
 */
export function contactFromAnswer(answer: { readonly Contact?: unknown }, ref: ContactRef): ContactModel {
  const contact = answer.Contact;
  if (contact === null || typeof contact !== "object") throw new TypeError("Not a DescribeContact answer");
  return build(contact, ref);
}

// Private: the model, its join points given the ref.
function build(contact: unknown, ref: ContactRef): ContactModel {
  const model = contactShape(contact) as Record<string, unknown>;
  if (model.queueInfo) (model.queueInfo as Record<string, unknown>).$ref = ref;
  if (model.agentInfo) (model.agentInfo as Record<string, unknown>).$ref = ref;
  model.$ref = ref;
  return model as unknown as ContactModel;
}

/** The ref a contact key (`contactKey`) names: ids and regions never contain `/`. */
export function refOfContactKey(key: string): ContactRef {
  const [region = "", instanceId = "", contactId = ""] = key.split("/");
  return { region, instanceId, contactId };
}

/**
 * The contact named by `contactId` in the same region and instance as `from`, or `null` when the id
 * is absent: relations never leave the instance of the contact they start from.
 */
export function relatedRef(from: ContactRef, contactId: string | undefined): ContactRef | null {
  return contactId ? { region: from.region, instanceId: from.instanceId, contactId } : null;
}

// Connect's own limits on the path parameters of DescribeContact.
export const INSTANCE_ID_MAX = 100;
export const CONTACT_ID_MAX = 256;

/**
 * Instance and contact ids are opaque to Connect but always printable: ASCII letters, digits and
 * `-`/`_`/`.`/`:` (UUIDs in practice). Anything else (slashes, spaces, control characters) could only
 * ever be a 4xx upstream, so it is refused before a call is spent on it.
 */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/** Why `value` is not an acceptable id, or `null` when it is. */
export function idProblem(value: string, max: number): string | null {
  if (value.length === 0) return "must not be empty";
  if (value.length > max) return `must be at most ${max} characters long (got ${value.length})`;
  if (!ID_PATTERN.test(value)) return "may contain only letters, digits, '-', '_', '.' and ':'";
  return null;
}

/**
 * The regions where Amazon Connect is offered: the service endpoints AWS lists for it
 * (https://docs.aws.amazon.com/general/latest/gr/connect_region.html, the same list as the admin
 * guide's https://docs.aws.amazon.com/connect/latest/adminguide/regions.html). The SDK has no such
 * list: its endpoint rules make a hostname for any region. `CONNECT_REGIONS` defaults to these;
 * the emulator's data set lives in `us-east-1`, and the specs that read it in a second region use
 * others of this list.
 */
export const CONNECT_SERVICE_REGIONS: readonly string[] = [
  "us-east-1",
  "us-west-2",
  "af-south-1",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-southeast-1",
  "ap-southeast-2",
  "ca-central-1",
  "eu-central-1",
  "eu-west-2",
  "us-gov-west-1",
];

/** What a region's name looks like (`us-east-1`, `us-gov-west-1`); `CONNECT_REGIONS` entries are checked against it. */
export const REGION_PATTERN = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;

/**
 * Where refs may point: the region an instance id without an ARN is in (`AWS_REGION`), and every
 * region the gateway may call (`CONNECT_REGIONS`, which always holds the default). An ARN of any
 * other region is refused as it is parsed, before any call, so no SDK client, socket pool or quota
 * bucket is ever made for a region a caller invents. Carried by the request context and handed to
 * whatever parses refs; the configuration makes it once (`Config.CONNECT_REGIONS`).
 */
export interface Regions {
  readonly defaultRegion: string;
  readonly callable: ReadonlySet<string>;
}

/** `Regions` from the default region and the callable ones (the default is always callable). */
export function regionsOf(defaultRegion: string, callable: Iterable<string> = CONNECT_SERVICE_REGIONS): Regions {
  return { defaultRegion, callable: new Set([...callable, defaultRegion]) };
}

/**
 * The partition of a region's ARNs: `aws-cn` for China (`cn-*`), `aws-us-gov` for GovCloud
 * (`us-gov-*`), the ISO partitions for theirs, `aws` for every other region (all of
 * `CONNECT_SERVICE_REGIONS` but `us-gov-west-1`).
 */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  if (region.startsWith("us-isob-")) return "aws-iso-b";
  if (region.startsWith("us-isof-")) return "aws-iso-f";
  if (region.startsWith("eu-isoe-")) return "aws-iso-e";
  if (region.startsWith("us-iso-")) return "aws-iso";
  return "aws";
}

/** Why an ARN of `partition` cannot name something in `region`, or `null` when it can. */
export function partitionProblem(partition: string, region: string): string | null {
  const expected = partitionOf(region);
  if (partition === expected) return null;
  return `names the partition "${partition}", but ARNs of the region "${region}" are in the partition "${expected}"`;
}

/** Why an ARN of `partition` and `region` may not be used, or `null` when it may (see `regionProblem`, `partitionProblem`). */
export function arnProblem(partition: string, region: string, regions: Regions): string | null {
  return regionProblem(region, regions) ?? partitionProblem(partition, region);
}

/** Why the gateway may not call `region`, or `null` when it may. */
export function regionProblem(region: string, regions: Regions): string | null {
  if (regions.callable.has(region)) return null;
  return `names the region "${region}", which this gateway does not call (see its CONNECT_REGIONS)`;
}

const CONTACT_ARN =
  /^arn:(aws[a-z-]*):connect:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):instance\/([^/]+)\/contact\/([^/]+)$/;

/** The parts of a contact ARN. */
export interface ParsedContactArn extends ContactRef {
  readonly partition: string;
  readonly accountId: string;
}

/**
 * Parses `arn:{partition}:connect:{region}:{account}:instance/{instanceId}/contact/{contactId}`;
 * returns `null` for anything else. Whether the gateway may call its region is the caller's to
 * check (`contactArnArgument` does both).
 */
export function parseContactArn(arn: string): ParsedContactArn | null {
  if (arn.length > 2048) return null;
  const match = CONTACT_ARN.exec(arn);
  if (!match) return null;
  const [, partition, region, accountId, instanceId, contactId] = match as unknown as string[];
  if (idProblem(instanceId!, INSTANCE_ID_MAX) || idProblem(contactId!, CONTACT_ID_MAX)) return null;
  return {
    partition: partition!,
    region: region!,
    accountId: accountId!,
    instanceId: instanceId!,
    contactId: contactId!,
  };
}

/**
 * The contact a contact-ARN argument names, with the ARN's account (`ContactRef.accountId`). A
 * malformed ARN, one in a region the gateway may not call, or one whose partition is not its
 * region's, is BAD_USER_INPUT naming the argument, before any call.
 */
export function contactArnArgument(argument: string, value: string, regions: Regions): ContactRef {
  const parsed = parseContactArn(value);
  if (!parsed) throw badUserInput(argument, "must be a contact ARN: arn:aws:connect:{region}:{account}:instance/{instanceId}/contact/{contactId}");
  const problem = arnProblem(parsed.partition, parsed.region, regions);
  if (problem) throw badUserInput(argument, problem);
  return { region: parsed.region, instanceId: parsed.instanceId, contactId: parsed.contactId, accountId: parsed.accountId };
}

const INSTANCE_ARN = /^arn:(aws[a-z-]*):connect:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):instance\/([^/]+)$/;

/**
 * Where an instance lives: the region of its endpoint and quota, and its id; with the account of the
 * ARN that named it, when an ARN did (see `ContactRef.accountId`).
 */
export interface InstanceRef {
  readonly region: string;
  readonly instanceId: string;
  readonly accountId?: string | undefined;
}

type ParsedInstanceArn = InstanceRef & { readonly partition: string; readonly accountId: string };

/**
 * Parses `arn:{partition}:connect:{region}:{account}:instance/{instanceId}`; returns `null` for
 * anything else. Arguments that take an instance id take its ARN too, so one query can address
 * instances of several regions; whether the gateway may call the region is the caller's to check
 * (`instanceArgument` does both).
 */
export function parseInstanceArn(arn: string): ParsedInstanceArn | null {
  if (arn.length > 2048) return null;
  const match = INSTANCE_ARN.exec(arn);
  if (!match) return null;
  const [, partition, region, accountId, instanceId] = match as unknown as string[];
  if (idProblem(instanceId!, INSTANCE_ID_MAX)) return null;
  return { partition: partition!, region: region!, accountId: accountId!, instanceId: instanceId! };
}

/**
 * The instance an `instanceId` argument names: an instance id (in `regions.defaultRegion`) or an
 * instance ARN (in its own region, which must be one the gateway may call and whose partition the
 * ARN must spell; with the ARN's account, `InstanceRef.accountId`). Anything else is BAD_USER_INPUT
 * naming the argument, before any call.
 */
export function instanceArgument(argument: string, value: string, regions: Regions): InstanceRef {
  if (value.startsWith("arn:")) {
    const ref = parseInstanceArn(value);
    if (!ref) throw badUserInput(argument, "must be an instance id or an instance ARN: arn:aws:connect:{region}:{account}:instance/{instanceId}");
    const problem = arnProblem(ref.partition, ref.region, regions);
    if (problem) throw badUserInput(argument, problem);
    return { region: ref.region, instanceId: ref.instanceId, accountId: ref.accountId };
  }
  const problem = idProblem(value, INSTANCE_ID_MAX);
  if (problem) throw badUserInput(argument, problem);
  return { region: regions.defaultRegion, instanceId: value };
}

/**
 * The account of a Connect ARN (`arn:{partition}:connect:{region}:{account}:…`), as Connect's answers
 * carry them (`Contact.Arn`, `Queue.QueueArn`, `User.Arn`, a search summary's `Arn`); `undefined` for
 * anything else.
 */
export function arnAccount(arn: unknown): string | undefined {
  if (typeof arn !== "string") return undefined;
  return ANSWER_ARN.exec(arn)?.[1];
}
const ANSWER_ARN = /^arn:[a-z-]+:connect:[a-z0-9-]+:(\d{12}):/;

/** How errors name a contact: ids only, which are not personal data. */
export function describeRef(ref: ContactRef): string {
  return `Contact ${ref.contactId} in instance ${ref.instanceId} (${ref.region})`;
}
