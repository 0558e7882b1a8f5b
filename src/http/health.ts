import type { FastifyInstance } from "fastify";

/** One readiness condition: resolves when met, rejects with the reason when not. */
export type ReadinessCheck = () => Promise<void>;

export interface HealthOptions {
  /** Named checks `/readyz` runs, all at once. The configuration needs none: an invalid one stops start-up. */
  checks?: Record<string, ReadinessCheck>;
  /** A check that takes longer fails. Default 2000 ms. */
  timeoutMs?: number;
  /** A passed check is not run again for this long, so frequent probes cost nothing upstream. Default 5000 ms. */
  cacheMs?: number;
  /**
   * A failed check is not run again for this long: `/readyz` needs no token, so without it every
   * probe (anyone's) would start an outbound request while Connect is unreachable. Default 1000 ms.
   */
  failedCacheMs?: number;
  /**
   * Named states `/readyz` reports without judging readiness by them: parts the gateway serves
   * without, such as Redis (when it is down, the cache and limiter fall back to local state, and
   * taking every replica out of the load balancer would turn a slowdown into an outage).
   */
  info?: Record<string, () => string>;
}

/**
 * `GET /healthz`: the process is alive and serving HTTP (200, no checks), for liveness probes.
 * `GET /readyz`: ready to serve (200) or not (503), with the state of each check, for readiness
 * probes and load balancers. Once shutdown begins the server stops listening (new connections are
 * refused), and Fastify answers a request on a connection still open, `/readyz` included, with 503
 * while in-flight operations finish.
 */
export function registerHealthRoutes(app: FastifyInstance, options: HealthOptions = {}): void {
  const checks = Object.entries(options.checks ?? {});
  const timeoutMs = options.timeoutMs ?? 2000;
  const cacheMs = options.cacheMs ?? 5000;
  const failedCacheMs = options.failedCacheMs ?? 1000;
  // Per check: its last result and when, and the run in progress, which concurrent probes share.
  const last = new Map<string, { result: string; at: number }>();
  const running = new Map<string, Promise<string>>();
  const run = (name: string, check: ReadinessCheck): Promise<string> => {
    const previous = last.get(name);
    if (previous && Date.now() - previous.at < (previous.result === "ok" ? cacheMs : failedCacheMs)) return Promise.resolve(previous.result);
    let pending = running.get(name);
    if (!pending) {
      pending = withTimeout(Promise.resolve().then(check), timeoutMs).then(
        () => "ok",
        (error: unknown) => `failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      running.set(name, pending);
      void pending.then((result) => {
        last.set(name, { result, at: Date.now() });
        running.delete(name);
      });
    }
    return pending;
  };

  app.get("/healthz", async (_request, reply) => reply.header("cache-control", "no-store").send({ status: "ok" }));

  app.get("/readyz", async (_request, reply) => {
    const results: Record<string, string> = { configuration: "ok" };
    await Promise.all(
      checks.map(async ([name, check]) => {
        results[name] = await run(name, check);
      }),
    );
    const ready = Object.values(results).every((r) => r === "ok");
    const info = Object.fromEntries(Object.entries(options.info ?? {}).map(([name, state]) => [name, state()]));
    return reply
      .code(ready ? 200 : 503)
      .header("cache-control", "no-store")
      .send({ status: ready ? "ready" : "not ready", checks: results, ...(Object.keys(info).length > 0 && { info }) });
  });
}

// Private: rejects when `promise` has not settled in `ms`.
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
