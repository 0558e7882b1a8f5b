import { z } from "zod";
import { API_NAMES, type ApiName } from "./apiNames.js";
import type { EmulatorOptions } from "./options.js";
import type { QuotaOption, TokenBucketSpec } from "./quotas.js";
import { MAX_TIMER_MS } from "./timers.js";

/**
 * Every setting of the emulator, in one table: the environment variable, its schema, its default
 * and what it means. The standalone emulator (`npm run emulator`) and the one the gateway embeds in
 * emulator mode (`npm start`) read this same table, so a setting means the same in both; the
 * gateway's own settings (config.ts) name none of these. `EMULATOR_URL`, which tells the gateway to
 * use an emulator running elsewhere instead of embedding one, is the gateway's setting.
 */

// Private: environment values are strings; these turn them into typed values with clear errors.
const typeError = (message: string) => ({ error: (issue: { code: string }) => (issue.code === "invalid_type" ? message : undefined) });
const int = (min: number, max = Number.MAX_SAFE_INTEGER, tooBig?: string) => z.coerce.number(typeError("expected a whole number")).int().min(min).max(max, tooBig);
// A duration in milliseconds becomes a timer's delay, which Node runs after 1 ms past MAX_TIMER_MS.
const ms = (min: number) => int(min, MAX_TIMER_MS, `expected at most ${MAX_TIMER_MS} ms (about 24.8 days, the longest delay Node's timers keep)`);
const num = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number(typeError("expected a number")).min(min).max(max);
const bool = z.enum(["true", "false", "1", "0", "yes", "no"]).transform((v) => v === "true" || v === "1" || v === "yes");
const str = z.string().min(1);
const regions = z
  .string()
  .transform((v) => v.split(",").map((r) => r.trim()).filter((r) => r !== ""))
  .pipe(z.array(z.string().regex(/^[a-z]{2}(?:-[a-z]+)+-\d+$/, "expected region names such as us-east-1,eu-west-2")).min(1, "expected at least one region"));
const apiQuotas = z.string().transform((v, ctx) => {
  const parsed = parseApiQuotas(v);
  if (typeof parsed === "string") {
    ctx.addIssue({ code: "custom", message: parsed });
    return z.NEVER;
  }
  return parsed;
});

interface Setting<S extends z.ZodType> {
  schema: S;
  /** The default as the environment would spell it; `undefined` means unset. */
  default?: string;
  help: string;
}
const setting = <S extends z.ZodType>(s: Setting<S>) => s;

/** The emulator's settings, each with `{ schema, default?, help }` like the gateway's `SETTINGS`. */
export const EMULATOR_SETTINGS = {
  EMULATOR_PORT: setting({ schema: int(0, 65535), default: "0", help: "Port of the emulator; 0 picks a free one (its URL is printed at start). Set one, e.g. 4010, to give other processes a stable EMULATOR_URL." }),
  EMULATOR_HOST: setting({ schema: str, default: "127.0.0.1", help: "Interface the emulator listens on." }),
  EMULATOR_SEED: setting({ schema: int(0, 2 ** 32 - 1), default: "1", help: "Seed of the synthetic data set; other seeds keep the DEMO ids but change everything else." }),
  EMULATOR_LATENCY_MS: setting({ schema: ms(0), default: "0", help: "Latency the emulator adds to every Connect API answer." }),
  EMULATOR_QUOTA_RPS: setting({
    schema: num(0),
    default: "10",
    help: "Emulated DescribeContact quota: calls per second per region, as Connect counts them (over it: 429 ThrottlingException). The other APIs keep Connect's defaults unless EMULATOR_API_QUOTAS says otherwise. 0 turns every emulated quota off.",
  }),
  EMULATOR_QUOTA_BURST: setting({ schema: int(1), default: "15", help: "Burst of the emulated DescribeContact quota." }),
  EMULATOR_API_QUOTAS: setting({
    schema: apiQuotas,
    default: "",
    help: "Emulated quotas of the other Connect APIs as Api=rps/burst pairs, e.g. SearchContacts=2/5,DescribeUser=20/30. Unlisted APIs keep Connect's defaults: DescribeQueue, DescribeUser, GetContactAttributes, ListContactReferences 10/s burst 15; SearchContacts 0.5/s burst 1.",
  }),
  EMULATOR_REGIONS: setting({
    schema: regions,
    default: "us-east-1",
    help: "Comma-separated regions whose endpoints serve the data set's instances (a request's region is its SigV4 credential scope's). Another region's endpoint, like an ARN of another region or account, answers ResourceNotFoundException, as Connect's instances live in one region. The gateway's embedded emulator also serves the gateway's AWS_REGION.",
  }),
  EMULATOR_REQUIRE_AUTH: setting({ schema: bool, default: "true", help: "Refuse requests without a SigV4 Authorization header (403), as AWS does; the signature itself is never checked." }),

  // Contact events, delivered to an SQS queue the emulator serves on its own port.
  EMULATOR_LIVE_CONTACTS_PER_MINUTE: setting({
    schema: num(0, 6000),
    default: "4",
    help: "Live traffic: new contacts per minute, each played through its life (INITIATED, QUEUED, CONNECTED_TO_AGENT, some transferred, DISCONNECTED, COMPLETED) with contact events on the emulator's SQS queue; 0 turns it off.",
  }),
  EMULATOR_LIVE_STEP_SECONDS: setting({ schema: num(0.001, 3600), default: "5", help: "Live traffic: typical seconds between two events of one contact; at 5 a contact lives about half a minute." }),
  EMULATOR_QUEUE_NAME: setting({ schema: z.string().regex(/^[A-Za-z0-9_-]{1,76}$/, "expected 1-76 letters, digits, - or _"), default: "connect-contact-events", help: "Name of the SQS queue of contact events; its URL is {emulator URL}/{EMULATOR_QUEUE_ACCOUNT_ID}/{name}." }),
  EMULATOR_QUEUE_ACCOUNT_ID: setting({ schema: z.string().regex(/^\d{12}$/, "expected 12 digits"), default: "000000000000", help: "Account id in the queue's URL and ARN." }),
  EMULATOR_VISIBILITY_TIMEOUT_SECONDS: setting({ schema: int(0, 43_200), default: "30", help: "Seconds a received message stays invisible before it is delivered again unless deleted (SQS's default 30)." }),
  EMULATOR_MAX_RECEIVE_COUNT: setting({ schema: int(0, 1000), default: "0", help: "With N > 0, a message received N times without being deleted moves to the dead-letter queue {name}-dlq; 0: no dead-letter queue." }),
} as const satisfies Record<string, Setting<z.ZodType>>;

