/**
 * Live contacts under fan-out: Amazon Connect contact events through the gateway's SQS consumer to
 * `subscribers` graphql-ws clients, each subscribed to `contactEvents` with a join and a relation.
 *
 * Measured in this process, on one clock (`performance.now()`): the time just before each event is
 * posted to the emulator's admin endpoint, and each subscriber's receipt of it. Reported: latency
 * over every (subscriber, event) pair (p50, p99, max), events delivered over expected (each
 * subscriber must get each event exactly once: duplicates and misses are counted), and
 * DescribeContact calls per event (the emulator's count before and after).
 *
 * The figure runs on an emulator process and a gateway process of its own: every gateway consumes
 * its emulator's one queue, and without Redis competing consumers split the events, so the bench's
 * other gateways, idle on the shared emulator, would take most of them (and their reads would land
 * in the count).
 *
 * Every subscriber sends the same subscription, so the gateway executes it once per event and shares
 * the result (`SharedExecutions`): a wallboard fleet. `distinct` gives each subscriber a document of
 * its own (its own operation name), so every delivery is an execution: the worst case.
 *
 * `npx tsx bench/events.ts [--quick] [--distinct]` runs this figure alone and prints it.
 */
import { performance } from "node:perf_hooks";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { DEMO } from "../src/emulator/dataset.js";
import { percentile, send } from "./load.js";
import { startGatewayProcess, startProcess, stopAll, type ServerProcess } from "./processes.js";

/** Subscribers and events of a full run and of `--quick`. */
export const EVENTS_RUN = {
  full: { subscribers: 1000, events: 50 },
  quick: { subscribers: 200, events: 20 },
} as const;

/** Time between two emitted events. */
const SPACING_MS = 100;

/** What every subscriber selects: the event, the contact as the event left it, a join (its queue's name) and a relation. */
export const LIVE_SUBSCRIPTION = `subscription LiveContacts($instanceId: ID!) {
  contactEvents(instanceId: $instanceId) {
    eventId
    eventType
    contact { id channel queueInfo { queue { name } } previousContact { id } }
  }
}`;

/** The gateway's own quota limiter opened wide, as for the bench's other figures that are not about the quota. */
const UNTHROTTLED = { CONNECT_MAX_RPS: "1000000", CONNECT_BURST: "1000000" };

/** A figure as bench/run.ts stores it. */
export interface EventFigure {
  value: number;
  target: string;
  met: boolean | null;
  detail: Record<string, unknown>;
}

export interface LiveEventsFigures {
  eventToSubscriberMsP50: EventFigure;
  eventsDeliveredOverExpected: EventFigure;
  describeContactCallsPerEvent: EventFigure;
}

interface Options {
  subscribers: number;
  events: number;
  /** Each subscriber its own document (operation `LiveContacts{n}`): nothing shared. Default false. */
  distinct?: boolean;
  log?: (message: string) => void;
}

/** One subscriber: every event it received (id, `performance.now()` at `next`), and how it ended. */
interface Subscriber {
  client: Client;
  received: Array<{ id: string; at: number }>;
  errors: number;
  ended: string | undefined;
}

/**
 * Starts an emulator and a gateway for the figure, opens `subscribers` graphql-ws clients, emits
 * `events` contact events 100 ms apart, and returns the figures; stops what it started.
 */
