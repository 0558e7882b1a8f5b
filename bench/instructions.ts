/**
 * `npx tsx bench/instructions.ts [build ...] [--warm=3000] [--requests=1500] [--rounds=2] [--uncached]`:
 * the instructions the gateway's main thread executes per warm request (figure 3's realistic query,
 * executed: `RESPONSE_CACHE=false`), or with `--uncached` per uncached read (figure 4's single rich
 * contact with `Cache-Control: no-cache`: one DescribeContact each), counted by valgrind's
 * callgrind, for each build directory given (default `dist`, built first; for an A/B, copy `dist`
 * aside before rebuilding, e.g. to `distA`).
 *
 * Why: on a host whose throughput rounds move by up to 2× (bench/README.md, finding 14), a change
 * of a few percent cannot be seen in requests/s or CPU time. Instructions are counted, not timed:
 * the same build repeats within about 1.5% on the main thread (V8's compiler and collector threads,
 * left out, vary with timing). They do not see what the kernel does (socket writes) nor cache misses,
 * so they judge changes to the gateway's own code, not the figures themselves.
 *
 * How: each build's gateway runs under `valgrind --tool=callgrind --instr-atstart=no
 * --separate-threads=yes` (nothing counted until switched on), against one emulator process; it is
 * warmed up with `--warm` requests (autocannon, 10 connections), counting is switched on with
 * `callgrind_control -i on` for exactly `--requests` more, then off and dumped; the main thread's
 * total over the requests is printed. Builds alternate for `--rounds` rounds. About a minute per
 * build and round on the 2-core machine. Needs `valgrind` (on every machine of this kind).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import autocannon from "autocannon";
import { DEMO } from "../src/emulator/dataset.js";
import { graphql } from "./load.js";
import { LOG_DIR, startEmulatorProcess, startGatewayProcess, stopAll, type ServerProcess } from "./processes.js";
import { plan, REALISTIC_QUERY, SINGLE_QUERY } from "./workload.js";

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => Number(args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const builds = args.filter((a) => !a.startsWith("--"));
const WARM = option("warm", 3000);
const REQUESTS = option("requests", 1500);
const ROUNDS = option("rounds", 2);
const UNCACHED = args.includes("--uncached");
/** What each counted request sends: the realistic query, or one uncached rich contact. */
const LOAD: { query: string; contactId: string; headers: Record<string, string> } = UNCACHED
  ? { query: SINGLE_QUERY, contactId: plan().singleContactId, headers: { "cache-control": "no-cache" } }
  : { query: REALISTIC_QUERY, contactId: plan().warmContactId, headers: {} };
// valgrind names its control pipes after USER and HOST; the gateway's env sets HOST to its listen
// address, so both sides are given the same values.
const VGDB_ENV = { USER: "root", LOGNAME: "root", HOST: "127.0.0.1" };

async function main(): Promise<void> {
  const emulator = await startEmulatorProcess();
  const variables = { instanceId: DEMO.instanceId, contactId: LOAD.contactId };
  const body = JSON.stringify({ query: LOAD.query, variables });
  const counts = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const build of builds.length > 0 ? builds : [undefined]) {
      const name = build ?? "dist";
      const perRequest = await measure(emulator, build, body, variables);
      counts.set(name, [...(counts.get(name) ?? []), perRequest]);
      console.log(`${name}: ${perRequest.toFixed(1)} thousand instructions per ${UNCACHED ? "uncached" : "warm"} request (main thread)`);
    }
  }
  console.log(`\nbuild: main-thread instructions per ${UNCACHED ? "uncached" : "warm"} request, thousands, each round`);
  for (const [name, values] of counts) console.log(`${name}: ${values.map((v) => v.toFixed(1)).join(", ")}`);
}

// One build, once: started under callgrind, warmed up, counted over REQUESTS requests.
async function measure(emulator: ServerProcess, build: string | undefined, body: string, variables: Record<string, string>): Promise<number> {
  const out = join(LOG_DIR, `callgrind-${(build ?? "dist").replace(/\W+/g, "-")}`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const launcher = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--separate-threads=yes", "--smc-check=all-non-file", `--callgrind-out-file=${out}/callgrind.out`];
  const gateway = await startGatewayProcess(
    "gateway (callgrind)",
    emulator.url,
    { RESPONSE_CACHE: "false", CONNECT_MAX_RPS: "1000000", CONNECT_BURST: "1000000", ...VGDB_ENV },
    [],
    { ...(build !== undefined && { build }), launcher, timeoutMs: 300_000 },
  );
  try {
    const answer = await graphql(gateway.url, LOAD.query, variables, LOAD.headers);
    if (answer.status !== 200 || answer.body.errors) throw new Error(`the gateway did not answer the query: ${JSON.stringify(answer.body).slice(0, 300)}`);
    await send(gateway.url, body, WARM);
    const pid = String(gateway.child.pid);
    const control = (...command: string[]) => execFileSync("callgrind_control", [...command, pid], { env: { ...process.env, ...VGDB_ENV }, stdio: "ignore" });
    control("-i", "on");
    await send(gateway.url, body, REQUESTS);
    control("-i", "off");
    control("-d");
    return mainThreadInstructions(out) / REQUESTS / 1000;
  } finally {
    await gateway.stop();
  }
}

async function send(url: string, body: string, amount: number): Promise<void> {
  const result = await autocannon({ url, method: "POST", headers: { "content-type": "application/json", ...LOAD.headers }, body, amount, connections: 10 });
  const failures = result.errors + result.timeouts + result.non2xx;
  if (failures > 0) throw new Error(`${failures} of ${amount} requests failed`);
}

// The `totals:` of the main thread's dump (callgrind names it `<file>.<dump>-01`).
function mainThreadInstructions(dir: string): number {
  const file = readdirSync(dir).find((f) => /\.\d+-01$/.test(f));
  if (!file) throw new Error(`callgrind wrote no main-thread dump in ${dir}`);
  const totals = /^totals: (\d+)/m.exec(readFileSync(join(dir, file), "utf8"));
  if (!totals) throw new Error(`no totals in ${dir}/${file}`);
  return Number(totals[1]);
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
