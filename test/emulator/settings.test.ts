import { describe, expect, it } from "vitest";
import { CONNECT_DEFAULT_QUOTAS, EMULATOR_SETTINGS, EmulatorSettingsError, emulatorOptions, loadEmulatorSettings } from "../../src/emulator/emulator.js";
import { runToCompletion } from "../support/processes.js";

/** Runs `npm run emulator`'s entry point to completion (for `--help` and bad settings). */
const runCli = (args: string[], env: Record<string, string>) => runToCompletion("src/emulator/cli.ts", args, env);

describe("the emulator's settings", () => {
  it("take their defaults when unset or empty", () => {
    const settings = loadEmulatorSettings({ EMULATOR_LATENCY_MS: "" });
    expect(settings).toEqual({
      EMULATOR_PORT: 0,
      EMULATOR_HOST: "127.0.0.1",
      EMULATOR_SEED: 1,
      EMULATOR_LATENCY_MS: 0,
      EMULATOR_QUOTA_RPS: 10,
      EMULATOR_QUOTA_BURST: 15,
      EMULATOR_API_QUOTAS: {},
      EMULATOR_REGIONS: ["us-east-1"],
      EMULATOR_REQUIRE_AUTH: true,
      EMULATOR_LIVE_CONTACTS_PER_MINUTE: 4,
      EMULATOR_LIVE_STEP_SECONDS: 5,
      EMULATOR_QUEUE_NAME: "connect-contact-events",
      EMULATOR_QUEUE_ACCOUNT_ID: "000000000000",
      EMULATOR_VISIBILITY_TIMEOUT_SECONDS: 30,
      EMULATOR_MAX_RECEIVE_COUNT: 0,
    });
  });

  it("give every setting one default spelled as the environment would, and a help text", () => {
    for (const [name, s] of Object.entries(EMULATOR_SETTINGS)) {
      expect(name).toMatch(/^EMULATOR_/);
      expect(s.help.length, name).toBeGreaterThan(20);
      expect(s.schema.safeParse(s.default).success, name).toBe(true);
    }
    expect(Object.keys(EMULATOR_SETTINGS)).not.toContain("EMULATOR_URL"); // the gateway's setting
  });

  it("throw an error naming the setting, its value and what it means", () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ EMULATOR_PORT: "70000" }, /^Invalid setting EMULATOR_PORT="70000": .*Port of the emulator/],
      [{ EMULATOR_QUOTA_RPS: "fast" }, /^Invalid setting EMULATOR_QUOTA_RPS="fast": expected a number\./],
      [{ EMULATOR_REQUIRE_AUTH: "maybe" }, /^Invalid setting EMULATOR_REQUIRE_AUTH="maybe"/],
      [{ EMULATOR_API_QUOTAS: "DescribeContact=5/5" }, /^Invalid setting EMULATOR_API_QUOTAS=.*EMULATOR_QUOTA_RPS/],
      [{ EMULATOR_API_QUOTAS: "Nope=1/1" }, /unknown API Nope/],
      [{ EMULATOR_REGIONS: "us-east-1,Europe" }, /^Invalid setting EMULATOR_REGIONS="us-east-1,Europe": expected region names/],
      // Past Node's longest timer delay, which would answer after 1 ms instead.
      [{ EMULATOR_LATENCY_MS: "2147483648" }, /^Invalid setting EMULATOR_LATENCY_MS="2147483648": expected at most 2147483647 ms \(about 24\.8 days, the longest delay Node's timers keep\)\./],
    ];
    for (const [env, message] of cases) {
      expect(() => loadEmulatorSettings(env)).toThrow(EmulatorSettingsError);
      expect(() => loadEmulatorSettings(env)).toThrow(message);
    }
  });

  it("take every duration in milliseconds up to 2147483647, the longest delay Node's timers keep", () => {
    const durations = Object.keys(EMULATOR_SETTINGS).filter((name) => name.endsWith("_MS"));
    expect(durations).toContain("EMULATOR_LATENCY_MS");
    for (const name of durations) {
      expect(() => loadEmulatorSettings({ [name]: "2147483648" }), name).toThrow(/expected at most 2147483647 ms/);
      expect(loadEmulatorSettings({ [name]: "2147483647" })[name as keyof typeof EMULATOR_SETTINGS], name).toBe(2147483647);
    }
  });

  it("read EMULATOR_REGIONS as a comma-separated list of the regions that serve the data set", () => {
    expect(emulatorOptions(loadEmulatorSettings({ EMULATOR_REGIONS: " us-east-1, eu-west-2 ," })).regions).toEqual(["us-east-1", "eu-west-2"]);
  });

  it("set DescribeContact's quota with EMULATOR_QUOTA_*, the other APIs' with EMULATOR_API_QUOTAS, and 0 turns every quota off", () => {
    const options = emulatorOptions(loadEmulatorSettings({ EMULATOR_QUOTA_RPS: "3", EMULATOR_QUOTA_BURST: "4", EMULATOR_API_QUOTAS: "SearchContacts=2/5, DescribeUser=20/30" }));
    expect(options.quota).toEqual({ perApi: { DescribeContact: { rps: 3, burst: 4 }, SearchContacts: { rps: 2, burst: 5 }, DescribeUser: { rps: 20, burst: 30 } } });
    // By default DescribeContact's quota is Connect's, so every API has Connect's default.
    const defaults = emulatorOptions(loadEmulatorSettings({})).quota;
    expect(defaults).toEqual({ perApi: { DescribeContact: CONNECT_DEFAULT_QUOTAS.DescribeContact } });
    expect(emulatorOptions(loadEmulatorSettings({ EMULATOR_QUOTA_RPS: "0" })).quota).toBe(false);
  });

  it("turn live traffic on by default (startEmulator alone keeps it off), and a dead-letter queue on with EMULATOR_MAX_RECEIVE_COUNT", () => {
    expect(emulatorOptions(loadEmulatorSettings({})).events).toEqual({
      live: { contactsPerMinute: 4, stepSeconds: 5 },
      queueName: "connect-contact-events",
      accountId: "000000000000",
      visibilityTimeoutSeconds: 30,
    });
    const events = emulatorOptions(loadEmulatorSettings({ EMULATOR_LIVE_CONTACTS_PER_MINUTE: "0", EMULATOR_MAX_RECEIVE_COUNT: "3", EMULATOR_QUEUE_NAME: "events" })).events;
    expect(events).toMatchObject({ live: { contactsPerMinute: 0 }, queueName: "events", deadLetter: { maxReceiveCount: 3 } });
    expect(() => loadEmulatorSettings({ EMULATOR_QUEUE_ACCOUNT_ID: "42" })).toThrow(/^Invalid setting EMULATOR_QUEUE_ACCOUNT_ID="42": expected 12 digits/);
  });

  it("map to the options of startEmulator", () => {
    const options = emulatorOptions(loadEmulatorSettings({ EMULATOR_PORT: "4010", EMULATOR_HOST: "0.0.0.0", EMULATOR_SEED: "7", EMULATOR_LATENCY_MS: "5", EMULATOR_REQUIRE_AUTH: "no" }));
    expect(options).toMatchObject({ port: 4010, host: "0.0.0.0", seed: 7, latencyMs: 5, requireAuth: false });
  });
});

describe("npm run emulator", () => {
  it("--help lists every setting with its default and exits 0", async () => {
    const { code, stdout } = await runCli(["--help"], {});
    expect(code).toBe(0);
    for (const [name, s] of Object.entries(EMULATOR_SETTINGS)) {
      const row = stdout.split("\n").find((l) => l.trimStart().startsWith(`${name} `));
      expect(row, name).toBeDefined();
      if (s.default) expect(row, name).toContain(s.default);
    }
  });

  it("stops on an invalid value with exit code 2 and one line naming the setting", async () => {
    const { code, stdout, stderr } = await runCli([], { EMULATOR_LATENCY_MS: "-3" });
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr.trim()).toMatch(/^emulator: Invalid setting EMULATOR_LATENCY_MS="-3"/);
    expect(stdout).not.toContain("listening");
  });
});
