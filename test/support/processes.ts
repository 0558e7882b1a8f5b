import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import type { EmulatorStats } from "../../src/emulator/emulator.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TSX = fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url));

export interface GatewayProcess {
  readonly child: ChildProcess;
  /** `http://localhost:port/graphql`, from the gateway's "listening" log line. */
  readonly url: string;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** Sends `signal` and resolves the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `text` without terminal colour codes. */
export const plain = (text: string): string => text.replace(/\u001b\[[0-9;]*m/g, "");

/** The GraphQL URL from the gateway's JSON "listening" log line (LOG_FORMAT=json), once written. */
export function jsonListeningUrl(output: string): string | undefined {
  const line = output.split("\n").find((l) => l.includes('"connect-graphql listening"'));
  return line ? (JSON.parse(line).url as string) : undefined;
}

/** The GraphQL URL from the gateway's pretty "listening" log line (LOG_FORMAT=pretty), once written. */
export function prettyListeningUrl(output: string): string | undefined {
  return /connect-graphql listening[\s\S]*?url: "(http:\/\/[^"]+)"/.exec(plain(output))?.[1];
}

/**
 * Runs the gateway as its own process (`tsx src/main.ts`), as `npm start` would, with `env` over a
 * quiet, JSON-logging default; resolves once it logs that it listens (`listeningUrl` finds the URL
 * in its output: the JSON log line by default, `prettyListeningUrl` with LOG_FORMAT=pretty).
 * Rejects with its output if it exits first or does not come up within `timeoutMs`.
 */
export async function spawnGateway(
  env: Record<string, string>,
  timeoutMs = 20_000,
  listeningUrl: (output: string) => string | undefined = jsonListeningUrl,
): Promise<GatewayProcess> {
  const child = spawn(TSX, ["src/main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: "0", HOST: "127.0.0.1", LOG_FORMAT: "json", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${out}`)), timeoutMs);
    const check = () => {
      const found = listeningUrl(out);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout!.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before listening:\n${out}`));
    });
  });
  return {
    child,
    url,
    output: () => out,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = (await once(child, "exit")) as [number | null];
      return code;
    },
  };
}

/** Runs the gateway's entry point to completion (for `--help` and bad settings). */
export function runGateway(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runToCompletion("src/main.ts", args, env);
}

/** Runs a TypeScript entry point of the repository (`src/main.ts`, `src/emulator/cli.ts`) to completion. */
export async function runToCompletion(entry: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(TSX, [entry, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

/** The embedded emulator's URL, from the banner a gateway process prints after it listens (emulator mode). */
export async function embeddedEmulatorUrl(proc: GatewayProcess, timeoutMs = 5_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = /Emulator:\s+(http:\/\/\S+)/.exec(proc.output());
    if (match) return match[1]!;
    if (Date.now() > deadline) throw new Error(`no emulator URL in the gateway's banner:\n${proc.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** What the emulator at `emulatorUrl` has served (`GET /_emulator/stats`), for an emulator in another process. */
export async function emulatorStats(emulatorUrl: string): Promise<EmulatorStats> {
  return (await (await fetch(`${emulatorUrl}/_emulator/stats`)).json()) as EmulatorStats;
}
