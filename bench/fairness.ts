/**
 * The fair-share figure (issue #11): two callers compete for Connect's DescribeContact quota, one
 * flooding (many concurrent uncached contact queries, each of a contact nobody asked for before),
 * one light (one such query every 500 ms). Each has a bearer token of its own (`sub`), so the
 * gateway sees two principals, two quota shares. The figure is the light caller's p99 wait: the
 * whole round trip of its query, most of it the wait for a quota slot. In arrival order it would
 * wait behind the flood's queue (seconds: `contrast` measures that, with the flooder's own token);
 * with fair shares it waits about the look-ahead plus one slot per busy share.
 *
 * Processes: the emulator (bench/emulatorProcess.ts, with a bulk instance of distinct contacts,
 * enforcing Connect's 10/s burst 15 on DescribeContact), and the gateway as `npm start` runs it
 * (src/main.ts, AUTH_MODE=jwt, Connect's default quota). When a Redis answers on 127.0.0.1:6379,
 * two gateway replicas share it (under a prefix of their own, deleted afterwards): the flood goes
 * through both, the light caller through the second, so the share holds across replicas; without
 * Redis one gateway serves both.
 *
 * `npx tsx bench/fairness.ts [--quick]` prints the figure; bench/run.ts may call `fairShareFigure`.
 */
import { randomUUID } from "node:crypto";
import { createClient } from "@keyv/redis";
import { SignJWT } from "jose";
import { BULK_INSTANCE_ID, bulkContactId } from "./emulatorProcess.js";
import { graphql, percentile, send, type GraphQLResult } from "./load.js";
import { startGatewayProcess, startProcess, stopAll, type ServerProcess } from "./processes.js";
import { SINGLE_QUERY } from "./workload.js";

/** Connect's default DescribeContact quota, enforced by the emulator; the gateway runs at the same. */
const QUOTA = { rps: 10, burst: 15 };
/** Concurrent queries the flooder keeps in flight: a queue of about `FLOOD_CONCURRENCY / rps` seconds. */
const FLOOD_CONCURRENCY = 60;
const LIGHT_EVERY_MS = 500;
const REDIS_URL = "redis://127.0.0.1:6379";
const SECRET = `bench-fairness-${randomUUID()}`;
const NO_CACHE = { "cache-control": "no-cache" };

export interface FairShareFigure {
  value: number;
  target: string;
  met: boolean | null;
  detail: Record<string, unknown>;
}

/**
 * Runs the two callers against fresh processes and returns the light caller's p99 wait, seconds
 * (target: under one second). `quick` runs 15 s of light calls instead of 60.
 */
