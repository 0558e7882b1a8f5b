import { SQSClient } from "@aws-sdk/client-sqs";
import { createClient as createSseClient, type Client as SseClient } from "graphql-sse";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";
import WebSocket from "ws";
import { EMULATOR_CREDENTIALS, startEmulator, type Emulator, type EmulatorOptions } from "../../src/emulator/emulator.js";
import { startStack, type Stack, type StackOptions } from "./stack.js";

/** One subscriber's results as they arrive, and how it ended. */
export interface Received<T = any> {
  readonly results: Array<{ data?: T; errors?: Array<{ message: string; extensions?: Record<string, any> }>; extensions?: Record<string, any> }>;
  /** Set when the subscription completed or failed. */
  ended?: { error?: unknown };
  unsubscribe(): void;
}

export interface LiveStack extends Stack {
  /** The gateway's SDK client for the events queue (tests count its calls at the emulator). */
  readonly sqs: SQSClient;
  /** A graphql-ws client on `ws://…/graphql`; closed with the stack. */
  ws(options?: { connectionParams?: Record<string, unknown>; headers?: Record<string, string>; onClose?: (event: { code: number; reason: string }) => void }): WsClient;
  /** A graphql-sse client (distinct connections) on `/graphql/stream`; closed with the stack. */
  sse(headers?: Record<string, string>): SseClient;
  /** Subscribes `client` to `query` and collects what arrives. */
  subscribe<T = any>(client: WsClient | SseClient, query: string, variables?: Record<string, unknown>): Received<T>;
  /** Resolves once exactly `count` subscriptions are registered on this gateway. */
  subscribers(count: number): Promise<void>;
  /** Resolves once every message on the emulator's queue was taken and settled (none visible, none in flight); `what` names the wait. */
  queueDrained(what?: string): Promise<void>;
}

/**
 * A stack (emulator + gateway over real HTTP) whose gateway consumes the emulator's contact events
 * queue with the real SQS client, as `npm start` does in emulator mode.
 */
export async function startLiveStack(options: StackOptions & { emulator?: EmulatorOptions } = {}): Promise<LiveStack> {
  const emulator: Emulator = options.sharedEmulator ?? (await startEmulator({ quota: false, ...options.emulator }));
  const sqs = new SQSClient({ endpoint: emulator.url, region: "us-east-1", credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 });
  const stack = await startStack({
    ...options,
    sharedEmulator: emulator,
    gateway: { ...options.gateway, contactEvents: { sqs, queueUrl: emulator.events.queueUrl } },
  });
  const clients: Array<{ dispose(): void | Promise<void> }> = [];
  const wsUrl = stack.url.replace(/^http/, "ws");
  const streamUrl = `${stack.url}/stream`;
  return {
    ...stack,
    sqs,
    ws(o = {}) {
      const client = createWsClient({
        url: wsUrl,
        webSocketImpl: class extends WebSocket {
          constructor(address: string, protocols?: string | string[]) {
            super(address, protocols, { headers: o.headers ?? {} });
          }
        },
        connectionParams: o.connectionParams,
        lazy: false,
        // Refusals (4401, 4403) are what some specs expect; they read them from `onClose`.
        onNonLazyError: () => {},
        retryAttempts: 0,
        ...(o.onClose && { on: { closed: (event) => o.onClose!(event as { code: number; reason: string }) } }),
      });
      clients.push(client);
      return client;
    },
    sse(headers = {}) {
      const client = createSseClient({ url: streamUrl, headers, retryAttempts: 0, singleConnection: false });
      clients.push(client);
      return client;
    },
    subscribe(client, query, variables) {
      const received: Received = {
        results: [],
        unsubscribe: () => {},
      };
      const unsubscribe = (client as WsClient).subscribe(
        { query, variables },
        {
          next: (result) => void received.results.push(result as Received["results"][number]),
          error: (error) => void (received.ended = { error }),
          complete: () => void (received.ended ??= {}),
        },
      );
      return Object.assign(received, { unsubscribe });
    },
    async subscribers(count) {
      await waitUntil(() => (stack.gateway.events?.hub.size ?? 0) === count, `${count} subscriptions registered`);
    },
    async queueDrained(what = "an empty queue") {
      await waitUntil(() => emulator.events.depth().visible + emulator.events.depth().inFlight === 0, what);
    },
    async close() {
      await Promise.all(clients.map((c) => c.dispose()));
      await stack.close();
      sqs.destroy();
      if (!options.sharedEmulator) await emulator.close();
    },
  };
}

/** Polls `condition` every 10 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
