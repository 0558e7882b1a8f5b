import { z } from "zod";
import { parseApiQuotas, type ApiQuota, type RelatedApi } from "../domain/apiQuotas.js";
import { CONNECT_SERVICE_REGIONS, REGION_PATTERN } from "../domain/contactRef.js";
import { MAX_TIMER_MS } from "../domain/timers.js";

/**
 * Every setting the gateway reads, in one table: the environment variable, its schema, its default
 * and what it does. `loadConfig` validates the environment against it, `--help` prints it, and the
 * README's configuration table mirrors it. Nothing else in the gateway reads `process.env`.
 */

// Private: environment values are strings; these turn them into typed values with clear errors.
// Numbers are written in decimal digits only: `Number()` alone would also read " " as 0 (so
// `CACHE_TTL_SECONDS=" "` turned both caches off), `0x1F90` as 8080 and `1e1` as 10.
const int = (min: number, max = Number.MAX_SAFE_INTEGER, tooBig?: string) =>
  z.string().regex(/^\s*-?\d+\s*$/, "expected a whole number").transform(Number).pipe(z.number().int().min(min).max(max, tooBig));
// A duration in milliseconds becomes a timer's delay, and Node runs a delay over MAX_TIMER_MS after
// 1 ms instead: SHUTDOWN_GRACE_MS=2147483648 gave up on in-flight operations at once, and
// SUBSCRIPTION_KEEPALIVE_MS=2147483648 pinged every millisecond and closed every WebSocket.
const ms = (min: number) => int(min, MAX_TIMER_MS, `expected at most ${MAX_TIMER_MS} ms (about 24.8 days, the longest delay Node's timers keep)`);
const num = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.string().regex(/^\s*-?\d+(?:\.\d+)?\s*$/, "expected a number").transform(Number).pipe(z.number().min(min).max(max));
const bool = z.enum(["true", "false", "1", "0", "yes", "no"]).transform((v) => v === "true" || v === "1" || v === "yes");
const str = z.string().min(1);
const list = z.string().transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean));
// Each entry "*" or an origin exactly as a browser sends it in `Origin`: CORS and the WebSocket
// upgrade compare them as strings, so "https://app.example.com/" (a trailing slash) matched nothing.
// A scheme whose URLs have no origin of their own (`new URL(…).origin` is "null") is an app's WebView
// or a browser extension (capacitor://localhost, chrome-extension://<id>, tauri://localhost), which
// sends `scheme://host` as its Origin: such an entry is that shape exactly (a lower-case scheme, a
// host, nothing after it).
const OPAQUE_ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]+$/;
const origins = list.transform((entries, ctx) => {
  for (const entry of entries) {
    if (entry === "*" || originOf(entry) === entry) continue;
    const meant = originOf(entry);
    if (meant === "null" && OPAQUE_ORIGIN.test(entry)) continue;
    const hint = meant && meant !== "null" ? ` (its origin is ${meant})` : "";
    ctx.addIssue({ code: "custom", message: `"${entry}" is not an origin${hint}: each entry must be * or scheme://host[:port] as browsers send it, with no path or trailing slash` });
    return z.NEVER;
  }
  return entries;
});
const regions = list.pipe(z.array(z.string().regex(REGION_PATTERN, "each entry must be a region name such as eu-west-2")));
const apiQuotas = z.string().transform((v, ctx) => {
  const parsed = parseApiQuotas(v);
  if (typeof parsed === "string") {
    ctx.addIssue({ code: "custom", message: parsed });
    return z.NEVER;
  }
  return parsed;
});

