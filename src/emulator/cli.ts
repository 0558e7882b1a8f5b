/**
 * Runs the Amazon Connect emulator on its own (`npm run emulator`), e.g. for benchmarks that
 * drive it as a separate process through its admin surface.
 *
 * Environment: EMULATOR_PORT (default 4010; 0 picks a free port), EMULATOR_HOST (default
 * 127.0.0.1), EMULATOR_LATENCY_MS (default 0), EMULATOR_QUOTA_RPS and EMULATOR_QUOTA_BURST
 * (a token bucket per API; unset means no quota; EMULATOR_QUOTA_RPS=connect means Connect's
 * defaults), EMULATOR_SEED (default 1; other seeds keep the DEMO ids but change everything else),
 * EMULATOR_REQUIRE_AUTH (default true).
 */
import { CONNECT_DEFAULT_QUOTAS, startEmulator, type QuotaOption } from "./emulator.js";
import { buildDataset, DEMO } from "./dataset.js";

class UsageError extends Error {}

function intSetting(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  return value;
}

function quotaSetting(): QuotaOption {
  const rps = process.env.EMULATOR_QUOTA_RPS?.trim();
  if (!rps) return false;
  if (rps === "connect" || rps === "default") return true;
  const value = Number(rps);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`EMULATOR_QUOTA_RPS must be a positive number or "connect", got "${rps}"`);
  const burst = process.env.EMULATOR_QUOTA_BURST?.trim() ? intSetting("EMULATOR_QUOTA_BURST", 1, 1) : Math.max(1, Math.ceil(value));
  return { rps: value, burst };
}

function describeQuota(quota: QuotaOption): string {
  if (quota === false) return "none";
  if (quota === true) return `Connect defaults (DescribeContact ${CONNECT_DEFAULT_QUOTAS.DescribeContact.rps}/s burst ${CONNECT_DEFAULT_QUOTAS.DescribeContact.burst}, SearchContacts ${CONNECT_DEFAULT_QUOTAS.SearchContacts.rps}/s burst ${CONNECT_DEFAULT_QUOTAS.SearchContacts.burst})`;
  return `${quota.rps}/s burst ${quota.burst} per API`;
}

async function main(): Promise<void> {
  let settings;
  try {
    settings = {
      port: intSetting("EMULATOR_PORT", 4010),
      host: process.env.EMULATOR_HOST?.trim() || "127.0.0.1",
      latencyMs: intSetting("EMULATOR_LATENCY_MS", 0),
      quota: quotaSetting(),
      seed: intSetting("EMULATOR_SEED", DEMO.seed),
      requireAuth: !["0", "false", "no"].includes((process.env.EMULATOR_REQUIRE_AUTH ?? "").trim().toLowerCase()),
    };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`emulator: ${error.message}`);
    process.exit(2);
  }
  const emulator = await startEmulator({ ...settings, dataset: buildDataset(settings.seed) });
  const contacts = emulator.dataset.instances.get(DEMO.instanceId)?.contacts.size ?? 0;
  console.log(
    [
      "",
      `  Amazon Connect emulator listening on ${emulator.url}`,
      `  Synthetic data (seed ${settings.seed}): ${contacts} contacts in instance ${DEMO.instanceId}`,
      `  Latency ${settings.latencyMs} ms; quota: ${describeQuota(settings.quota)}; SigV4 header ${settings.requireAuth ? "required" : "not required"}`,
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

main().catch((error: unknown) => {
  console.error(`emulator: failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
