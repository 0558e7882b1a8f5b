/**
 * An Amazon Connect emulator: a real HTTP server speaking Connect's REST-JSON (restJson1) wire
 * protocol over the seeded data set of `dataset.ts`, so the unmodified `@aws-sdk/client-connect`
 * client can be pointed at it (`endpoint: emulator.url`).
 *
 * Operations: DescribeContact, DescribeQueue, DescribeUser, GetContactAttributes,
 * ListContactReferences, SearchContacts (`connectApi.ts`). Connect's behaviours a client must cope
 * with can be switched on, at start or at run time: latency, token-bucket quotas per API and region
 * (429 ThrottlingException), injected failures, SigV4 presence (the signature itself is not
 * verified). Every call is counted, so tests and benchmarks can assert what reached "upstream".
 *
 * Contact events: the emulator serves an SQS queue on the same port (`sqsApi.ts`, AWS JSON 1.0 for
 * the real `@aws-sdk/client-sqs`) and puts Amazon Connect contact events on it in EventBridge's
 * envelope, each applied to its contact first (`contactEvents.ts`): emitted by `events.emit`, by
 * `POST /_emulator/events`, or by live traffic (`liveTraffic.ts`, off unless asked for).
 *
 * Admin surface, outside Connect's path space and without authentication: `/_emulator/*`
 * (`adminApi.ts`). Settings for a process that runs it: `settings.ts`.
 *
 * This file is the public entry: `startEmulator`, the `Emulator` it resolves, and re-exports of
 * what clients of the emulator need from the files behind it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { handleAdmin } from "./adminApi.js";
import { connectError, sendAnswer } from "./answer.js";
import type { ApiName } from "./apiNames.js";
import { ConnectApi } from "./connectApi.js";
import { ContactEvents } from "./contactEvents.js";
import { buildDataset, type Dataset } from "./dataset.js";
import type { EmulatorEvents } from "./emulatorEvents.js";
import { LiveTraffic } from "./liveTraffic.js";
import type { CurrentOptions, EmulatorOptions, RuntimeOptions } from "./options.js";
import { Rng } from "./rng.js";
import { SqsApi } from "./sqsApi.js";
import { SqsQueue } from "./sqsQueue.js";
import { Stats, type EmulatorStats } from "./stats.js";
import { WireInstance } from "./wireInstance.js";

export { API_NAMES, type ApiName } from "./apiNames.js";
export { EMULATOR_CREDENTIALS } from "./authorization.js";
export { ContactEventError, type ContactEventDetail, type ContactEventEnvelope, type ContactEventInput, type ContactEventType } from "./contactEvents.js";
export type { EmulatorEvents, QueueDepth } from "./emulatorEvents.js";
export type { LiveTrafficOptions } from "./liveTraffic.js";
export type { FailureOptions } from "./failureInjector.js";
export type { CurrentOptions, EmulatorOptions, EventsOptions, RuntimeOptions } from "./options.js";
export { CONNECT_DEFAULT_QUOTAS, type QuotaOption, type TokenBucketSpec } from "./quotas.js";
export { EMULATOR_SETTINGS, EmulatorSettingsError, emulatorOptions, emulatorSettingsHelp, loadEmulatorSettings, type EmulatorSettings } from "./settings.js";
export type { EmulatorStats, SqsStats } from "./stats.js";

export interface Emulator {
  /** Base URL, e.g. `http://127.0.0.1:4010` (give it to the SDK as `endpoint`). */
  readonly url: string;
  readonly port: number;
  /** The data set it serves. Contact events change it in place: new contacts join, emitted-on ones are replaced. */
  readonly dataset: Dataset;
  /** A snapshot of the call accounting (Connect's APIs; SQS in `calls.sqs`; contact events in `calls.events`). */
  readonly calls: EmulatorStats;
  /** Contact events and the SQS queue they are delivered to. */
  readonly events: EmulatorEvents;
  /** The current run-time options. */
  readonly options: CurrentOptions;
  /** Changes latency, quota, failures or auth at run time (quota buckets start full again). */
  setOptions(partial: RuntimeOptions): void;
  /** The next `count` API requests (of `api`, if given) fail with `status` (default 500). */
  failNext(count: number, status?: number, api?: ApiName): void;
  /** Zeroes the call accounting (SQS and event counts included) and refills the quota buckets. */
  resetStats(): void;
  /** Stops live traffic, answers pending long polls empty, and closes the server. */
  close(): Promise<void>;
}

