import { describe, expect, it } from "vitest";
import { ConfigError, SETTINGS, loadConfig, type SettingName } from "../../src/config/config.js";
import { tracingSettings } from "../../src/observability/tracing.js";
import { runGateway } from "../support/processes.js";

describe("--help", () => {
  it("prints every setting with its default", async () => {
    const { code, stdout } = await runGateway(["--help"], {});
    expect(code).toBe(0);
    for (const [name, s] of Object.entries(SETTINGS)) {
      const row = stdout.split("\n").find((l) => l.trimStart().startsWith(`${name} `));
      expect(row, name).toBeDefined();
      if (s.default) expect(row, name).toContain(s.default);
    }
  });
});

describe("a bad setting", () => {
  it("stops start-up with exit code 2 and one line naming the setting", async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ PORT: "abc" }, /^connect-graphql: Invalid setting PORT="abc": expected a whole number\./],
      [{ CONNECT_MODE: "aws", AUTH_MODE: "none" }, /^connect-graphql: Missing setting AWS_REGION/],
      // Past Node's longest timer delay: the grace would end after 1 ms, cutting in-flight operations.
      // The Redis client would refuse it later, with "Invalid pathname" and exit code 1.
      [{ REDIS_URL: "redis://127.0.0.1:6379/abc" }, /^connect-graphql: Invalid setting REDIS_URL="redis:\/\/127.0.0.1:6379\/abc": expected no path or the number of a database, as in redis:\/\/host:6379\/0\./],
      // A trailing slash: no browser sends it, so CORS allowed nothing.
      [{ CORS_ORIGINS: "https://app.example.com/" }, /^connect-graphql: Invalid setting CORS_ORIGINS="https:\/\/app.example.com\/": "https:\/\/app.example.com\/" is not an origin \(its origin is https:\/\/app.example.com\)/],
      [{ SHUTDOWN_GRACE_MS: "2147483648" }, /^connect-graphql: Invalid setting SHUTDOWN_GRACE_MS="2147483648": expected at most 2147483647 ms \(about 24\.8 days, the longest delay Node's timers keep\)\./],
    ];
    const results = await Promise.all(cases.map(([env]) => runGateway([], { ...env, PORT: env.PORT ?? "0" })));
    results.forEach(({ code, stdout, stderr }, i) => {
      expect(code).toBe(2);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr.trim()).toMatch(cases[i]![1]);
      expect(stdout).not.toContain("listening");
    });
  });
});

describe("a renamed setting", () => {
  const MIGRATION = /^MAX_UPSTREAM_CALLS was renamed to MAX_UPSTREAM_READS, which now counts every upstream read \(DescribeContact, DescribeQueue, DescribeUser, GetContactAttributes, each ListContactReferences and SearchContacts page\), not only distinct contacts: set MAX_UPSTREAM_READS instead \(default 200\) and unset MAX_UPSTREAM_CALLS\.$/;

  it("refuses MAX_UPSTREAM_CALLS at start-up with exit code 2 and one line saying it is now MAX_UPSTREAM_READS and counts every API", async () => {
    const { code, stdout, stderr } = await runGateway([], { PORT: "0", MAX_UPSTREAM_CALLS: "50" });
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr.trim().replace(/^connect-graphql: /, "")).toMatch(MIGRATION);
    expect(stderr).toMatch(/^connect-graphql: /);
    expect(stdout).not.toContain("listening");
  });

  it("refuses MAX_UPSTREAM_CALLS even next to MAX_UPSTREAM_READS, so a half-done migration is caught", () => {
    expect(() => loadConfig({ MAX_UPSTREAM_CALLS: "50", MAX_UPSTREAM_READS: "300" }, false)).toThrow(ConfigError);
    expect(() => loadConfig({ MAX_UPSTREAM_CALLS: "50", MAX_UPSTREAM_READS: "300" }, false)).toThrow(MIGRATION);
  });

  it("takes MAX_UPSTREAM_READS, 200 by default", () => {
    expect(loadConfig({}, false).MAX_UPSTREAM_READS).toBe(200);
    expect(loadConfig({ MAX_UPSTREAM_READS: "300" }, false).MAX_UPSTREAM_READS).toBe(300);
    expect(() => loadConfig({ MAX_UPSTREAM_READS: "0" }, false)).toThrow(/^Invalid setting MAX_UPSTREAM_READS="0"/);
  });
});