// A Redis URL as the Redis client reads it, checked here so that start-up names REDIS_URL: the client
// threw "Invalid pathname" (a path other than a database number) or "URI malformed" (user info
// that does not percent-decode, such as a password with a bare %) once the gateway was starting.
const redisUrl = z.url({ protocol: /^rediss?$/, error: "expected a redis:// or rediss:// URL" }).pipe(
  z.string().superRefine((value, ctx) => {
    const url = new URL(value);
    const problem = !url.hostname
      ? "expected a host, as in redis://host:6379"
      : !/^(?:\/\d*)?$/.test(url.pathname)
        ? "expected no path or the number of a database, as in redis://host:6379/0"
        : !decodes(url.username) || !decodes(url.password)
          ? "expected the user name and password percent-encoded (a % that does not start %XX is written %25)"
          : undefined;
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }),
);
function originOf(value: string): string | undefined {
  try {
    return new URL(value).origin;
  } catch {
    return undefined;
  }
}
function decodes(component: string): boolean {
  try {
    decodeURIComponent(component);
    return true;
  } catch {
    return false;
  }
}

interface Setting<S extends z.ZodType> {
  schema: S;
  /** The default as the environment would spell it; `undefined` means unset (or derived, see `help`). */
  default?: string;
  help: string;
  /**
   * Its value may hold a secret, and start-up errors go to stderr and from there to log storage: an
   * error about a `"value"` (a key) never quotes it; about a `"url"`, it quotes it without its user
   * info, query and fragment (`shownUrl`), where passwords and tokens go.
   */
  secret?: "value" | "url";
}

/**
 * `value` (a URL, or what was meant as one) as an error may quote it. Parsed, it is its scheme, host
 * and path, with `…@` for a user and password and `?…` for a query or fragment. Unparsable, it is its
 * scheme alone (`redis:…`) or `…`: a password or token with an unencoded `/`, `?`, `#` or `@` (a
 * base64 secret has `/`) is what makes such a URL unparsable, so no part past the scheme is safe to
 * show.
 */
export function shownUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(value.trim())?.[0];
    return scheme ? `${scheme}…` : "…";
  }
  const credentials = url.username || url.password ? "…@" : "";
  const authority = url.host || credentials ? `//${credentials}${url.host}` : "";
  const path = url.pathname === "/" ? "" : url.pathname;
  return `${url.protocol}${authority}${path}${url.search || url.hash ? "?…" : ""}`;
}
const setting = <S extends z.ZodType>(s: Setting<S>) => s;

