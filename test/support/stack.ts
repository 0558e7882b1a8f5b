import pino from "pino";
import { loadConfig, type Config } from "../../src/config/config.js";
import { ConnectUpstream } from "../../src/upstream/connectUpstream.js";
import { DEMO } from "../../src/emulator/dataset.js";
import { EMULATOR_CREDENTIALS, startEmulator, type Emulator, type EmulatorOptions } from "../../src/emulator/emulator.js";
import { createGateway, type Gateway, type GatewayOptions } from "../../src/http/gateway.js";
import { collectingLogger, type LogLine } from "./loggedGateway.js";

export interface StackOptions {
  /** Settings as environment variables would spell them (merged over emulator-mode defaults). */
  env?: Record<string, string>;
  emulator?: EmulatorOptions;
  /** Use an emulator started elsewhere (shared by several gateways). */
  sharedEmulator?: Emulator;
  /** Overrides for createGateway (a custom fetchContact, plugins, …). */
  gateway?: Partial<Omit<GatewayOptions, "config" | "upstream" | "logger">>;
  /** Collects the gateway's JSON log lines at `info` and above (default: the gateway logs nothing). */
  logLines?: LogLine[];
}

export interface GraphQLResponse<T = any> {
  status: number;
  headers: Headers;
  body: { data?: T; errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, any> }>; extensions?: Record<string, any> };
}

export interface Stack {
  readonly emulator: Emulator;
  readonly gateway: Gateway;
  readonly config: Config;
  /** The gateway's GraphQL endpoint, `http://127.0.0.1:port/graphql`. */
  readonly url: string;
  /** POSTs one operation over real HTTP, as a front end would. */
  query<T = any>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  /** DescribeContact calls the emulator has served since the last `resetCalls()`. */
  describeContactCalls(): number;
  resetCalls(): void;
  close(): Promise<void>;
}

/**
 * The whole gateway on loopback ports: the embedded emulator, the real SDK client over real HTTP,
 * and the gateway's Fastify server. Tests talk to it as clients do and count what went upstream
 * at the emulator.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const emulator = options.sharedEmulator ?? (await startEmulator({ quota: false, ...options.emulator }));
  const config = loadConfig({ CONNECT_MODE: "emulator", LOG_LEVEL: "silent", PORT: "0", HOST: "127.0.0.1", ...options.env }, false);
  const upstream = new ConnectUpstream({
    endpoint: emulator.url,
    credentials: EMULATOR_CREDENTIALS,
    maxAttempts: config.CONNECT_MAX_ATTEMPTS,
    retryMode: config.CONNECT_RETRY_MODE,
    connectionTimeoutMs: config.CONNECT_CONNECT_TIMEOUT_MS,
    requestTimeoutMs: config.CONNECT_REQUEST_TIMEOUT_MS,
    regions: config.CONNECT_REGIONS,
  });
  const logger = options.logLines ? collectingLogger(options.logLines) : pino({ level: "silent" });
  const gateway = await createGateway({
    config,
    upstream,
    logger,
    exampleIds: { instanceId: DEMO.instanceId, contactId: DEMO.longChainTailId },
    ...options.gateway,
  });
  const base = await gateway.listen(0, "127.0.0.1");
  const url = `${base}/graphql`;

  return {
    emulator,
    gateway,
    config,
    url,
    async query(query, variables, headers = {}) {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/graphql-response+json, application/json", ...headers },
        body: JSON.stringify({ query, variables }),
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} };
    },
    describeContactCalls: () => emulator.calls.byApi.DescribeContact,
    resetCalls: () => emulator.resetStats(),
    async close() {
      await gateway.close();
      if (!options.sharedEmulator) await emulator.close();
    },
  };
}
