/**
 * `tsx bench/profile.ts [warm|uncached|chain] [seconds]`: CPU-profiles a gateway process under the load of
 * one figure (`warm`: figure 3's realistic query repeated under autocannon, executed; `uncached`:
 * figure 4's single contact with the cache bypassed, sequential; `chain`: figure 2's chain, cache
 * bypassed, no upstream latency) and prints where its time goes, by function and by package. The
 * profile itself is kept in bench/profiles/ (open it in Chrome DevTools).
 *
 * bench/run.ts uses the same pieces (`profileGateway`, `summarizeProfile`) to profile the load of
 * every figure still short of its target (every CPU figure with `--profile`).
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { DEMO } from "../src/emulator/dataset.js";
import { graphql, sequentialLatencies, throughput } from "./load.js";
import { ROOT, startEmulatorProcess, startGatewayProcess, stopAll } from "./processes.js";
import { CHAIN_DEPTH, chainQuery, plan, REALISTIC_QUERY, SINGLE_QUERY } from "./workload.js";

/** The loads a figure puts on the gateway. */
export type ProfileLoad = "warm" | "uncached" | "chain";

/** Where the time of one profile went. */
export interface ProfileSummary {
  /** The .cpuprofile, relative to the repository. */
  file: string;
  /** What was sent while profiling. */
  load: string;
  /** Sampled time within the window, ms, and the share of it the main thread was busy (not idle). */
  sampledMs: number;
  busyShare: number;
  /** Self time by package (`src/…` files by file) as a share of busy time, largest first: `"31.2% @smithy/core"`. */
  byPackage: string[];
  /** Self time by function as a share of busy time, largest first: `"4.1% execute node_modules/graphql/…:123"`. */
  byFunction: string[];
}

/** Now on the clock V8's profiles use (CLOCK_MONOTONIC, µs), to cut a window out of a profile. */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * Starts a gateway (dist/main.js) with `env` against the emulator at `emulatorUrl` under
 * `--cpu-prof`, drives `load` at it for `seconds`, stops it and summarizes its profile.
 */
export async function profileGateway(options: {
  name: string;
  emulatorUrl: string;
  env: Record<string, string>;
  load: ProfileLoad;
  seconds: number;
  dir: string;
  top?: { packages: number; functions: number };
}): Promise<ProfileSummary> {
  mkdirSync(options.dir, { recursive: true });
  const gateway = await startGatewayProcess(options.name, options.emulatorUrl, options.env, ["--cpu-prof", `--cpu-prof-dir=${options.dir}`]);
  let load: string;
  const window = { fromUs: 0, toUs: Infinity };
  try {
    // Past start-up and V8's compilation of the path (bench/run.ts, `RUN`): a few thousand reads.
    await driveLoad(options.load, gateway.url, options.load === "warm" ? 3 : 6);
    window.fromUs = monotonicMicros();
    load = await driveLoad(options.load, gateway.url, options.seconds);
    window.toUs = monotonicMicros();
  } finally {
    await gateway.stop();
  }
  return { ...summarizeProfile(options.dir, options.top, window), load };
}

/** Sends `load` to the gateway at `url` for `seconds`; describes what was sent. */
export async function driveLoad(load: ProfileLoad, url: string, seconds: number): Promise<string> {
  const p = plan();
  if (load === "warm") {
    const variables = { instanceId: DEMO.instanceId, contactId: p.warmContactId };
    await graphql(url, REALISTIC_QUERY, variables);
    const t = await throughput(url, JSON.stringify({ query: REALISTIC_QUERY, variables }), seconds);
    return `realistic query repeated, autocannon ${seconds} s: ${Math.round(t.requestsPerSecond)} req/s, p50 ${t.latencyP50Ms} ms, p99 ${t.latencyP99Ms} ms, failures ${t.failures}`;
  }
  const [query, variables, batch] =
    load === "chain"
      ? [chainQuery(CHAIN_DEPTH), { instanceId: DEMO.instanceId, contactId: p.latencyChains[0] }, 20]
      : [SINGLE_QUERY, { instanceId: DEMO.instanceId, contactId: p.singleContactId }, 100];
  const end = Date.now() + seconds * 1000;
  let n = 0;
  while (Date.now() < end) n += (await sequentialLatencies(batch, () => graphql(url, query, variables, { "cache-control": "no-cache" }))).length;
  return load === "chain" ? `${n} sequential chains of ${CHAIN_DEPTH}, cache bypassed, no upstream latency` : `${n} sequential uncached single contacts`;
}

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/**
 * Self time by package and by function of the one .cpuprofile in `dir`, over the samples taken
 * within `window` (`monotonicMicros()` readings; default: all), as shares of the busy time.
 */
export function summarizeProfile(dir: string, top = { packages: 25, functions: 40 }, window = { fromUs: 0, toUs: Infinity }): Omit<ProfileSummary, "load"> {
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) throw new Error(`no profile written in ${dir}`);
  const profile = JSON.parse(readFileSync(`${dir}/${file}`, "utf8")) as { nodes: Node[]; startTime: number; samples: number[]; timeDeltas: number[] };
  const self = new Map<number, number>();
  let at = profile.startTime;
  let sampled = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < window.fromUs || at > window.toUs) return;
    sampled += delta;
    self.set(id, (self.get(id) ?? 0) + delta);
  });
  const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
  for (const id of idleIds) self.delete(id);
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const node of profile.nodes) {
    const t = self.get(node.id) ?? 0;
    if (!t) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const short = url.replace(`file://${ROOT}`, "");
    const fn = `${functionName || "(anonymous)"} ${short}:${lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + t);
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(short)?.[1] ?? (short.startsWith("src/") ? short : short.startsWith("node:") ? "node:*" : short || functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + t);
  }
  const ranked = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `${((100 * v) / total).toFixed(1)}% ${k}`);
  return {
    file: `${dir}/${file}`.replace(ROOT, ""),
    sampledMs: Math.round(sampled / 1000),
    busyShare: Number((total / sampled).toFixed(3)),
    byPackage: ranked(byPackage, top.packages),
    byFunction: ranked(byFunction, top.functions),
  };
}

async function cli(): Promise<void> {
  const load: ProfileLoad = process.argv[2] === "uncached" || process.argv[2] === "chain" ? process.argv[2] : "warm";
  const seconds = Number(process.argv[3] ?? 8);
  const dir = `${ROOT}bench/profiles/${load}-${Date.now()}`;
  const emulator = await startEmulatorProcess();
  try {
    // The execution path, as figures 2–4 measure it: the response cache would answer the warm load's repeats.
    const env = { CONNECT_MAX_RPS: "1000000", CONNECT_BURST: "1000000", RESPONSE_CACHE: "false" };
    const s = await profileGateway({ name: "gateway", emulatorUrl: emulator.url, env, load, seconds, dir });
    const indent = (lines: string[]) => lines.map((l) => `  ${l}`).join("\n");
    console.log(`${s.load}\n${Math.round(100 * s.busyShare)}% busy over ${s.sampledMs} ms sampled; shares of busy time.\n\nSelf time by package (${s.file}):\n${indent(s.byPackage)}\n\nSelf time by function:\n${indent(s.byFunction)}`);
  } finally {
    await stopAll();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  cli().catch(async (error: unknown) => {
    console.error(error);
    await stopAll();
    process.exit(1);
  });
}