export const SETTINGS = {
  // Server
  PORT: setting({ schema: int(0, 65535), default: "4000", help: "HTTP port of the gateway; GraphQL is served at /graphql." }),
  HOST: setting({ schema: str, default: "0.0.0.0", help: "Interface the gateway listens on." }),
  BODY_LIMIT_BYTES: setting({ schema: int(1024), default: "100000", help: "Largest request body accepted; larger bodies get HTTP 413." }),
  HTTP_BATCHING: setting({ schema: bool, default: "false", help: "Accept a JSON array of operations in one HTTP request." }),
  CORS_ORIGINS: setting({
    schema: origins,
    default: "",
    help: "Comma-separated origins whose browser pages may call the gateway: over HTTP (CORS) and by WebSocket upgrade. Each is * (every origin) or an origin exactly as browsers send it, scheme://host[:port] with no path or trailing slash, e.g. https://app.example.com; an app's WebView or a browser extension sends its own scheme and host, e.g. capacitor://localhost, tauri://localhost, or chrome-extension:// and the extension's id. Empty allows no cross-origin browser calls.",
  }),
  GRAPHQL_INTROSPECTION: setting({ schema: bool, help: "Allow introspection. Default: on in emulator mode, off in aws mode." }),
  GRAPHIQL: setting({ schema: bool, help: "Serve GraphiQL at GET /graphql. Default: on in emulator mode, off in aws mode." }),
  FEDERATION: setting({ schema: bool, default: "false", help: "Serve the schema as an Apollo Federation 2 subgraph: `Contact`, `Queue` and `User` become entities (`_entities`, `_service`), for a router to compose with other subgraphs (docs/federation.md). Off: the standalone schema, without federation's fields." }),
  GRAPHQL_JIT: setting({
    schema: bool,
    default: "true",
    help: "Execute queries and subscription events with graphql-jit: each operation compiled once (per document and operation name, a bounded cache) into code that reads plain fields inline, through Apollo Server's gateway interface. Answers are the same as graphql-js's (specced byte for byte); subscription events are compiled too (per document text), each run against its event; an operation jit cannot compile runs on graphql-js. On since the benchmark's A/B measured 0.79 of graphql-js's CPU per request and 1.27 of its requests/s (bench/README.md); false runs every operation on graphql-js.",
  }),
  SHUTDOWN_GRACE_MS: setting({ schema: ms(0), default: "10000", help: "On SIGTERM/SIGINT, how long in-flight operations may take to finish." }),
  LOG_LEVEL: setting({ schema: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]), default: "info", help: "Log level." }),
  LOG_FORMAT: setting({ schema: z.enum(["json", "pretty"]), help: "Log format. Default: pretty on a terminal, json otherwise." }),

  // Upstream
  CONNECT_MODE: setting({ schema: z.enum(["emulator", "aws"]), default: "emulator", help: "emulator: start the embedded Connect emulator with synthetic data; aws: call Amazon Connect." }),
  AWS_REGION: setting({ schema: z.string().regex(REGION_PATTERN, "expected a region name such as eu-west-2"), help: "Region of contacts addressed by id (ARNs carry their own). Default: us-east-1 in emulator mode; required in aws mode." }),
  CONNECT_REGIONS: setting({
    schema: regions,
    default: CONNECT_SERVICE_REGIONS.join(","),
    help: "Comma-separated regions the gateway may call; AWS_REGION is always one of them. An instance, contact, queue or user ARN of any other region is refused with BAD_USER_INPUT before any call, so no SDK client, connection pool or quota bucket is made for it. Default: every region where Amazon Connect is offered (AWS's list of Connect's service endpoints).",
  }),
  CONNECT_MAX_ATTEMPTS: setting({ schema: int(1, 10), default: "3", help: "Attempts per upstream call, first included; throttling and 5xx are retried with backoff." }),
  CONNECT_RETRY_MODE: setting({ schema: z.enum(["standard", "adaptive"]), default: "standard", help: "The SDK's retry strategy." }),
  CONNECT_CONNECT_TIMEOUT_MS: setting({ schema: ms(1), default: "1000", help: "TCP connect timeout per attempt." }),
  CONNECT_REQUEST_TIMEOUT_MS: setting({ schema: ms(1), default: "3000", help: "Response timeout per attempt." }),
  CONNECT_MAX_SOCKETS: setting({ schema: int(1), default: "50", help: "Keep-alive sockets per region." }),
  CONNECT_MAX_RPS: setting({ schema: num(0.01), default: "10", help: "DescribeContact calls per second for the account and region, across all replicas (Connect's default quota)." }),
  CONNECT_BURST: setting({ schema: int(1), default: "15", help: "Burst of the DescribeContact quota." }),
  CONNECT_MAX_WAIT_MS: setting({ schema: ms(0), default: "10000", help: "A call that would wait longer than this for quota fails fast with UPSTREAM_THROTTLED." }),
  CONNECT_MAX_CONCURRENCY: setting({ schema: int(1), default: "10", help: "Upstream calls in flight at once per process." }),
  CONNECT_API_QUOTAS: setting({
    schema: apiQuotas,
    default: "",
    help: "Quotas of the other Connect APIs as Api=rps/burst pairs, e.g. SearchContacts=2/5,DescribeUser=20/30. Unlisted APIs keep Connect's defaults: DescribeQueue, DescribeUser, GetContactAttributes, ListContactReferences 10/s burst 15; SearchContacts 0.5/s burst 1.",
  }),

  // Emulator (CONNECT_MODE=emulator); the embedded emulator's own settings are the emulator's (src/emulator/settings.ts).
  EMULATOR_URL: setting({ schema: z.url({ protocol: /^https?$/ }), secret: "url", help: "Use the emulator already running at this URL (e.g. `npm run emulator`) instead of starting the embedded one; the emulator's own settings (EMULATOR_PORT and the rest, listed by --help) are then ignored." }),

  // Cache
  CACHE_TTL_SECONDS: setting({ schema: int(0), default: "300", help: "How long a finished contact (one with a disconnect time) is served from cache; 0 disables the cache." }),
  CACHE_ACTIVE_TTL_SECONDS: setting({
    schema: int(0),
    help: "How long a contact still in progress is served from cache. Default: 60 when contact events are consumed (CONTACT_EVENTS_QUEUE_URL, or emulator mode), since each event refreshes its contact at once and the TTL only covers a lost event; 5 otherwise.",
  }),
  CACHE_RESOURCE_TTL_SECONDS: setting({ schema: int(0), default: "3600", help: "How long a queue or user (DescribeQueue, DescribeUser) is served from cache; they change rarely. 0 disables it." }),
  CACHE_NEGATIVE_TTL_SECONDS: setting({ schema: int(0), default: "10", help: "How long a not-found contact id is remembered." }),
  CACHE_MAX_ENTRIES: setting({ schema: int(1), default: "100000", help: "Most contacts held in the in-process cache." }),
  CACHE_MAX_MB: setting({
    schema: int(1),
    default: "640",
    help: "Most resident memory the in-process contact cache may cost. Contacts are held as JSON outside V8's heap, each charged its JSON plus 1.75 KB of bookkeeping (about 4.5 KB for a contact of 2.6 KB of JSON), so the default holds CACHE_MAX_ENTRIES contacts of up to 4.8 KB of JSON on average.",
  }),
  RESPONSE_CACHE: setting({
    schema: bool,
    default: "true",
    help: "Answer a repeated query (same request body or URL, same Accept, same access: contacts:pii and instances) from a cache of its serialized response without executing it, for as long as the shortest cache lifetime of what it contains; contact events and Cache-Control: no-cache drop it at once. Off with CACHE_TTL_SECONDS=0 too (docs/caching-and-quota.md).",
  }),
  RESPONSE_CACHE_MAX_MB: setting({ schema: int(1), default: "64", help: "Most memory the response cache may hold: each response charged its body and key plus its bookkeeping." }),
  REDIS_URL: setting({
    schema: redisUrl,
    secret: "url",
    help: "Share the cache, the quota limiter and persisted queries with other replicas through this Redis: redis://[user:password@]host[:port][/database], or rediss:// for TLS; user and password percent-encoded.",
  }),
  REDIS_KEY_PREFIX: setting({ schema: str, default: "connect-graphql:", help: "Prefix of every Redis key." }),
  REDIS_TIMEOUT_MS: setting({ schema: ms(1), default: "500", help: "A Redis command slower than this counts as Redis being down: the gateway carries on with its local cache and limiter." }),

  // Live contact events
  CONTACT_EVENTS_QUEUE_URL: setting({
    schema: z.url({ protocol: /^https?$/ }),
    help: "The SQS queue an EventBridge rule feeds with Amazon Connect contact events (detail-type `Amazon Connect Contact Event`); the gateway consumes it and serves Subscription.contactEvents. Default: the emulator's queue in emulator mode; unset (no live events) in aws mode. The SDK's credential chain and AWS_ENDPOINT_URL_SQS apply.",
  }),
  SUBSCRIPTION_BUFFER_EVENTS: setting({ schema: int(1, 100_000), default: "100", help: "Events one subscriber may fall behind by; past it the subscription ends with SUBSCRIBER_TOO_SLOW and its connection is closed." }),
  SUBSCRIPTIONS_PER_CONNECTION: setting({ schema: int(1, 1000), default: "20", help: "Most subscriptions one WebSocket connection may hold." }),
  SUBSCRIPTION_CONNECTIONS_PER_PRINCIPAL: setting({ schema: int(1), default: "200", help: "Most open subscription connections (WebSocket or SSE) per caller: per token subject, or per client address without one." }),
  SUBSCRIPTION_KEEPALIVE_MS: setting({ schema: ms(1000), default: "12000", help: "Interval of WebSocket keep-alive pings (SSE sends a keep-alive comment every 12 s)." }),

  // Security
  AUTH_MODE: setting({ schema: z.enum(["jwt", "none"]), help: "jwt: require a bearer token; none: no authentication. Default: jwt in aws mode, none in emulator mode." }),
  AUTH_JWT_SECRET: setting({ schema: z.string().min(32), secret: "value", help: "HS256 secret for bearer tokens (at least 32 characters)." }),
  AUTH_JWKS_URL: setting({ schema: z.url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" }), secret: "url", help: "JWKS URL for RS/ES-signed bearer tokens." }),
  AUTH_JWKS_FILE: setting({ schema: str, help: "Local JWKS file for RS/ES-signed bearer tokens." }),
  AUTH_ISSUER: setting({ schema: str, help: "Required `iss` of bearer tokens, when set." }),
  AUTH_AUDIENCE: setting({ schema: str, help: "Required `aud` of bearer tokens, when set." }),
  AUTH_CLOCK_TOLERANCE_SECONDS: setting({ schema: int(0, 300), default: "30", help: "Clock skew allowed when checking a bearer token's `exp` and `nbf`." }),
  TRUSTED_DOCUMENTS_FILE: setting({
    schema: str,
    help: "Run only the operations of this manifest, `{ \"<sha256 hash>\": \"<document>\" }` as GraphQL Code Generator's client preset writes it (persisted-documents.json), each sent by `documentId` or the persisted-query extension's `sha256Hash`; any other operation is refused before it is parsed, and automatic persisted queries are off. Read and verified at start-up. Unset: any operation runs.",
  }),
  MAX_QUERY_DEPTH: setting({ schema: int(1), default: "24", help: "Deepest selection an operation may have." }),
  MAX_CONTACT_HOPS: setting({ schema: int(0), default: "12", help: "Most nested contact relations (previousContact, initialContact, relatedContact) on one path." }),
  MAX_CONTACT_IDS: setting({ schema: int(1, 1000), default: "100", help: "Most ids in one `contacts(contactIds:)` list." }),
  MAX_RESULT_CONTACTS: setting({
    schema: int(1),
    default: "2000",
    help: "Most contacts an operation's result may hold, as counted before it runs: every list of contacts at its largest (contacts: its ids, or MAX_CONTACT_IDS; searchContacts: first if from 1 to 100, else 100; transferChain: MAX_CONTACT_HOPS + 1; _entities: its representations, counted again once its variables are known), multiplied along each path. Lists of contacts nested in lists (transferChain in transferChain) grow the result exponentially from cached contacts, with no upstream call to stop them.",
  }),
  MAX_UPSTREAM_READS: setting({
    schema: int(1),
    default: "200",
    help: "Most upstream reads one operation may make, every Connect API counted: each DescribeContact, DescribeQueue, DescribeUser and GetContactAttributes, each ListContactReferences and SearchContacts page (each distinct read once; cache hits count too, so the outcome does not depend on the cache). Further reads fail with UPSTREAM_BUDGET_EXCEEDED and no call goes out. Replaces MAX_UPSTREAM_CALLS, which counted only contacts.",
  }),
  MAX_ALIASES: setting({ schema: int(0), default: "30", help: "Most aliases in one operation." }),
  MAX_TOKENS: setting({ schema: int(1), default: "12000", help: "Most tokens in one document (a contact with every field, written out inline 10 relations deep, has about 8,000)." }),
  MAX_DIRECTIVES: setting({ schema: int(0), default: "50", help: "Most directives in one operation." }),
  MAX_COST: setting({ schema: int(1), default: "20000", help: "Highest cost of one operation: 1 per leaf field, 2 per field with a selection, fragments counted where spread." }),
} as const satisfies Record<string, Setting<z.ZodType>>;

export type SettingName = keyof typeof SETTINGS;
type Parsed = { [K in SettingName]: z.output<(typeof SETTINGS)[K]["schema"]> | undefined };

/** The validated configuration, with mode-dependent defaults resolved. */
export interface Config extends Omit<Parsed, "AWS_REGION" | "AUTH_MODE" | "GRAPHQL_INTROSPECTION" | "GRAPHIQL" | "LOG_FORMAT"> {
  PORT: number;
  HOST: string;
  BODY_LIMIT_BYTES: number;
  HTTP_BATCHING: boolean;
  FEDERATION: boolean;
  GRAPHQL_JIT: boolean;
  CORS_ORIGINS: string[];
  SHUTDOWN_GRACE_MS: number;
  LOG_LEVEL: z.output<typeof SETTINGS.LOG_LEVEL.schema>;
  CONNECT_MODE: "emulator" | "aws";
  /** The regions refs may name: the setting's list with `AWS_REGION` (see `Regions`). */
  CONNECT_REGIONS: string[];
  CONNECT_MAX_ATTEMPTS: number;
  CONNECT_RETRY_MODE: "standard" | "adaptive";
  CONNECT_CONNECT_TIMEOUT_MS: number;
  CONNECT_REQUEST_TIMEOUT_MS: number;
  CONNECT_MAX_SOCKETS: number;
  CONNECT_MAX_RPS: number;
  CONNECT_BURST: number;
  CONNECT_MAX_WAIT_MS: number;
  CONNECT_MAX_CONCURRENCY: number;
  CONNECT_API_QUOTAS: Partial<Record<RelatedApi, ApiQuota>>;
  CACHE_TTL_SECONDS: number;
  CACHE_ACTIVE_TTL_SECONDS: number;
  SUBSCRIPTION_BUFFER_EVENTS: number;
  SUBSCRIPTIONS_PER_CONNECTION: number;
  SUBSCRIPTION_CONNECTIONS_PER_PRINCIPAL: number;
  SUBSCRIPTION_KEEPALIVE_MS: number;
  CACHE_RESOURCE_TTL_SECONDS: number;
  CACHE_NEGATIVE_TTL_SECONDS: number;
  CACHE_MAX_ENTRIES: number;
  CACHE_MAX_MB: number;
  RESPONSE_CACHE: boolean;
  RESPONSE_CACHE_MAX_MB: number;
  REDIS_KEY_PREFIX: string;
  REDIS_TIMEOUT_MS: number;
  AUTH_CLOCK_TOLERANCE_SECONDS: number;
  MAX_QUERY_DEPTH: number;
  MAX_CONTACT_HOPS: number;
  MAX_CONTACT_IDS: number;
  MAX_RESULT_CONTACTS: number;
  MAX_UPSTREAM_READS: number;
  MAX_ALIASES: number;
  MAX_TOKENS: number;
  MAX_DIRECTIVES: number;
  MAX_COST: number;
  AWS_REGION: string;
  AUTH_MODE: "jwt" | "none";
  GRAPHQL_INTROSPECTION: boolean;
  GRAPHIQL: boolean;
  LOG_FORMAT: "json" | "pretty";
}

/** A setting that failed validation; `message` is the one line printed at start-up. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/**
 * Reads and validates the configuration from `env` (unset and empty variables take their defaults).
 * Throws `ConfigError` naming the first bad setting.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, isTTY = Boolean(process.stdout.isTTY)): Config {
  // Renamed when it began counting every API: a deployment still setting it must not silently get the default.
  if (env.MAX_UPSTREAM_CALLS !== undefined && env.MAX_UPSTREAM_CALLS !== "") {
    throw new ConfigError(
      `MAX_UPSTREAM_CALLS was renamed to MAX_UPSTREAM_READS, which now counts every upstream read (DescribeContact, DescribeQueue, DescribeUser, GetContactAttributes, each ListContactReferences and SearchContacts page), not only distinct contacts: set MAX_UPSTREAM_READS instead (default ${SETTINGS.MAX_UPSTREAM_READS.default}) and unset MAX_UPSTREAM_CALLS.`,
    );
  }
  const parsed: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(SETTINGS) as Array<[SettingName, Setting<z.ZodType>]>) {
    // Unset, empty or only whitespace: the default.
    const raw = env[name] === undefined || env[name]!.trim() === "" ? s.default : env[name];
    if (raw === undefined) continue;
    const result = s.schema.safeParse(raw);
    if (!result.success) {
      const reason = result.error.issues[0]?.message ?? "invalid value";
      const shown = s.secret === "value" ? " (its value is not shown: it is a secret)" : `=${JSON.stringify(s.secret === "url" ? shownUrl(raw) : raw)}`;
      throw new ConfigError(`Invalid setting ${name}${shown}: ${reason}. ${s.help}`);
    }
    parsed[name] = result.data;
  }
  const p = parsed as Parsed;
  const aws = p.CONNECT_MODE === "aws";
  const region = p.AWS_REGION ?? (aws ? undefined : "us-east-1");
  if (region === undefined) throw new ConfigError("Missing setting AWS_REGION: required when CONNECT_MODE=aws.");
  const authMode = p.AUTH_MODE ?? (aws ? "jwt" : "none");
  if (authMode === "jwt" && !p.AUTH_JWT_SECRET && !p.AUTH_JWKS_URL && !p.AUTH_JWKS_FILE) {
    throw new ConfigError(
      "AUTH_MODE=jwt needs a key: set AUTH_JWT_SECRET, AUTH_JWKS_URL or AUTH_JWKS_FILE (or AUTH_MODE=none to serve without authentication).",
    );
  }
  const connectRegions = [...new Set([...(p.CONNECT_REGIONS ?? []), region])];
  return {
    ...p,
    AWS_REGION: region,
    CONNECT_REGIONS: connectRegions,
    AUTH_MODE: authMode,
    // Events keep active contacts fresh (each refreshes its contact at once), so the TTL only
    // covers a lost event (EventBridge delivers best-effort) and can be longer.
    CACHE_ACTIVE_TTL_SECONDS: p.CACHE_ACTIVE_TTL_SECONDS ?? (p.CONTACT_EVENTS_QUEUE_URL !== undefined || !aws ? 60 : 5),
    GRAPHQL_INTROSPECTION: p.GRAPHQL_INTROSPECTION ?? !aws,
    GRAPHIQL: p.GRAPHIQL ?? !aws,
    LOG_FORMAT: p.LOG_FORMAT ?? (isTTY ? "pretty" : "json"),
  } as Config;
}

/** The text `--help` prints: every setting with its default and meaning. */
export function configHelp(): string {
  const rows = Object.entries(SETTINGS as Record<string, Setting<z.ZodType>>).map(([name, s]) => {
    const def = s.default === undefined ? "(unset)" : s.default === "" ? "(empty)" : s.default;
    return `  ${name.padEnd(28)} ${def.padEnd(18)} ${s.help}`;
  });
  return [
    "connect-graphql: a GraphQL gateway over Amazon Connect's contact API.",
    "",
    "Usage: npm start            (or: node dist/main.js)",
    "",
    "Settings (environment variables):",
    `  ${"NAME".padEnd(28)} ${"DEFAULT".padEnd(18)} MEANING`,
    ...rows,
    "",
    "AWS credentials come from the SDK's default provider chain; AWS_ENDPOINT_URL_CONNECT overrides the endpoint.",
  ].join("\n");
}
