/**
 * The operations the benchmark sends, built from the emulator's seeded data set (the same seed the
 * emulator process serves), so every id exists and every chain's shape is known in advance.
 */
import type { Contact } from "@aws-sdk/client-connect";
import { buildDataset, DEMO } from "../src/emulator/dataset.js";

export interface Operation {
  readonly label: string;
  readonly query: string;
  readonly variables: Record<string, unknown>;
}

/**
 * The realistic selection: 30 leaf fields a contact-centre UI shows, over scalars, nested objects
 * and lists.
 */
export const CONTACT_FIELDS = `
  id arn instanceId channel initiationMethod initiationTimestamp disconnectTimestamp
  lastUpdateTimestamp connectedToSystemTimestamp disconnectReason queuePriority
  queueTimeAdjustmentSeconds totalPauseCount totalPauseDurationInSeconds previousContactId initialContactId
  queueInfo { id enqueueTimestamp }
  agentInfo { id connectedToAgentTimestamp agentPauseDurationInSeconds afterContactWorkDuration }
  systemEndpoint { type address }
  customerEndpoint { type address }
  disconnectDetails { potentialDisconnectIssue }
  tags { key value }
  recordings { status }`;

/** The realistic contact query: the 30 fields plus two relations. */
export const REALISTIC_QUERY = `query Contact($instanceId: ID!, $contactId: ID!) {
  contact(instanceId: $instanceId, contactId: $contactId) {
    ${CONTACT_FIELDS}
    previousContact { id channel initiationTimestamp }
    initialContact { id channel initiationTimestamp }
  }
}`;

/** One contact, the 30 fields, no relations. */
export const SINGLE_QUERY = `query Contact($instanceId: ID!, $contactId: ID!) {
  contact(instanceId: $instanceId, contactId: $contactId) { ${CONTACT_FIELDS} }
}`;

/** A chain walked `depth` contacts deep through `previousContact` (the root counts as one). */
export function chainQuery(depth: number): string {
  let inner = "id channel";
  for (let i = 1; i < depth; i++) inner = `id channel previousContact { ${inner} }`;
  return `query Chain($instanceId: ID!, $contactId: ID!) { contact(instanceId: $instanceId, contactId: $contactId) { ${inner} } }`;
}

/** Transfer chains of the main instance, each listed from its last contact back to its first. */
export function chains(): string[][] {
  const contacts = buildDataset(DEMO.seed).instances.get(DEMO.instanceId)!.contacts;
  const isPrevious = new Set<string>();
  for (const c of contacts.values()) if (c.PreviousContactId) isPrevious.add(c.PreviousContactId);
  const result: string[][] = [];
  for (const c of contacts.values()) {
    if (isPrevious.has(c.Id!) || !finished(c)) continue;
    const chain: string[] = [];
    for (let at: Contact | undefined = c; at; at = at.PreviousContactId ? contacts.get(at.PreviousContactId) : undefined) chain.push(at.Id!);
    result.push(chain);
  }
  return result;
}

export interface Plan {
  /** The mixed workload of figure 1: operations naming disjoint sets of contacts. */
  workload: Operation[];
  /** Tails of chains at least `CHAIN_DEPTH` long, not used by the workload (figure 2). */
  latencyChains: string[];
  /** A contact with distinct previous and initial contacts (figure 3's warm query). */
  warmContactId: string;
  /** A contact of its own (figure 4's uncached single contact). */
  singleContactId: string;
  /** 100 contacts no other phase touches (figure 6). */
  quotaContactIds: string[];
}

export const CHAIN_DEPTH = 8;

/**
 * Deals the data set's chains out to the phases, so no phase warms another's contacts. The
 * workload mixes single contacts, 20-id lists of overlapping chains (each contact's previous and
 * initial contacts are in the same list), chains walked 8 deep, and the same contacts named at
 * several depths and under several aliases.
 */
export function plan(): Plan {
  const all = chains().filter((c) => !c.some((id) => Object.values(DEMO).includes(id as never)));
  const take = (n: number, f: (c: string[]) => boolean): string[][] => {
    const picked: string[][] = [];
    for (let i = 0; i < all.length && picked.length < n; i++) {
      if (f(all[i]!)) picked.push(...all.splice(i--, 1));
    }
    if (picked.length < n) throw new Error(`the data set has too few chains for the benchmark (${picked.length} < ${n})`);
    return picked;
  };
  const instanceId = DEMO.instanceId;
  const op = (label: string, query: string, variables: Record<string, unknown>): Operation => ({ label, query, variables: { instanceId, ...variables } });

  const latencyChains = take(4, (c) => c.length >= CHAIN_DEPTH).map((c) => c[0]!);
  const warmContactId = take(1, (c) => c.length >= 3)[0]![0]!;
  const singleContactId = take(1, (c) => c.length === 1)[0]![0]!;
  const quotaContactIds = take(100, (c) => c.length === 1).map((c) => c[0]!);

  const workload: Operation[] = [];
  for (const [tail] of take(10, (c) => c.length === 1)) workload.push(op("single contact", SINGLE_QUERY, { contactId: tail }));
  for (const [tail] of take(4, (c) => c.length >= 3)) workload.push(op("contact with two relations", REALISTIC_QUERY, { contactId: tail }));
  for (let i = 0; i < 4; i++) {
    // 20 ids over overlapping chains: every contact of 3–6 chains, the rest repeats of them.
    const group = take(1, (c) => c.length >= 3).concat(take(3, (c) => c.length >= 2 && c.length <= 4)).flat();
    const ids = [...group, ...group].slice(0, 20);
    workload.push(
      op(
        "20-id list, overlapping chains",
        `query List($instanceId: ID!, $ids: [ID!]!) { contacts(instanceId: $instanceId, contactIds: $ids) { ${CONTACT_FIELDS} previousContact { id channel } initialContact { id channel } } }`,
        { ids },
      ),
    );
  }
  for (const [tail] of take(3, (c) => c.length >= CHAIN_DEPTH)) workload.push(op("chain walked 8 deep", chainQuery(CHAIN_DEPTH), { contactId: tail }));
  for (const chain of take(4, (c) => c.length >= 4)) {
    workload.push(
      op(
        "same contacts at several depths",
        `query Depths($instanceId: ID!, $tail: ID!, $head: ID!) {
          tail: contact(instanceId: $instanceId, contactId: $tail) {
            id initialContact { id }
            previousContact { id initialContact { id } previousContact { id initialContact { id channel } previousContact { id initialContact { id } } } }
          }
          again: contact(instanceId: $instanceId, contactId: $tail) { id channel previousContact { id channel } }
          head: contact(instanceId: $instanceId, contactId: $head) { id channel }
          list: contacts(instanceId: $instanceId, contactIds: [$head, $tail, $head]) { id initialContact { id } }
        }`,
        { tail: chain[0], head: chain[chain.length - 1] },
      ),
    );
  }
  return { workload, latencyChains, warmContactId, singleContactId, quotaContactIds };
}

function finished(c: Contact): boolean {
  return c.DisconnectTimestamp !== undefined;
}