describe("a setting's value", () => {
  /** The message `loadConfig` (or the tracing settings) refuse `env` with. */
  const refusal = (env: Record<string, string>, load: (env: Record<string, string>) => unknown = (e) => loadConfig(e, false)): string => {
    try {
      load(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error(`${JSON.stringify(env)} was accepted`);
  };

  it("is never quoted in an error when it is a key, and a URL only without its user info, query and fragment", () => {
    const secret = refusal({ AUTH_MODE: "jwt", AUTH_JWT_SECRET: "abcdefghijklmnopqrstuvwxyz01234" });
    expect(secret).toMatch(/^Invalid setting AUTH_JWT_SECRET \(its value is not shown: it is a secret\): /);
    expect(secret).not.toContain("abcdefghijklmnopqrstuvwxyz01234");
    const urls: Array<[Record<string, string>, RegExp, string]> = [
      [{ REDIS_URL: "redis//:S3cretRedisPass@redis:6379" }, /^Invalid setting REDIS_URL="…": /, "S3cretRedisPass"],
      // Secrets whose unencoded "/", "#", "@" make the URL unparsable: only the scheme is shown.
      [{ REDIS_URL: "redis://:Zm9v/YmFy+cXV4@cache.internal:6379" }, /^Invalid setting REDIS_URL="redis:…": /, "YmFy"],
      [{ REDIS_URL: "redis://:ab#cd@h:1" }, /^Invalid setting REDIS_URL="redis:…": /, "ab#cd"],
      [{ AUTH_JWKS_URL: "https://svc:Zm9v/YmFy@idp.example.com/jwks" }, /^Invalid setting AUTH_JWKS_URL="https:…": /, "YmFy"],
      [{ REDIS_URL: "http://:p@ssW0rd@host" }, /^Invalid setting REDIS_URL="http:\/\/…@host": /, "ssW0rd"],
      [{ REDIS_URL: "http://user:S3cretRedisPass@redis:6379" }, /^Invalid setting REDIS_URL="http:\/\/…@redis:6379": /, "S3cretRedisPass"],
      [{ AUTH_JWKS_URL: "ftp://idp.example/jwks?client_secret=abc123" }, /^Invalid setting AUTH_JWKS_URL="ftp:\/\/idp.example\/jwks\?…": /, "abc123"],
      [{ EMULATOR_URL: "ftp://user:EmuPass@host" }, /^Invalid setting EMULATOR_URL="ftp:\/\/…@host": /, "EmuPass"],
    ];
    for (const [env, shown, hidden] of urls) {
      const message = refusal(env);
      expect(message).toMatch(shown);
      expect(message).not.toContain(hidden);
    }
    const otlp = refusal({ OTEL_EXPORTER_OTLP_ENDPOINT: "ftp://collector?token=TopSecretToken" }, (env) => tracingSettings(env));
    expect(otlp).toMatch(/^Invalid setting OTEL_EXPORTER_OTLP_ENDPOINT="ftp:\/\/collector\?…": /);
    expect(otlp).not.toContain("TopSecretToken");
    // Others are quoted whole, so the mistake can be seen.
    expect(refusal({ PORT: "abc" })).toMatch(/^Invalid setting PORT="abc": expected a whole number\./);
  });

  it("is a number only in decimal digits; whitespace alone is unset", () => {
    expect(refusal({ PORT: "0x1F90" })).toMatch(/^Invalid setting PORT="0x1F90": expected a whole number\./);
    expect(refusal({ MAX_QUERY_DEPTH: "1e1" })).toMatch(/^Invalid setting MAX_QUERY_DEPTH="1e1": expected a whole number\./);
    // " " read as 0 turned both caches off; it is unset now, so the default holds.
    expect(loadConfig({ CACHE_TTL_SECONDS: " ", PORT: " " }, false)).toMatchObject({ CACHE_TTL_SECONDS: 300, PORT: 4000 });
    expect(loadConfig({ PORT: " 4001 " }, false).PORT).toBe(4001);
  });

  it("is at most 2147483647 in milliseconds, the longest delay Node's timers keep (a longer one runs after 1 ms)", () => {
    const durations = Object.keys(SETTINGS).filter((name) => name.endsWith("_MS"));
    expect(durations).toEqual(expect.arrayContaining(["SHUTDOWN_GRACE_MS", "CONNECT_CONNECT_TIMEOUT_MS", "CONNECT_REQUEST_TIMEOUT_MS", "CONNECT_MAX_WAIT_MS", "REDIS_TIMEOUT_MS", "SUBSCRIPTION_KEEPALIVE_MS"]));
    for (const name of durations) {
      expect(refusal({ [name]: "2147483648" })).toMatch(new RegExp(`^Invalid setting ${name}="2147483648": expected at most 2147483647 ms \\(about 24\\.8 days, the longest delay Node's timers keep\\)\\.`));
      expect(loadConfig({ [name]: "2147483647" }, false)[name as SettingName]).toBe(2147483647);
    }
  });

  it("is refused at start-up when it has the wrong shape for what it names: a region, a Redis URL, a JWKS URL", () => {
    expect(refusal({ AWS_REGION: "notaregion" })).toMatch(/^Invalid setting AWS_REGION="notaregion": expected a region name such as eu-west-2\./);
    expect(refusal({ REDIS_URL: "http://127.0.0.1:6379" })).toMatch(/^Invalid setting REDIS_URL="http:\/\/127.0.0.1:6379": expected a redis:\/\/ or rediss:\/\/ URL\./);
    expect(refusal({ AUTH_JWKS_URL: "ftp://x/jwks" })).toMatch(/^Invalid setting AUTH_JWKS_URL="ftp:\/\/x\/jwks": expected an http:\/\/ or https:\/\/ URL\./);
    expect(loadConfig({ REDIS_URL: "rediss://user:pass@redis.example:6380" }, false).REDIS_URL).toBe("rediss://user:pass@redis.example:6380");
  });

  it("is a list of origins exactly as browsers send them, or *, for CORS_ORIGINS", () => {
    const RULE = "each entry must be * or scheme://host[:port] as browsers send it, with no path or trailing slash.";
    const cases: Array<[string, string]> = [
      ["https://app.example.com/", `"https://app.example.com/" is not an origin (its origin is https://app.example.com): ${RULE}`],
      ["https://app.example.com, https://admin.example.com/app", `"https://admin.example.com/app" is not an origin (its origin is https://admin.example.com): ${RULE}`],
      ["https://App.Example.com", `"https://App.Example.com" is not an origin (its origin is https://app.example.com): ${RULE}`],
      ["https://app.example.com:443", `"https://app.example.com:443" is not an origin (its origin is https://app.example.com): ${RULE}`],
      ["app.example.com", `"app.example.com" is not an origin: ${RULE}`],
      ["null", `"null" is not an origin: ${RULE}`],
      // An app's or extension's scheme has no origin of its own: only scheme://host passes, nothing after it.
      ["capacitor://localhost/", `"capacitor://localhost/" is not an origin: ${RULE}`],
      ["chrome-extension://abcdefghijklmnopabcdefghijklmnop/popup.html", `"chrome-extension://abcdefghijklmnopabcdefghijklmnop/popup.html" is not an origin: ${RULE}`],
      ["tauri://localhost?x", `"tauri://localhost?x" is not an origin: ${RULE}`],
      ["Capacitor://localhost", `"Capacitor://localhost" is not an origin: ${RULE}`],
      ["file:///index.html", `"file:///index.html" is not an origin: ${RULE}`],
    ];
    for (const [value, reason] of cases) expect(refusal({ CORS_ORIGINS: value })).toContain(`Invalid setting CORS_ORIGINS=${JSON.stringify(value)}: ${reason}`);
    expect(loadConfig({ CORS_ORIGINS: "*" }, false).CORS_ORIGINS).toEqual(["*"]);
    expect(loadConfig({ CORS_ORIGINS: " https://app.example.com, http://localhost:3000 ,http://[::1]:8080" }, false).CORS_ORIGINS).toEqual(["https://app.example.com", "http://localhost:3000", "http://[::1]:8080"]);
    expect(loadConfig({}, false).CORS_ORIGINS).toEqual([]);
    // What an app's WebView or a browser extension sends as its Origin: scheme://host.
    const apps = ["capacitor://localhost", "ionic://localhost", "chrome-extension://abcdefghijklmnopabcdefghijklmnop", "moz-extension://0b3c1d2e-5f60-4a7b-8c9d-0e1f2a3b4c5d", "tauri://localhost"];
    expect(loadConfig({ CORS_ORIGINS: apps.join(",") }, false).CORS_ORIGINS).toEqual(apps);
  });

  it("is a Redis URL only as the Redis client reads one: a host, no path but a database number, user info that percent-decodes", () => {
    const PATH = "expected no path or the number of a database, as in redis://host:6379/0.";
    expect(refusal({ REDIS_URL: "redis://127.0.0.1:6379/abc" })).toContain(`Invalid setting REDIS_URL="redis://127.0.0.1:6379/abc": ${PATH}`);
    expect(refusal({ REDIS_URL: "redis://127.0.0.1:6379/1.5" })).toContain(PATH);
    expect(refusal({ REDIS_URL: "redis://127.0.0.1:6379/0/1" })).toContain(PATH);
    expect(refusal({ REDIS_URL: "redis:6379" })).toMatch(/^Invalid setting REDIS_URL="redis:6379": expected a host, as in redis:\/\/host:6379\./);
    // A bare % in a password: refused without quoting it.
    const malformed = refusal({ REDIS_URL: "redis://:50%off@127.0.0.1:6379" });
    expect(malformed).toMatch(/^Invalid setting REDIS_URL="redis:\/\/…@127.0.0.1:6379": expected the user name and password percent-encoded \(a % that does not start %XX is written %25\)\./);
    expect(malformed).not.toContain("50%off");
    expect(refusal({ REDIS_URL: "redis://ops%:secret@127.0.0.1:6379" })).toContain("expected the user name and password percent-encoded");
    for (const url of ["redis://127.0.0.1:6379", "redis://127.0.0.1:6379/", "redis://127.0.0.1:6379/15", "redis://:50%25off@127.0.0.1:6379/0", "rediss://[::1]:6380"]) {
      expect(loadConfig({ REDIS_URL: url }, false).REDIS_URL).toBe(url);
    }
  });
});