export type EmulatorSettingName = keyof typeof EMULATOR_SETTINGS;

/** The validated settings, every one resolved (each has a default). */
export type EmulatorSettings = { [K in EmulatorSettingName]: z.output<(typeof EMULATOR_SETTINGS)[K]["schema"]> };

/** A setting that failed validation; `message` is the one line printed at start-up, naming it. */
export class EmulatorSettingsError extends Error {
  override readonly name = "EmulatorSettingsError";
}

/**
 * Reads and validates the emulator's settings from `env` (unset and empty variables take their
 * defaults). Throws `EmulatorSettingsError` naming the first bad setting.
 */
export function loadEmulatorSettings(env: NodeJS.ProcessEnv = process.env): EmulatorSettings {
  const parsed: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(EMULATOR_SETTINGS) as Array<[EmulatorSettingName, Setting<z.ZodType>]>) {
    const raw = env[name] === undefined || env[name] === "" ? s.default : env[name];
    if (raw === undefined) continue;
    const result = s.schema.safeParse(raw);
    if (!result.success) {
      const reason = result.error.issues[0]?.message ?? "invalid value";
      throw new EmulatorSettingsError(`Invalid setting ${name}=${JSON.stringify(raw)}: ${reason}. ${s.help}`);
    }
    parsed[name] = result.data;
  }
  return parsed as EmulatorSettings;
}

/** The `startEmulator` options the settings describe. */
export function emulatorOptions(settings: EmulatorSettings): EmulatorOptions {
  const quota: QuotaOption =
    settings.EMULATOR_QUOTA_RPS > 0 ? { perApi: { ...settings.EMULATOR_API_QUOTAS, DescribeContact: { rps: settings.EMULATOR_QUOTA_RPS, burst: settings.EMULATOR_QUOTA_BURST } } } : false;
  return {
    port: settings.EMULATOR_PORT,
    host: settings.EMULATOR_HOST,
    seed: settings.EMULATOR_SEED,
    latencyMs: settings.EMULATOR_LATENCY_MS,
    quota,
    requireAuth: settings.EMULATOR_REQUIRE_AUTH,
    regions: settings.EMULATOR_REGIONS,
    events: {
      live: { contactsPerMinute: settings.EMULATOR_LIVE_CONTACTS_PER_MINUTE, stepSeconds: settings.EMULATOR_LIVE_STEP_SECONDS },
      queueName: settings.EMULATOR_QUEUE_NAME,
      accountId: settings.EMULATOR_QUEUE_ACCOUNT_ID,
      visibilityTimeoutSeconds: settings.EMULATOR_VISIBILITY_TIMEOUT_SECONDS,
      ...(settings.EMULATOR_MAX_RECEIVE_COUNT > 0 && { deadLetter: { maxReceiveCount: settings.EMULATOR_MAX_RECEIVE_COUNT } }),
    },
  };
}

/** The settings section of `--help`: every emulator setting with its default and meaning. */
export function emulatorSettingsHelp(): string {
  const rows = Object.entries(EMULATOR_SETTINGS as Record<string, Setting<z.ZodType>>).map(([name, s]) => {
    const def = s.default === undefined ? "(unset)" : s.default === "" ? "(empty)" : s.default;
    return `  ${name.padEnd(28)} ${def.padEnd(18)} ${s.help}`;
  });
  return [
    "Emulator settings (the embedded emulator of CONNECT_MODE=emulator, and npm run emulator):",
    `  ${"NAME".padEnd(28)} ${"DEFAULT".padEnd(18)} MEANING`,
    ...rows,
  ].join("\n");
}

// Private: `Api=rps/burst,...` for the APIs other than DescribeContact, or a problem description.
function parseApiQuotas(text: string): Partial<Record<ApiName, TokenBucketSpec>> | string {
  const quotas: Partial<Record<ApiName, TokenBucketSpec>> = {};
  const others = API_NAMES.filter((api) => api !== "DescribeContact");
  for (const pair of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const match = /^([A-Za-z]+)=(\d+(?:\.\d+)?)\/(\d+)$/.exec(pair);
    if (!match) return `"${pair}" is not Api=rps/burst`;
    const api = match[1] as ApiName;
    if (api === "DescribeContact") return "DescribeContact's quota is EMULATOR_QUOTA_RPS and EMULATOR_QUOTA_BURST";
    if (!others.includes(api)) return `unknown API ${match[1]} (one of ${others.join(", ")})`;
    const rps = Number(match[2]);
    const burst = Number(match[3]);
    if (rps <= 0 || burst < 1) return `${api} needs rps > 0 and burst >= 1`;
    quotas[api] = { rps, burst };
  }
  return quotas;
}
