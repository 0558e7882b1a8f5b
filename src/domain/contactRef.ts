import type { Contact } from "@aws-sdk/client-connect";
import { badUserInput } from "./errors.js";

/**
 * Where a contact lives: the region selects the Connect endpoint (and its quota), the instance and
 * contact ids address DescribeContact. Every upstream read of a contact is keyed by one of these.
 */
export interface ContactRef {
  readonly region: string;
  readonly instanceId: string;
  readonly contactId: string;
}

/**
 * A contact as resolvers see it: the SDK's `Contact` (PascalCase members, `Date` timestamps) plus
 * the ref it was read under, so relations resolve in the same region and instance. `$ref` cannot
 * clash with an SDK member, which are all PascalCase.
 */
export interface ContactModel extends Contact {
  readonly $ref: ContactRef;
}

/** The string every cache and loader keys a contact by. */
export function contactKey(ref: ContactRef): string {
  // `join` makes one flat string; concatenation makes a rope of three nodes plus, once hashed, a
  // flat copy: ~100 bytes more for every key the cross-request cache holds (src/cache.ts).
  return [ref.region, ref.instanceId, ref.contactId].join("/");
}

export function toContactModel(contact: Contact, ref: ContactRef): ContactModel {
  return { ...contact, $ref: ref };
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

const CONTACT_ARN =
  /^arn:(aws[a-z-]*):connect:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):instance\/([^/]+)\/contact\/([^/]+)$/;

/** The parts of a contact ARN. */
export interface ParsedContactArn extends ContactRef {
  readonly partition: string;
  readonly accountId: string;
}

/**
 * Parses `arn:{partition}:connect:{region}:{account}:instance/{instanceId}/contact/{contactId}`;
 * returns `null` for anything else (the caller turns that into BAD_USER_INPUT).
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

const INSTANCE_ARN = /^arn:(aws[a-z-]*):connect:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):instance\/([^/]+)$/;

/** Where an instance lives: the region of its endpoint and quota, and its id. */
export interface InstanceRef {
  readonly region: string;
  readonly instanceId: string;
}

/**
 * Parses `arn:{partition}:connect:{region}:{account}:instance/{instanceId}`; returns `null` for
 * anything else. Arguments that take an instance id take its ARN too, so one query can address
 * instances of several regions.
 */
export function parseInstanceArn(arn: string): (InstanceRef & { readonly partition: string; readonly accountId: string }) | null {
  if (arn.length > 2048) return null;
  const match = INSTANCE_ARN.exec(arn);
  if (!match) return null;
  const [, partition, region, accountId, instanceId] = match as unknown as string[];
  if (idProblem(instanceId!, INSTANCE_ID_MAX)) return null;
  return { partition: partition!, region: region!, accountId: accountId!, instanceId: instanceId! };
}

/**
 * The instance an `instanceId` argument names: an instance id (in `defaultRegion`) or an instance
 * ARN (in its own region). Anything else is BAD_USER_INPUT naming the argument, before any call.
 */
export function instanceArgument(argument: string, value: string, defaultRegion: string): InstanceRef {
  if (value.startsWith("arn:")) {
    const ref = parseInstanceArn(value);
    if (!ref) throw badUserInput(argument, "must be an instance id or an instance ARN: arn:aws:connect:{region}:{account}:instance/{instanceId}");
    return { region: ref.region, instanceId: ref.instanceId };
  }
  const problem = idProblem(value, INSTANCE_ID_MAX);
  if (problem) throw badUserInput(argument, problem);
  return { region: defaultRegion, instanceId: value };
}

/** How errors name a contact: ids only, which are not personal data. */
export function describeRef(ref: ContactRef): string {
  return `Contact ${ref.contactId} in instance ${ref.instanceId} (${ref.region})`;
}
