import type { AgentInfo, QueueInfo } from "@aws-sdk/client-connect";
import type { ContactRef } from "./contactRef.js";

/**
 * Where a queue or a user lives: the region selects the Connect endpoint (and its quota), the
 * instance and resource ids address DescribeQueue or DescribeUser. Queues and users are only ever
 * reached from a contact, so they are read in that contact's region and instance.
 */
export interface ResourceRef {
  readonly region: string;
  readonly instanceId: string;
  readonly id: string;
}

/** The string loaders and caches key a queue or user by (the API is part of the loader). */
export function resourceKey(ref: ResourceRef): string {
  return `${ref.region}/${ref.instanceId}/${ref.id}`;
}

/**
 * The SDK's nested `QueueInfo` and `AgentInfo` know only ids; the contact they came from knows the
 * region and instance. Resolvers of `Contact.queueInfo` and `Contact.agentInfo` hand them down as
 * `$ref` (the contact's ref), so `queue` and `agent` resolve where the contact lives.
 */
export interface QueueInfoModel extends QueueInfo {
  readonly $ref: ContactRef;
}
export interface AgentInfoModel extends AgentInfo {
  readonly $ref: ContactRef;
}

/** The nested object with its contact's ref, or `null` when the contact has none. */
export function withRef<T extends object>(value: T | undefined, ref: ContactRef): (T & { readonly $ref: ContactRef }) | null {
  return value ? { ...value, $ref: ref } : null;
}

/** The queue or user named by `id` in the contact's region and instance; `null` without an id. */
export function resourceRefOf(from: ContactRef, id: string | undefined): ResourceRef | null {
  return id ? { region: from.region, instanceId: from.instanceId, id } : null;
}
