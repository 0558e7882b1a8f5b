import { pino, type Logger } from "pino";
import type { Config } from "../config/config.js";

/**
 * Paths that may hold personal data in anything the gateway logs. Log lines are written from ids,
 * counts and codes only; these paths are a second line of defence should a value slip into one
 * (a request body, a variables object, a contact) at the top of a line or in a request's headers.
 * Exact paths only: each `*.` wildcard makes the redactor walk every key of every line, and two of
 * them more than doubled the cost of the line every operation writes (bench/README.md, finding 13).
 */
export const REDACTED_LOG_PATHS = ["req.headers.authorization", "req.headers.cookie", "headers.authorization", "variables", "body", "contact"];

/**
 * Largest write to the log's file descriptor, bytes. sonic-boom (pino's destination) measures the
 * UTF-8 length of the chunk it is filling on every line written while a write is in flight, so a
 * busy gateway paid for re-reading up to its default 16 KB per line; 4 KB keeps that small and
 * still writes dozens of lines at a time.
 */
const LOG_MAX_WRITE_BYTES = 4096;

/** The process logger: JSON lines on stdout by default, pretty on a terminal (`LOG_FORMAT`). */
export function createLogger(config: Pick<Config, "LOG_LEVEL" | "LOG_FORMAT">): Logger {
  const options = {
    level: config.LOG_LEVEL,
    base: { service: "connect-graphql" },
    redact: { paths: REDACTED_LOG_PATHS, censor: "[redacted]" },
  };
  if (config.LOG_FORMAT === "pretty") {
    return pino({ ...options, transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,service" } } });
  }
  // What `pino()` uses by default (asynchronous on fd 1, flushed on exit), with smaller writes;
  // and, like pino, `process.stdout` itself when something has replaced its `write` (a harness or
  // an agent capturing the output).
  if (process.stdout.write !== Object.getPrototypeOf(process.stdout).write) return pino(options);
  return pino(options, pino.destination({ dest: process.stdout.fd, sync: false, maxWrite: LOG_MAX_WRITE_BYTES }));
}
