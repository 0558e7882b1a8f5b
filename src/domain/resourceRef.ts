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
  /**
   * The account of the ARN that named the resource (a federation key), when one did; not part of its
   * key (see `ContactRef.accountId`): `Loaders.readResource` holds the answer to it.
   */
  readonly accountId?: string | undefined;
}

/** The string loaders and caches key a queue or user by (the API is part of the loader); never the account. */
export function resourceKey(ref: ResourceRef): string {
  return `${ref.region}/${ref.instanceId}/${ref.id}`;
}

/** The queue or user named by `id` in the contact's region and instance; `null` without an id. */
export function resourceRefOf(from: ContactRef, id: string | undefined): ResourceRef | null {
  return id ? { region: from.region, instanceId: from.instanceId, id } : null;
}

/**
 * A queue, a user or a contact reference as resolvers see it: the GraphQL shape of Connect's answer
 * (`graphqlModel` of `Queue$`, `User$`, `ReferenceSummary$`), read by the default resolver.
 */
export interface ResourceModel {
  readonly id?: string;
  readonly [field: string]: unknown;
}
