/**
 * Runs the Amazon Connect emulator on its own (`npm run emulator`), e.g. for gateways and benchmarks
 * in other processes (they reach it through EMULATOR_URL and its admin surface). It reads the same
 * settings table as the emulator the gateway embeds (settings.ts): `--help` lists them; a bad value
 * exits 2 with one line naming the setting.
 */
import { CONNECT_DEFAULT_QUOTAS, type QuotaOption } from "./quotas.js";
import { DEMO } from "./dataset.js";
import { startEmulator } from "./emulator.js";
import { EmulatorSettingsError, emulatorOptions, emulatorSettingsHelp, loadEmulatorSettings, type EmulatorSettings } from "./settings.js";

async function main(): Promise<void> {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    console.log(["connect-graphql's Amazon Connect emulator, on its own.", "", "Usage: npm run emulator", "", emulatorSettingsHelp()].join("\n"));
    return;
  }
  let settings: EmulatorSettings;
  try {
    settings = loadEmulatorSettings(process.env);
  } catch (error) {
    if (!(error instanceof EmulatorSettingsError)) throw error;
    console.error(`emulator: ${error.message}`);
    process.exit(2);
  }
  const options = emulatorOptions(settings);
  const emulator = await startEmulator(options);
  const contacts = emulator.dataset.instances.get(DEMO.instanceId)?.contacts.size ?? 0;
  console.log(
    [
      "",
      `  Amazon Connect emulator listening on ${emulator.url}`,
      `  Synthetic data (seed ${settings.EMULATOR_SEED}): ${contacts} contacts in instance ${DEMO.instanceId}`,
      `  Latency ${settings.EMULATOR_LATENCY_MS} ms; quota: ${describeQuota(options.quota ?? false)}; SigV4 header ${settings.EMULATOR_REQUIRE_AUTH ? "required" : "not required"}`,
      "",
      `  Region / account:   ${DEMO.region} / ${DEMO.accountId}`,
      `  Second instance:    ${DEMO.secondInstanceId}`,
      `  Long chain tail:    ${DEMO.longChainTailId}  (${DEMO.longChainLength} contacts)`,
      `  Every field:        ${DEMO.fullContactId}`,
      `  Related in chain:   ${DEMO.relatedChainContactId}`,
      `  In progress:        ${DEMO.inProgressContactId}`,
      `  Unknown enum value: ${DEMO.unknownEnumContactId}`,
      `  Does not exist:     ${DEMO.missingContactId}`,
      "",
      `  Try: curl -H 'Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261014/${DEMO.region}/connect/aws4_request, SignedHeaders=host, Signature=0' \\`,
      `         ${emulator.url}/contacts/${DEMO.instanceId}/${DEMO.fullContactId}`,
      `  Admin: GET ${emulator.url}/_emulator/stats, POST /_emulator/reset, POST /_emulator/config`,
      "",
      `  Contact events (SQS): ${emulator.events.queueUrl}${emulator.events.deadLetterQueueUrl ? `  (dead letters: ${emulator.events.deadLetterQueueUrl})` : ""}`,
      `  Live traffic: ${settings.EMULATOR_LIVE_CONTACTS_PER_MINUTE > 0 ? `${settings.EMULATOR_LIVE_CONTACTS_PER_MINUTE} contacts/min` : "off"}; emit one: POST /_emulator/events {"eventType":"INITIATED"}`,
      "",
    ].join("\n"),
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`emulator: ${signal}, shutting down`);
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

// Private: the quota in force, in words.
function describeQuota(quota: QuotaOption): string {
  if (quota === false) return "none";
  if (quota === true) return "Connect's defaults";
  const perApi = { ...CONNECT_DEFAULT_QUOTAS, ...quota.perApi };
  return Object.entries(perApi)
    .map(([api, q]) => `${api} ${q.rps}/s burst ${q.burst}`)
    .join(", ");
}

main().catch((error: unknown) => {
  console.error(`emulator: failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
