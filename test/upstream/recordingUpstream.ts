import type { Contact, Queue, SearchContactsRequest, SearchContactsResponse, User } from "@aws-sdk/client-connect";
import type { ContactRef } from "../../src/domain/contactRef.js";
import type { ResourceRef } from "../../src/domain/resourceRef.js";
import type { CallOptions, ReferencesPage, Upstream } from "../../src/upstream/upstream.js";

/**
 * An `Upstream` that records every call (`"DescribeContact c-1"`) and answers from its maps; an id
 * it does not know is ResourceNotFoundException. Like the SDK, it awaits `beforeAttempt` before the
 * request (once: it never retries), so the limiters see every call. `hold()` keeps calls waiting
 * until the function it returns is called, for specs about calls in flight.
 */
export class RecordingUpstream implements Upstream {
  readonly calls: string[] = [];
  readonly contacts = new Map<string, Contact>();
  readonly queues = new Map<string, Queue>();
  readonly users = new Map<string, User>();
  private gate: Promise<void> | undefined;

  describeContact(ref: ContactRef, options: CallOptions = {}): Promise<Contact> {
    return this.call("DescribeContact", ref.region, ref.contactId, options, () => this.contacts.get(ref.contactId));
  }

  describeQueue(ref: ResourceRef, options: CallOptions = {}): Promise<Queue> {
    return this.call("DescribeQueue", ref.region, ref.id, options, () => this.queues.get(ref.id));
  }

  describeUser(ref: ResourceRef, options: CallOptions = {}): Promise<User> {
    return this.call("DescribeUser", ref.region, ref.id, options, () => this.users.get(ref.id));
  }

  getContactAttributes(ref: ContactRef, options: CallOptions = {}): Promise<Record<string, string>> {
    return this.call("GetContactAttributes", ref.region, ref.contactId, options, () => ({}));
  }

  listContactReferences(ref: ContactRef, _types: readonly string[], _nextToken: string | undefined, options: CallOptions = {}): Promise<ReferencesPage> {
    return this.call("ListContactReferences", ref.region, ref.contactId, options, () => ({ references: [] }));
  }

  searchContacts(region: string, input: SearchContactsRequest, options: CallOptions = {}): Promise<SearchContactsResponse> {
    return this.call("SearchContacts", region, input.InstanceId ?? "", options, () => ({ Contacts: [] }) as SearchContactsResponse);
  }

  destroy(): void {}

  /** Calls made from now on wait until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.gate = new Promise((resolve) => (release = resolve));
    return () => {
      this.gate = undefined;
      release();
    };
  }

  /** Calls of `api` recorded so far. */
  count(api: string): number {
    return this.calls.filter((c) => c.startsWith(`${api} `)).length;
  }

  // Private: one call, answered with a copy of what is known when it is made (as the SDK gives a new
  // object per call), delivered once the gate (if any) opens.
  private async call<T>(api: string, region: string, id: string, options: CallOptions, answer: () => T | undefined): Promise<T> {
    await options.beforeAttempt?.({ api, region, identity: "AKIATESTIDENTITY" }, 1);
    this.calls.push(`${api} ${id}`);
    const found = answer();
    const gate = this.gate;
    if (gate) await gate;
    if (found === undefined) throw Object.assign(new Error(`${id} not found`), { name: "ResourceNotFoundException", $metadata: { httpStatusCode: 404 } });
    return structuredClone(found);
  }
}
