import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { createClient, type RedisClientType } from "@keyv/redis";

/** The shared Redis of the machine (CI starts one where it is missing). */
export const SHARED_REDIS_URL = "redis://127.0.0.1:6379";

/** Whether a Redis answers PING at `url` within a second. */
export async function redisAnswers(url: string): Promise<boolean> {
  const client = createClient({ url, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  client.on("error", () => {});
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    if (client.isOpen) client.destroy();
  }
}

/** Fails with a clear message when the shared Redis is absent, so a Redis test never passes by not running. */
export async function requireSharedRedis(): Promise<void> {
  if (!(await redisAnswers(SHARED_REDIS_URL))) {
    throw new Error(
      `These tests need a real Redis at ${SHARED_REDIS_URL} and none answers. CI's .ci/run starts one; locally run: redis-server --save "" --appendonly no`,
    );
  }
}

/** Runs `use` with a client of the shared Redis. */
export async function withRedis<T>(use: (client: RedisClientType) => Promise<T>, url = SHARED_REDIS_URL): Promise<T> {
  const client = createClient({ url }) as RedisClientType;
  client.on("error", () => {});
  try {
    await client.connect();
    return await use(client);
  } finally {
    if (client.isOpen) client.destroy();
  }
}

/** Deletes every key under `prefix` in the shared Redis (test clean-up). */
export function deleteKeys(url: string, prefix: string): Promise<void> {
  return withRedis(async (client) => {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      if (keys.length > 0) await client.del(keys);
    }
  }, url);
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

/**
 * A private `redis-server` on `port` that a test may stop and start at will (never the shared one
 * on 6379): no persistence, so a restart comes back empty, as a crashed cache would.
 */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn("/usr/bin/redis-server", ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    for (let tries = 0; tries < 100; tries++) {
      if (await redisAnswers(this.url)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server did not come up on port ${this.port}`);
  }

  /** Stops the server's process without ending it (SIGSTOP): connections stay open, nothing is answered. */
  freeze(): void {
    this.child?.kill("SIGSTOP");
  }

  /** Lets a frozen server run again (SIGCONT); it answers what it was sent meanwhile. */
  thaw(): void {
    this.child?.kill("SIGCONT");
  }

  /** Ends the server (SIGKILL, which ends a frozen one too); it keeps nothing, so a restart comes back empty. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    child.kill("SIGKILL");
    await once(child, "exit");
  }
}
