import { Writable } from "node:stream";
import { pino, type Logger } from "pino";
import { loadConfig } from "../../src/config/config.js";
import { ConnectUpstream } from "../../src/upstream/connectUpstream.js";
import { EMULATOR_CREDENTIALS } from "../../src/emulator/emulator.js";
import { connectReachable } from "../../src/upstream/connectReachable.js";
import { createGateway, type Gateway } from "../../src/http/gateway.js";

/** One JSON log line the gateway wrote. */
export interface LogLine {
  level: number;
  msg: string;
  requestId?: string;
  [key: string]: unknown;
}

/** A logger at `info` whose JSON lines land in `lines`, parsed. */
export function collectingLogger(lines: LogLine[]): Logger {
  return pino(
    { level: "info" },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split("\n")) if (line) lines.push(JSON.parse(line) as LogLine);
        done();
      },
    }),
  );
}

/**
 * A gateway in this process, pointed at the emulator at `emulatorUrl`, whose JSON log lines land in
 * `lines` (the contact cache is off unless `settings` turn it on).
 */
export async function startLoggedGateway(emulatorUrl: string, lines: LogLine[], settings: Record<string, string> = {}): Promise<{ gateway: Gateway; url: string }> {
  const config = loadConfig({ CONNECT_MODE: "emulator", PORT: "0", HOST: "127.0.0.1", CACHE_TTL_SECONDS: "0", ...settings }, false);
  const upstream = new ConnectUpstream({ endpoint: emulatorUrl, credentials: EMULATOR_CREDENTIALS });
  const gateway = await createGateway({
    config,
    upstream,
    logger: collectingLogger(lines),
    readinessChecks: { connect: connectReachable(upstream, config.AWS_REGION) },
  });
  return { gateway, url: await gateway.listen(0, "127.0.0.1") };
}