export async function fairShareFigure(options: { quick: boolean; log(message: string): void }): Promise<FairShareFigure> {
  const { quick, log } = options;
  const seconds = quick ? 15 : 60;
  // Distinct contacts to ask for; once all have been asked the ids come round again (each query
  // says no-cache, so a repeat still reads Connect).
  const contacts = 5_000;
  const redis = await redisAnswers();
  const prefix = `bench-fairness-${randomUUID()}:`;
  log(`fair shares: a flood of ${FLOOD_CONCURRENCY} concurrent queries and a light caller every ${LIGHT_EVERY_MS} ms for ${seconds} s, under ${QUOTA.rps}/s burst ${QUOTA.burst}${redis ? ", two replicas on Redis" : ", one gateway (no Redis)"}`);
  // Names of their own, so their log files (bench/processes.ts's LOG_DIR) are not another run's.
  const emulator = await startProcess("fairness emulator", "bench/emulatorProcess.ts", { BENCH_EXTRA_CONTACTS: String(contacts) }, jsonUrl);
  const started: ServerProcess[] = [emulator];
  try {
    const env = { AUTH_MODE: "jwt", AUTH_JWT_SECRET: SECRET, ...(redis && { REDIS_URL: redis, REDIS_KEY_PREFIX: prefix }) };
    const gateways = await Promise.all((redis ? ["fairness gateway A", "fairness gateway B"] : ["fairness gateway"]).map((name) => startGatewayProcess(name, emulator.url, env)));
    started.push(...gateways);
    const urls = gateways.map((g) => g.url);
    const lightUrl = urls.at(-1)!;
    await admin(emulator, "config", { quota: QUOTA });
    await admin(emulator, "reset");

    const [flooder, light] = await Promise.all([token("flooding-front-end@example.com"), token("light-front-end@example.com")]);
    let nextContact = 0;
    const contact = () => bulkContactId(nextContact++ % contacts);
    const ask = (url: string, bearer: string) => {
      const startedAt = performance.now();
      return graphql(url, SINGLE_QUERY, { instanceId: BULK_INSTANCE_ID, contactId: contact() }, { ...NO_CACHE, authorization: `Bearer ${bearer}` }).then(
        (result) => ({ ms: performance.now() - startedAt, outcome: outcomeOf(result) }),
        (error: unknown) => ({ ms: performance.now() - startedAt, outcome: `transport: ${error instanceof Error ? error.message : String(error)}` }),
      );
    };

    // The flood: FLOOD_CONCURRENCY loops, each asking again as soon as it is answered.
    let flooding = true;
    const flood = { ok: 0, throttled: 0, failed: 0, started: performance.now(), okAfterWarmup: 0 };
    let warm = false;
    let measuring = true;
    const loops = Array.from({ length: FLOOD_CONCURRENCY }, async (_, n) => {
      while (flooding) {
        const { outcome } = await ask(urls[n % urls.length]!, flooder);
        if (outcome === "ok") {
          flood.ok++;
          if (warm && measuring) flood.okAfterWarmup++;
        } else if (outcome === "UPSTREAM_THROTTLED") flood.throttled++;
        else flood.failed++;
      }
    });
    // Let the flood's queue build (in arrival order it would now be seconds deep).
    await sleep(3_000);
    warm = true;
    const measuredFrom = performance.now();

    // The light caller, and the contrast: the same light load sent with the flooder's own token
    // (one share with the flood, so in arrival order behind it), every 3 s.
    const lightSamples: number[] = [];
    const lightFailures: string[] = [];
    const contrastSamples: number[] = [];
    const contrast = (async () => {
      while (performance.now() - measuredFrom < seconds * 1000 - 3_000) {
        const { ms, outcome } = await ask(lightUrl, flooder);
        if (outcome === "ok") contrastSamples.push(ms);
        await sleep(3_000);
      }
    })();
    const pending: Array<Promise<void>> = [];
    for (let at = 0; at < seconds * 1000; at += LIGHT_EVERY_MS) {
      await sleep(Math.max(0, measuredFrom + at - performance.now()));
      pending.push(
        ask(lightUrl, light).then(({ ms, outcome }) => {
          if (outcome === "ok") lightSamples.push(ms);
          else lightFailures.push(outcome);
        }),
      );
    }
    await Promise.all(pending);
    const measuredSeconds = (performance.now() - measuredFrom) / 1000;
    measuring = false;
    flooding = false;
    await Promise.all([...loops, contrast]);

    const s = await stats(emulator);
    const p99 = lightSamples.length ? percentile(lightSamples, 99) / 1000 : Infinity;
    const p50 = lightSamples.length ? percentile(lightSamples, 50) / 1000 : Infinity;
    const result: FairShareFigure = {
      value: round(p99, 3),
      target: "< 1 s",
      met: p99 < 1 && lightFailures.length === 0 && s.throttled === 0,
      detail: {
        replicas: gateways.length,
        lightQueries: lightSamples.length + lightFailures.length,
        lightP50Seconds: round(p50, 3),
        lightP99Seconds: round(p99, 3),
        lightMaxSeconds: lightSamples.length ? round(Math.max(...lightSamples) / 1000, 3) : null,
        lightFailures: lightFailures.length,
        lightFailureCodes: [...new Set(lightFailures)],
        sameShareContrastP50Seconds: contrastSamples.length ? round(percentile(contrastSamples, 50) / 1000, 3) : null,
        sameShareContrastSamples: contrastSamples.length,
        flooderConcurrency: FLOOD_CONCURRENCY,
        flooderAnsweredPerSecond: round(flood.okAfterWarmup / measuredSeconds, 2),
        flooderThrottled: flood.throttled,
        flooderOtherFailures: flood.failed,
        upstream429s: s.throttled,
        upstreamCalls: s.byApi.DescribeContact,
        upstreamCallsPerSecond: round(s.byApi.DescribeContact / ((performance.now() - flood.started) / 1000), 2),
        maxAcceptedPerSecond: s.maxAcceptedPerSecondByApi.DescribeContact,
      },
    };
    return result;
  } finally {
    await Promise.all(started.map((p) => p.stop()));
    if (redis) await deleteKeys(redis, prefix).catch(() => undefined);
  }
}

// Private helpers.

function jsonUrl(line: string): string | undefined {
  if (!line.startsWith("{")) return undefined;
  const parsed = JSON.parse(line) as { url?: unknown };
  return typeof parsed.url === "string" ? parsed.url : undefined;
}

function token(subject: string): Promise<string> {
  return new SignJWT({ sub: subject, scope: "contacts:read", connect_instances: ["*"] })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(SECRET));
}

function outcomeOf(result: GraphQLResult): string {
  const code = result.body.errors?.[0]?.extensions?.code;
  if (result.status === 200 && !code && result.body.data?.contact) return "ok";
  return typeof code === "string" ? code : `HTTP ${result.status}`;
}

interface Stats {
  byApi: { DescribeContact: number };
  throttled: number;
  maxAcceptedPerSecondByApi: { DescribeContact: number };
}

async function stats(emulator: ServerProcess): Promise<Stats> {
  return JSON.parse((await send(`${emulator.url}/_emulator/stats`, "GET", {})).body) as Stats;
}

async function admin(emulator: ServerProcess, what: "reset" | "config", body: unknown = {}): Promise<void> {
  const res = await send(`${emulator.url}/_emulator/${what}`, "POST", { "content-type": "application/json" }, JSON.stringify(body));
  if (res.status !== 200) throw new Error(`emulator ${what} failed: ${res.status} ${res.body}`);
}

/** The Redis URL when one answers PING within a second, else `undefined`. */
async function redisAnswers(): Promise<string | undefined> {
  const client = createClient({ url: REDIS_URL, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  client.on("error", () => {});
  try {
    await client.connect();
    return (await client.ping()) === "PONG" ? REDIS_URL : undefined;
  } catch {
    return undefined;
  } finally {
    if (client.isOpen) client.destroy();
  }
}

async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = createClient({ url });
  client.on("error", () => {});
  try {
    await client.connect();
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length > 0) await client.del(keys);
  } finally {
    if (client.isOpen) client.destroy();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function round(n: number, digits: number): number {
  return Number(n.toFixed(digits));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes("--quick");
  const log = (message: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
  fairShareFigure({ quick, log })
    .then((figure) => {
      console.log(JSON.stringify({ fairShareLightP99Seconds: figure }, null, 2));
      process.exitCode = figure.met ? 0 : 1;
    })
    .catch(async (error: unknown) => {
      console.error(error);
      await stopAll();
      process.exit(1);
    });
}
