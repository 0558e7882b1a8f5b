/**
 * The benchmark's child processes: the emulator, gateways and the hello-world peer each run in a
 * process of their own (one process each, so the pid is the server's and its resident memory can be
 * read), as they would in production. Gateways run what `npm start` runs, the compiled
 * `dist/main.js` with source maps, built once per benchmark run; the emulator and the hello-world
 * run their TypeScript through tsx.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

export interface ServerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The base URL the process announced. */
  readonly url: string;
  /** Resident set size now, MB (from /proc). */
  rssMb(): number;
  /** CPU time the process has used so far, user and system, ms (from /proc). */
  cpuMs(): number;
  output(): string;
  stop(): Promise<void>;
}

const running = new Set<ServerProcess>();

/** Where the processes' output goes (one file per process, overwritten each run). */
export const LOG_DIR = join(tmpdir(), "connect-graphql-bench");

/**
 * Starts `node [nodeArgs] --import tsx <script>` (a `.js` script: `node [nodeArgs] <script>`) with
 * `env` (over PATH and HOME only), and resolves once a stdout line yields a URL through `readUrl`.
 * Rejects with the output if it exits first. `launcher` runs node under another program (valgrind),
 * which must keep node's process id.
 */
export async function startProcess(
  name: string,
  script: string,
  env: Record<string, string>,
  readUrl: (line: string) => string | undefined,
  nodeArgs: string[] = [],
  timeoutMs = 60_000,
  launcher: string[] = [],
): Promise<ServerProcess> {
  // Output goes to a file, as production logs go to a collector: a pipe the busy benchmark process
  // drains late would fill and block the server's synchronous log writes.
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = join(LOG_DIR, `${name.replace(/[^a-z0-9]+/gi, "-")}.log`);
  const fd = openSync(logFile, "w");
  const nodeCommand = [process.execPath, ...(script.endsWith(".js") ? [...nodeArgs, script] : [...nodeArgs, "--import", "tsx", script])];
  const [command, ...args] = [...launcher, ...nodeCommand];
  const child = spawn(command!, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: "production", ...env },
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  const output = () => readFileSync(logFile, "utf8");
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      clearInterval(poll);
      child.kill("SIGKILL");
      reject(new Error(`${name} did not start within ${timeoutMs} ms:\n${output()}`));
    }, timeoutMs);
    const poll = setInterval(() => {
      for (const line of output().split("\n")) {
        const found = safe(() => readUrl(line));
        if (found) {
          clearTimeout(timer);
          clearInterval(poll);
          resolve(found);
          return;
        }
      }
    }, 50);
    child.once("exit", (code) => {
      clearTimeout(timer);
      clearInterval(poll);
      reject(new Error(`${name} exited with ${code} before listening:\n${output()}`));
    });
  });
  const proc: ServerProcess = {
    name,
    child,
    url,
    rssMb: () => rssMb(child.pid!),
    cpuMs: () => cpuMs(child.pid!),
    output,
    async stop() {
      running.delete(proc);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(proc);
  return proc;
}

/** Stops every process still running (on exit, error or Ctrl-C). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

/** The emulator (bench/emulatorProcess.ts), optionally with a bulk instance of `extraContacts`. */
export function startEmulatorProcess(extraContacts = 0): Promise<ServerProcess> {
  return startProcess("emulator", "bench/emulatorProcess.ts", { BENCH_EXTRA_CONTACTS: String(extraContacts) }, jsonUrl);
}

let built = false;

/** `npm run build` (src/ → dist/), once per benchmark process. */
export function buildGateway(): void {
  if (built) return;
  execFileSync("npm", ["run", "--silent", "build"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  built = true;
}

/**
 * The gateway as `npm start` runs it (`node --enable-source-maps dist/main.js`, built first), in emulator mode against the emulator at
 * `emulatorUrl`, on a free port, logging JSON at `info` (one line per operation). `options.build`:
 * another build's directory (`dist` copied aside), run as it is.
 */
export function startGatewayProcess(
  name: string,
  emulatorUrl: string,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
  options: { build?: string; launcher?: string[]; timeoutMs?: number } = {},
): Promise<ServerProcess> {
  if (options.build === undefined) buildGateway();
  return startProcess(
    name,
    `${options.build ?? "dist"}/main.js`,
    { CONNECT_MODE: "emulator", EMULATOR_URL: emulatorUrl, PORT: "0", HOST: "127.0.0.1", LOG_FORMAT: "json", LOG_LEVEL: "info", ...env },
    (line) => {
      if (!line.includes('"connect-graphql listening"')) return undefined;
      return (JSON.parse(line) as { url: string }).url.replace("localhost", "127.0.0.1");
    },
    ["--enable-source-maps", ...nodeArgs],
    options.timeoutMs,
    options.launcher,
  );
}

/** The bare `@apollo/server` hello-world on Fastify (bench/helloWorld.ts). */
export function startHelloWorldProcess(): Promise<ServerProcess> {
  return startProcess("hello-world", "bench/helloWorld.ts", {}, jsonUrl);
}

/**
 * Figure 3's floor (bench/apolloFloor.ts): bare Apollo Server with the gateway's schema and executor,
 * the contacts held in memory, read from the emulator at `emulatorUrl` on first use.
 */
export function startApolloFloorProcess(emulatorUrl: string, region: string): Promise<ServerProcess> {
  return startProcess("apollo floor", "bench/apolloFloor.ts", { EMULATOR_URL: emulatorUrl, FLOOR_REGION: region }, jsonUrl);
}

/** Figure 4's floor (bench/sdkFloor.ts): one DescribeContact through the real SDK behind a bare `node:http` server. */
export function startSdkFloorProcess(emulatorUrl: string, region: string): Promise<ServerProcess> {
  return startProcess("sdk floor", "bench/sdkFloor.ts", { EMULATOR_URL: emulatorUrl, FLOOR_REGION: region }, jsonUrl);
}

/**
 * The bare `node:http` server answering every `POST /graphql` with `body` and `headers`
 * (bench/rawHttp.ts; `content-length` is set from the body).
 */
export function startRawHttpProcess(body: Buffer, headers: Record<string, string>): Promise<ServerProcess> {
  return startProcess("raw http", "bench/rawHttp.ts", { RAW_BODY_BASE64: body.toString("base64"), RAW_HEADERS_JSON: JSON.stringify(headers) }, jsonUrl);
}

// Private: `{"url": ...}` lines.
function jsonUrl(line: string): string | undefined {
  if (!line.startsWith("{")) return undefined;
  const parsed = JSON.parse(line) as { url?: unknown };
  return typeof parsed.url === "string" ? parsed.url : undefined;
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

function cpuMs(pid: number): number {
  // Fields 14 and 15 of /proc/<pid>/stat (after the parenthesized command name): utime, stime in ticks.
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** Linux's USER_HZ: /proc reports CPU time in hundredths of a second. */
const CLOCK_TICKS = 100;

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}
