import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ApolloServer, HeaderMap, type ApolloServerOptionsWithGateway, type BaseContext } from "@apollo/server";
import { buildSchema as buildSdl } from "graphql";
import { describe, expect, it } from "vitest";
import { isPatchedApolloResponse } from "../../src/graphql/jitExecutor.js";

// Everything a request allocates should die young: once its answer is sent nothing refers to it,
// and V8's young-generation collection (a scavenge) frees it for the cost of what survives. An
// object literal with `get`/`set` built per request breaks that: V8 allocates the literal's
// accessor pair in the old generation, and that pair, dead or alive, keeps the accessors' closures
// and everything they reach alive through every scavenge, so the whole request is copied, promoted
// and left for a full collection. Apollo Server's gateway mode (how GRAPHQL_JIT runs) built one per
// operation (patched: patches/@apollo+server+5.5.1.patch), the loaders one per upstream read; with
// them about 9% of what a request allocates was promoted, now well under 1% (bench/README.md,
// finding 12). The probe is a whole stack in a child process under `--trace-gc-nvp`.

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface Promotion {
  scavenges: number;
  allocatedBytes: number;
  promotedBytes: number;
}

/** Runs test/support/garbageProbe.ts and sums V8's young-generation collections over its measured requests. */
function probe(mode: "cached" | "uncached", count = 1500): Promise<Promotion> {
  return new Promise((resolve, reject) => {
    // Killed after 55 s (the spec's own timeout is 60 s), so a stuck probe leaves no process behind.
    const child = spawn(process.execPath, ["--trace-gc-nvp", "--import", "tsx", "test/support/garbageProbe.ts", mode, String(count)], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 55_000,
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
    child.on("error", reject);
    // "close", not "exit": the output is complete only once the pipes have closed.
    child.on("close", (code) => {
      const lines = out.split("\n");
      const from = lines.indexOf("MEASURE");
      const to = lines.indexOf("DONE");
      if (code !== 0 || from < 0 || to < from) return reject(new Error(`probe ended with ${code}:\n${err.slice(-2000)}`));
      const result: Promotion = { scavenges: 0, allocatedBytes: 0, promotedBytes: 0 };
      for (const line of lines.slice(from + 1, to)) {
        if (!/\bgc=s\b/.test(line)) continue;
        result.scavenges += 1;
        result.allocatedBytes += Number(/\ballocated=(\d+)/.exec(line)?.[1] ?? NaN);
        result.promotedBytes += Number(/\bpromoted=(\d+)/.exec(line)?.[1] ?? NaN);
      }
      resolve(result);
    });
  });
}

describe("a finished request's objects die young", () => {
  it("promotes under 1.5% of what cached reads allocate (no accessor literal per operation or per read)", async () => {
    const { scavenges, allocatedBytes, promotedBytes } = await probe("cached");
    expect(scavenges, "young-generation collections (V8's `gc=s` lines) during the measured requests").toBeGreaterThanOrEqual(4);
    expect(promotedBytes / allocatedBytes).toBeLessThan(0.015);
  }, 60_000);

  it("promotes under 1.5% of what uncached reads allocate, the SDK call and the contact's model included", async () => {
    const { scavenges, allocatedBytes, promotedBytes } = await probe("uncached");
    expect(scavenges, "young-generation collections (V8's `gc=s` lines) during the measured requests").toBeGreaterThanOrEqual(4);
    expect(promotedBytes / allocatedBytes).toBeLessThan(0.015);
  }, 60_000);
});

describe("Apollo's gateway mode, as patched", () => {
  // What the patch must keep: an executor may set the HTTP status and headers through the gateway
  // request context's `response.http`, and they reach the answer (Apollo's documented contract).
  it("hands the executor a response whose status and headers reach the HTTP answer, through accessors on a shared prototype", async () => {
    const schema = buildSdl("type Query { hello: String }");
    const seen: object[] = [];
    const gateway: ApolloServerOptionsWithGateway<BaseContext>["gateway"] = {
      onSchemaLoadOrUpdate(listener) {
        listener({ apiSchema: schema, coreSupergraphSdl: "" });
        return () => {};
      },
      async load() {
        return {
          executor: async (rc) => {
            const http = rc.response!.http!;
            seen.push(http);
            http.status = 203;
            http.headers.set("x-executor", `status was ${String(http.status)}`);
            return { data: { hello: "world" } };
          },
        };
      },
      async stop() {},
    };
    const apollo = new ApolloServer({ gateway });
    await apollo.start();
    try {
      const ask = () =>
        apollo.executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method: "POST", headers: new HeaderMap([["content-type", "application/json"]]), search: "", body: { query: "{ hello }" } },
          context: async () => ({}),
        });
      const [first] = await Promise.all([ask(), ask()]);
      expect(first.status).toBe(203);
      expect(first.headers.get("x-executor")).toBe("status was 203");
      expect(first.body).toEqual({ kind: "complete", string: expect.stringContaining('"hello":"world"') });
      // No own accessor per request: both requests' objects share their prototype's.
      expect(seen).toHaveLength(2);
      for (const http of seen) expect(Object.getOwnPropertyDescriptor(http, "status")).toBeUndefined();
      expect(Object.getPrototypeOf(seen[0])).toBe(Object.getPrototypeOf(seen[1]));
      // The gateway's check at its first executed operation (a warning when unpatched) agrees.
      expect(seen.every((http) => isPatchedApolloResponse(http))).toBe(true);
      let status = 200;
      const unpatched = {
        headers: new HeaderMap(),
        get status() {
          return status;
        },
        set status(value: number) {
          status = value;
        },
      };
      expect(isPatchedApolloResponse(unpatched)).toBe(false);
    } finally {
      await apollo.stop();
    }
  });
});
