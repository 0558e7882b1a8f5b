import { pino, type Logger } from "pino";
import type { Config } from "../config/config.js";

/**
 * Paths that may hold personal data in anything the gateway logs. Log lines are written from ids,
 * counts and codes only; these paths are a second line of defence should a value slip into one
 * (a request body, a variables object, a contact).
 */
export const REDACTED_LOG_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
  "variables",
  "body",
  "contact",
  "*.variables",
  "*.contact",
];

/** The process logger: JSON lines by default, pretty on a terminal (`LOG_FORMAT`). */
export function createLogger(config: Pick<Config, "LOG_LEVEL" | "LOG_FORMAT">): Logger {
  return pino({
    level: config.LOG_LEVEL,
    base: { service: "connect-graphql" },
    redact: { paths: REDACTED_LOG_PATHS, censor: "[redacted]" },
    ...(config.LOG_FORMAT === "pretty" && {
      transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,service" } },
    }),
  });
}