export async function liveEvents({ subscribers: count, events: eventCount, distinct = false, log = () => {} }: Options): Promise<LiveEventsFigures> {
  log(`live events: ${count.toLocaleString("en")} WebSocket subscribers${distinct ? " (each its own document)" : ""}, ${eventCount} events ${SPACING_MS} ms apart`);
  const emulator = await startEmulatorForEvents();
  let gateway: ServerProcess | undefined;
  const subscribers: Subscriber[] = [];
  try {
    const live = await getJson<{ contactsPerMinute: number }>(`${emulator.url}/_emulator/events/live`);
    if (live.contactsPerMinute !== 0) throw new Error(`the emulator plays live traffic (${live.contactsPerMinute} contacts a minute)`);
    gateway = await startGatewayProcess("gateway (events)", emulator.url, {
      ...UNTHROTTLED,
      // Every bench client connects from 127.0.0.1: one principal (no token) for all of them.
      SUBSCRIPTION_CONNECTIONS_PER_PRINCIPAL: String(count + 100),
    });
    const wsUrl = gateway.url.replace(/^http/, "ws");

    // Subscribe everyone, then wait until each has received a probe event: all are registered.
    for (let i = 0; i < count; i++) subscribers.push(subscribe(wsUrl, distinct ? LIVE_SUBSCRIPTION.replace("LiveContacts", `LiveContacts${i}`) : LIVE_SUBSCRIPTION));
    await waitFor(async () => (await subscriptionsOpen(gateway!)) >= count || subscribers.some((s) => s.ended !== undefined), 60_000, "every subscription opened");
    failIfEnded(subscribers);
    const probeContactId = (await emit(emulator, { eventType: "INITIATED", channel: "CHAT" })).detail.contactId;
    let probes = 1;
    // A subscriber registered just after a probe went out misses it and gets the next one.
    for (let ready = false; !ready; ) {
      ready = await waitFor(async () => subscribers.every((s) => s.received.length > 0) || subscribers.some((s) => s.ended !== undefined), 2_000, undefined);
      failIfEnded(subscribers);
      if (!ready) {
        if (probes >= 20) throw new Error(`${subscribers.filter((s) => s.received.length === 0).length} subscribers received none of ${probes} probe events`);
        await emit(emulator, { eventType: "CONTACT_DATA_UPDATED", contactId: probeContactId, attributes: { probe: String(probes) } });
        probes++;
      }
    }
    await settled(emulator, subscribers);
    const before = await emulatorStats(emulator);
    // CPU of the gateway and of this process (whose clients parse every delivery) over the measured events.
    const cpuBefore = { gateway: gateway.cpuMs(), bench: process.cpuUsage() };
    const resultsBefore = await subscriptionResults(gateway);
    const probeReceipts = subscribers.map((s) => s.received.length);

    // The measured events: several contacts' life cycles, interleaved, some of them transfers.
    const emitTimes: number[] = [];
    const measured = new Map<string, number>();
    const eventTypes: Record<string, number> = {};
    const contactIds: string[] = [];
    const start = performance.now();
    for (const [i, step] of lifeCycles(eventCount).entries()) {
      const slot = start + i * SPACING_MS;
      const wait = slot - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const input =
        step.eventType === "INITIATED"
          ? { eventType: "INITIATED", ...(step.transferOf !== undefined && { previousContactId: contactIds[step.transferOf] }) }
          : { eventType: step.eventType, contactId: contactIds[step.contact] };
      emitTimes.push(performance.now());
      const event = await emit(emulator, input);
      measured.set(event.id, i);
      if (step.eventType === "INITIATED") contactIds[step.contact] = event.detail.contactId;
      eventTypes[step.eventType] = (eventTypes[step.eventType] ?? 0) + 1;
    }
    const emitSeconds = (performance.now() - start) / 1000;

    // Everything delivered (or given up on after 30 s), the queue drained, then a quiet period for duplicates.
    const expected = count * eventCount;
    const measuredReceipts = () => subscribers.reduce((n, s, i) => n + s.received.length - probeReceipts[i]!, 0);
    await waitFor(async () => measuredReceipts() >= expected, 30_000, undefined);
    await settled(emulator, subscribers);
    const after = await emulatorStats(emulator);
    const cpu = { gateway: gateway.cpuMs() - cpuBefore.gateway, bench: cpuMs(process.cpuUsage(cpuBefore.bench)) };
    const resultsAfter = await subscriptionResults(gateway);
    const executions = resultsAfter.executed - resultsBefore.executed;

    // Each subscriber's receipts after the probes, matched to the measured events.
    const receipts = subscribers.map((s, n) => match(s.received.slice(probeReceipts[n]), measured, eventCount));
    const latencies: number[] = [];
    const byEvent: number[][] = Array.from({ length: eventCount }, () => []);
    for (const r of receipts) {
      r.at.forEach((t, i) => {
        if (Number.isNaN(t)) return;
        latencies.push(t - emitTimes[i]!);
        byEvent[i]!.push(t - emitTimes[i]!);
      });
    }
    const delivered = latencies.length;
    const received = byEvent.filter((l) => l.length > 0);
    const misses = expected - delivered;
    const duplicates = receipts.reduce((n, r) => n + r.duplicates, 0);
    const unexpected = receipts.reduce((n, r) => n + r.unexpected, 0);
    const describeContact = after.byApi.DescribeContact - before.byApi.DescribeContact;
    const otherApis = Object.fromEntries(
      Object.entries(after.byApi)
        .map(([api, n]) => [api, n - (before.byApi[api] ?? 0)] as const)
        .filter(([api, n]) => api !== "DescribeContact" && n > 0),
    );
    const common = { subscribers: count, events: eventCount, spacingMs: SPACING_MS };
    const deliveredOverExpected = delivered / expected;
    const perEvent = describeContact / eventCount;
    return {
      eventToSubscriberMsP50: {
        value: round(percentile(latencies, 50), 1),
        target: "(reported)",
        met: null,
        detail: {
          ...common,
          latencyMsP50: round(percentile(latencies, 50), 1),
          latencyMsP90: round(percentile(latencies, 90), 1),
          latencyMsP99: round(percentile(latencies, 99), 1),
          latencyMsMax: round(latencies.reduce((a, b) => Math.max(a, b), 0), 1),
          // The slowest subscriber of each event, p50 over events: how long until the last screen shows it.
          lastSubscriberMsP50: round(percentile(received.map((l) => Math.max(...l)), 50), 1),
          // p50 over the subscribers of the first and of the last event: a backlog shows as growth.
          firstEventMsP50: round(percentile(received[0] ?? [NaN], 50), 1),
          lastEventMsP50: round(percentile(received.at(-1) ?? [NaN], 50), 1),
          samples: latencies.length,
          cpuMs: { gateway: Math.round(cpu.gateway), benchClients: Math.round(cpu.bench) },
          gatewayCpuMicrosPerDelivery: Math.round((1000 * cpu.gateway) / Math.max(1, delivered)),
          // Without `distinct`, every subscriber sends the same document and variables without a token: one execution per event, shared.
          distinctDocuments: distinct,
          executionsPerEvent: round(executions / eventCount, 2),
          sharedResults: resultsAfter.shared - resultsBefore.shared,
          emitSeconds: round(emitSeconds, 2),
          eventTypes,
          contacts: contactIds.length,
          selection: "eventId eventType contact { id channel queueInfo { queue { name } } previousContact { id } }",
          clock: "performance.now() in the bench process: just before each POST /_emulator/events, and at each client's next()",
        },
      },
      eventsDeliveredOverExpected: {
        value: round(deliveredOverExpected, 4),
        target: "= 1.00",
        met: delivered === expected && duplicates === 0 && unexpected === 0 && subscribers.every((s) => s.errors === 0 && s.ended === undefined),
        detail: {
          ...common,
          expected,
          delivered,
          misses,
          duplicates,
          unexpectedEvents: unexpected,
          resultsWithErrors: subscribers.reduce((n, s) => n + s.errors, 0),
          subscriptionsEnded: subscribers.filter((s) => s.ended !== undefined).length,
          probeEvents: probes,
        },
      },
      describeContactCallsPerEvent: {
        value: round(perEvent, 2),
        target: "= 1.00",
        met: describeContact === eventCount,
        detail: {
          ...common,
          describeContactCalls: describeContact,
          otherApiCalls: otherApis,
          sqsMessagesReceived: after.sqs.messagesReceived - before.sqs.messagesReceived,
          sqsMessagesDeleted: after.sqs.messagesDeleted - before.sqs.messagesDeleted,
          sqsReceiveCalls: after.sqs.byAction.ReceiveMessage - before.sqs.byAction.ReceiveMessage,
        },
      },
    };
  } finally {
    await Promise.all(subscribers.map((s) => s.client.dispose()));
    await gateway?.stop();
    await emulator.stop();
  }
}

