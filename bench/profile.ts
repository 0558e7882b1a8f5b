/**
 * `tsx bench/profile.ts [warm|uncached|chain] [seconds]`: CPU-profiles a gateway process under the load of
 * one figure (`warm`: figure 3's cached realistic query under autocannon; `uncached`: figure 4's
 * single contact with the cache bypassed, sequential; `chain`: figure 2's chain, cache bypassed, no
 * upstream latency) and prints where its time goes, by function
 * and by package. The profile itself is kept in bench/profiles/ (open it in Chrome DevTools).
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { DEMO } from "../src/emulator/dataset.js";
import { graphql, sequentialLatencies, throughput } from "./load.js";
import { ROOT, startEmulatorProcess, startGatewayProcess, stopAll } from "./processes.js";
import { CHAIN_DEPTH, chainQuery, plan, REALISTIC_QUERY, SINGLE_QUERY } from "./workload.js";

const mode = process.argv[2] === "uncached" || process.argv[2] === "chain" ? process.argv[2] : "warm";
const seconds = Number(process.argv[3] ?? 8);
const dir = `${ROOT}bench/profiles/${mode}-${Date.now()}`;
mkdirSync(dir, { recursive: true });

const p = plan();
const emulator = await startEmulatorProcess();
const gateway = await startGatewayProcess("gateway", emulator.url, { CONNECT_MAX_RPS: "1000000", CONNECT_BURST: "1000000" }, ["--cpu-prof", `--cpu-prof-dir=${dir}`]);
try {
  if (mode === "warm") {
    const variables = { instanceId: DEMO.instanceId, contactId: p.warmContactId };
    await graphql(gateway.url, REALISTIC_QUERY, variables);
    const t = await throughput(gateway.url, JSON.stringify({ query: REALISTIC_QUERY, variables }), seconds);
    console.log(`${Math.round(t.requestsPerSecond)} req/s, p50 ${t.latencyP50Ms} ms, p99 ${t.latencyP99Ms} ms, failures ${t.failures}`);
  } else if (mode === "chain") {
    const variables = { instanceId: DEMO.instanceId, contactId: p.latencyChains[0] };
    const end = Date.now() + seconds * 1000;
    let n = 0;
    while (Date.now() < end) n += (await sequentialLatencies(20, () => graphql(gateway.url, chainQuery(CHAIN_DEPTH), variables, { "cache-control": "no-cache" }))).length;
    console.log(`${n} sequential chains of ${CHAIN_DEPTH}`);
  } else {
    const variables = { instanceId: DEMO.instanceId, contactId: p.singleContactId };
    const end = Date.now() + seconds * 1000;
    let n = 0;
    while (Date.now() < end) n += (await sequentialLatencies(100, () => graphql(gateway.url, SINGLE_QUERY, variables, { "cache-control": "no-cache" }))).length;
    console.log(`${n} sequential requests`);
  }
} finally {
  await gateway.stop();
  await stopAll();
}

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
if (!file) throw new Error(`no profile written in ${dir}`);
const profile = JSON.parse(readFileSync(`${dir}/${file}`, "utf8")) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
for (const node of profile.nodes) {
  const t = self.get(node.id) ?? 0;
  if (!t) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const short = url.replace(`file://${ROOT}`, "");
  byFunction.set(`${functionName || "(anonymous)"} ${short}:${lineNumber + 1}`, (byFunction.get(`${functionName || "(anonymous)"} ${short}:${lineNumber + 1}`) ?? 0) + t);
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(short)?.[1] ?? (short.startsWith("src/") ? short : short.startsWith("node:") ? "node:*" : short || functionName);
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + t);
}
const top = (m: Map<string, number>, n: number) =>
  [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`).join("\n");
console.log(`\nSelf time by package (${dir}/${file}):\n${top(byPackage, 25)}\n\nSelf time by function:\n${top(byFunction, 40)}`);