/** Starts the emulator; resolves once it listens. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const dataset = options.dataset ?? buildDataset(options.seed ?? 1);
  const wire = new Map<string, WireInstance>();
  for (const [id, data] of dataset.instances) wire.set(id, new WireInstance(data, options.describeContactAttributes ?? true));
  const stats = new Stats();
  const connect = new ConnectApi(dataset, wire, stats, options);

  const eventsOptions = options.events ?? {};
  const queueName = eventsOptions.queueName ?? "connect-contact-events";
  const accountId = eventsOptions.accountId ?? "000000000000";
  const visibility = eventsOptions.visibilityTimeoutSeconds ?? 30;
  const queue = new SqsQueue(queueName, accountId, dataset.region, visibility, stats);
  const deadLetterQueue = eventsOptions.deadLetter ? new SqsQueue(`${queueName}-dlq`, accountId, dataset.region, visibility, stats) : undefined;
  if (deadLetterQueue) queue.deadLetter = { queue: deadLetterQueue, maxReceiveCount: eventsOptions.deadLetter!.maxReceiveCount };
  let url = "";
  const sqs = new SqsApi(deadLetterQueue ? [queue, deadLetterQueue] : [queue], stats, () => url, () => connect.authRequired);
  const contactEvents = new ContactEvents(dataset, wire, queue, stats, new Rng(eventsOptions.seed ?? dataset.seed));
  const live = new LiveTraffic(contactEvents, eventsOptions.live ?? { contactsPerMinute: 0 });

  const events: EmulatorEvents = {
    get queueUrl() {
      return sqs.urlOf(queue);
    },
    get deadLetterQueueUrl() {
      return deadLetterQueue && sqs.urlOf(deadLetterQueue);
    },
    emit: (input) => contactEvents.emit(input),
    sendRaw: (body) => contactEvents.sendRaw(body),
    depth: () => depthOf(queue),
    deadLetterDepth: () => deadLetterQueue && depthOf(deadLetterQueue),
    get live() {
      return live.current;
    },
    setLive: (partial) => live.set(partial),
  };
  const emulator = {
    get url() {
      return url;
    },
    port: 0,
    dataset,
    events,
    get calls() {
      return stats.snapshot();
    },
    get options() {
      return connect.options;
    },
    setOptions: (partial: RuntimeOptions) => connect.setOptions(partial),
    failNext: (count: number, status = 500, api?: ApiName) => connect.failNext(count, status, api),
    resetStats: () => {
      stats.reset();
      connect.refillQuotas();
    },
    close: () => (closed ??= close()),
  } satisfies Emulator;
  let closed: Promise<void> | undefined;

  const dispatch = (req: IncomingMessage, res: ServerResponse): void => {
    const target = req.headers["x-amz-target"];
    const requestUrl = req.url ?? "/";
    const q = requestUrl.indexOf("?");
    const path = q < 0 ? requestUrl : requestUrl.slice(0, q);
    const query = q < 0 ? "" : requestUrl.slice(q + 1);
    const method = req.method ?? "GET";
    req.on("error", () => res.destroy());
    if (path.startsWith("/_emulator/")) handleAdmin(emulator, req, res, method, path);
    else if (method === "POST" && path === "/" && typeof target === "string" && target.startsWith("AmazonSQS.")) sqs.handle(req, res, target);
    else connect.handle(req, res, method, path, query);
  };
  const server = createServer({ keepAliveTimeout: 65_000, noDelay: true }, (req, res) => {
    try {
      dispatch(req, res);
    } catch (err) {
      sendAnswer(res, connectError(500, "InternalServiceException", `Emulator error: ${err instanceof Error ? err.message : String(err)}`));
    }
  });
  server.headersTimeout = 66_000;
  server.on("clientError", (_error, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });
  const host = options.host ?? "127.0.0.1";
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    live.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const urlHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  emulator.port = port;
  url = `http://${urlHost}:${port}`;

  async function close(): Promise<void> {
    live.close();
    connect.close();
    // Pending long polls answer empty now; their answers are written before the sockets close.
    sqs.close();
    await new Promise((resolve) => setImmediate(resolve));
    const done = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await done;
  }
  return emulator;
}

// Private: a queue's depth as `events.depth()` reports it.
function depthOf(queue: SqsQueue): { visible: number; inFlight: number } {
  const { visible, inFlight } = queue.depth();
  return { visible, inFlight };
}