/**
 * `events` steps of contact life cycles (INITIATED, QUEUED, CONNECTED_TO_AGENT, DISCONNECTED),
 * interleaved: contact `j`'s `k`-th event falls at 2j + 3k, so four to five contacts are in
 * progress at once; the sixth contact and every fourth after it are transfers of one already ended.
 */
export function lifeCycles(events: number): Array<{ contact: number; eventType: string; transferOf?: number }> {
  const stages = ["INITIATED", "QUEUED", "CONNECTED_TO_AGENT", "DISCONNECTED"];
  const steps: Array<{ at: number; contact: number; eventType: string; transferOf?: number }> = [];
  for (let j = 0; 2 * j < 3 * events; j++) {
    const transferOf = j % 4 === 1 && j >= 5 ? j - 5 : undefined; // j − 5 disconnected at 2j − 1
    stages.forEach((eventType, k) => steps.push({ at: 2 * j + 3 * k, contact: j, eventType, ...(k === 0 && transferOf !== undefined && { transferOf }) }));
  }
  return steps
    .sort((a, b) => a.at - b.at || a.contact - b.contact)
    .slice(0, events)
    .map(({ at: _at, ...step }) => step);
}

// Private: one graphql-ws client with its one subscription. Receipts are matched to events at the
// end: an event's id is known only once the emulator answered its emit, which may come after the
// gateway delivered it.
function subscribe(url: string, query: string): Subscriber {
  const client = createClient({ url, webSocketImpl: WebSocket, lazy: true, retryAttempts: 0 });
  const s: Subscriber = { client, received: [], errors: 0, ended: undefined };
  client.subscribe<{ contactEvents: { eventId: string } }>(
    { query, variables: { instanceId: DEMO.instanceId } },
    {
      next(result) {
        const at = performance.now();
        if (result.errors?.length) s.errors++;
        const id = result.data?.contactEvents.eventId;
        if (id !== undefined) s.received.push({ id, at });
      },
      error(error) {
        s.ended = `error: ${error instanceof Error ? error.message : JSON.stringify(error)}`.slice(0, 300);
      },
      complete() {
        s.ended ??= "complete";
      },
    },
  );
  return s;
}

