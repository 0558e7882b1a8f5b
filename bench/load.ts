/**
 * How the benchmark talks to servers: single GraphQL requests, sequential latency samples with
 * sub-millisecond resolution, and throughput runs through autocannon.
 */
import { Agent, request, type IncomingHttpHeaders } from "node:http";
import autocannon from "autocannon";

export interface GraphQLResult {
  status: number;
  body: { data?: any; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

/**
 * The `Authorization` header of a request sent straight to the emulator: it checks that a SigV4
 * header is well-formed and scoped to `connect` in `region`, not its signature.
 */
export function emulatorSigV4Header(region: string): { authorization: string } {
  return { authorization: `AWS4-HMAC-SHA256 Credential=AKID/20261014/${region}/connect/aws4_request, SignedHeaders=host, Signature=0` };
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** Sends one raw HTTP request on a kept-alive connection; resolves status and body. */
export function send(url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Sends one raw HTTP request on a kept-alive connection; resolves status, headers and the body's bytes. */
export function fetchBytes(url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** POSTs one GraphQL operation to `url` (the gateway's /graphql). */
export async function graphql(url: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<GraphQLResult> {
  const res = await send(url, "POST", { "content-type": "application/json", ...headers }, JSON.stringify({ query, variables }));
  return { status: res.status, body: JSON.parse(res.body) as GraphQLResult["body"] };
}

/** Latencies (ms, sub-millisecond resolution) of `n` requests sent one after another. */
export async function sequentialLatencies(n: number, once: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint();
    await once();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return samples;
}

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface Throughput {
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Requests that failed, timed out or answered other than 2xx. */
  failures: number;
  total: number;
}

/** The load settings every throughput run shares, peers' benchmark alike (100 connections). */
export const LOAD = { connections: 100, pipelining: 1 } as const;

/** Drives `url` with autocannon for `seconds` at the shared load settings. */
export async function throughput(url: string, body: string, seconds: number, headers: Record<string, string> = {}): Promise<Throughput> {
  const result = await autocannon({
    url,
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
    duration: seconds,
    ...LOAD,
  });
  return {
    requestsPerSecond: result.requests.total / result.duration,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    failures: result.errors + result.timeouts + result.non2xx,
    total: result.requests.total,
  };
}