function failIfEnded(subscribers: Subscriber[]): void {
  const ended = subscribers.filter((s) => s.ended !== undefined);
  if (ended.length > 0) throw new Error(`${ended.length} subscriptions ended before the events, e.g. ${ended[0]!.ended}`);
}

// Private: one subscriber's receipts by event index (NaN: missed; the first receipt when duplicated).
function match(received: Array<{ id: string; at: number }>, measured: Map<string, number>, events: number): { at: Float64Array; duplicates: number; unexpected: number } {
  const at = new Float64Array(events).fill(NaN);
  let duplicates = 0;
  let unexpected = 0;
  for (const r of received) {
    const i = measured.get(r.id);
    if (i === undefined) unexpected++;
    else if (Number.isNaN(at[i]!)) at[i] = r.at;
    else duplicates++;
  }
  return { at, duplicates, unexpected };
}

/** Waits until the queue is empty (every message applied and deleted) and no subscriber received anything for 500 ms. */
async function settled(emulator: ServerProcess, subscribers: Subscriber[]): Promise<void> {
  const total = () => subscribers.reduce((n, s) => n + s.received.length, 0);
  await waitFor(
    async () => {
      const q = await getJson<{ visible: number; inFlight: number }>(`${emulator.url}/_emulator/events/queue`);
      return q.visible + q.inFlight === 0;
    },
    30_000,
    "the events queue to drain",
  );
  for (let seen = -1; seen !== total(); ) {
    seen = total();
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

// Private: the processes and their endpoints.

/** The bench's emulator process (bench/emulatorProcess.ts: seeded data set, quota off, live traffic off), without the bulk instance. */
function startEmulatorForEvents(): Promise<ServerProcess> {
  return startProcess("emulator (events)", "bench/emulatorProcess.ts", { BENCH_EXTRA_CONTACTS: "0" }, (line) => {
    if (!line.startsWith("{")) return undefined;
    const url = (JSON.parse(line) as { url?: unknown }).url;
    return typeof url === "string" ? url : undefined;
  });
}

interface EmittedEvent {
  id: string;
  detail: { contactId: string };
}

async function emit(emulator: ServerProcess, input: Record<string, unknown>): Promise<EmittedEvent> {
  const res = await send(`${emulator.url}/_emulator/events`, "POST", { "content-type": "application/json" }, JSON.stringify(input));
  if (res.status !== 200) throw new Error(`emit ${JSON.stringify(input)} failed: ${res.status} ${res.body}`);
  return JSON.parse(res.body) as EmittedEvent;
}

interface EmulatorStats {
  byApi: Record<string, number> & { DescribeContact: number };
  sqs: { messagesReceived: number; messagesDeleted: number; byAction: Record<string, number> & { ReceiveMessage: number } };
}

function emulatorStats(emulator: ServerProcess): Promise<EmulatorStats> {
  return getJson<EmulatorStats>(`${emulator.url}/_emulator/stats`);
}

async function getJson<T>(url: string): Promise<T> {
  const res = await send(url, "GET", {});
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${res.body}`);
  return JSON.parse(res.body) as T;
}

/** WebSocket subscriptions open on the gateway, from its `graphql_subscriptions` gauge. */
async function subscriptionsOpen(gateway: ServerProcess): Promise<number> {
  const text = (await send(new URL("/metrics", gateway.url).href, "GET", {})).body;
  return Number(/^graphql_subscriptions\{transport="ws"\} (\S+)/m.exec(text)?.[1] ?? 0);
}

/** The gateway's `graphql_subscription_results_total`: results executed for their subscriber, and results shared. */
async function subscriptionResults(gateway: ServerProcess): Promise<{ executed: number; shared: number }> {
  const text = (await send(new URL("/metrics", gateway.url).href, "GET", {})).body;
  const of = (execution: string) => Number(new RegExp(`^graphql_subscription_results_total\\{execution="${execution}"\\} (\\S+)`, "m").exec(text)?.[1] ?? 0);
  return { executed: of("executed"), shared: of("shared") };
}

/** Polls `condition` every 50 ms; resolves whether it held within `timeoutMs`, or throws naming `what` if given. */
async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, what: string | undefined): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      if (what) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

function round(n: number, digits: number): number {
  return Number(n.toFixed(digits));
}

// `npx tsx bench/events.ts [--quick] [--distinct]`: this figure alone, printed; results.json and results.md are left as they are.
if (import.meta.url === `file://${process.argv[1]}`) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const t0 = Date.now();
  const log = (message: string) => console.log(`[events ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${message}`);
  process.on("SIGINT", () => void stopAll().then(() => process.exit(130)));
  liveEvents({ ...EVENTS_RUN[process.argv.includes("--quick") ? "quick" : "full"], distinct: process.argv.includes("--distinct"), log })
    .then((figures) => {
      for (const [key, f] of Object.entries(figures)) console.log(`${key}: ${f.value} (target ${f.target}${f.met === null ? "" : f.met ? ", met" : ", NOT met"})\n  ${JSON.stringify(f.detail)}`);
      console.log(`(${((Date.now() - t0) / 1000).toFixed(1)} s; results.json and results.md not written)`);
    })
    .catch(async (error: unknown) => {
      console.error(`events bench failed: ${error instanceof Error ? error.stack : String(error)}`);
      await stopAll();
      process.exit(1);
    });
}
