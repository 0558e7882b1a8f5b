import { SQSClient } from "@aws-sdk/client-sqs";
import { ConfigError, configHelp, loadConfig, type Config } from "./config/config.js";
import { ConnectUpstream } from "./upstream/connectUpstream.js";
import type { Emulator } from "./emulator/emulator.js";
import { connectReachable } from "./upstream/connectReachable.js";
import { createLogger } from "./observability/logger.js";
import { createMetrics } from "./observability/metrics.js";
import { startTracing } from "./observability/tracing.js";
import { createGateway } from "./http/gateway.js";

/**
 * The process: read the configuration, start the embedded emulator in emulator mode, start the
 * gateway, and shut both down cleanly on SIGTERM/SIGINT. A bad setting exits with code 2 and one line.
 */
async function main(): Promise<void> {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    console.log(configHelp());
    // The emulator's settings are its own; their help comes from the emulator module.
    console.log(`\n${(await import("./emulator/emulator.js")).emulatorSettingsHelp()}`);
    return;
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`connect-graphql: ${error.message}`);
    process.exit(2);
  }
  const logger = createLogger(config);
  process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled rejection"));
  // Traces from the standard OTEL_* variables, before anything else starts (a bad one exits 2 like
  // any bad setting); unset, nothing of OpenTelemetry is even loaded.
  const tracing = await startTracing(process.env, { logger });
  if (tracing) logger.info({ tracing: tracing.description }, "tracing on");

  // The emulator is loaded only in emulator mode: aws mode never loads (or needs) its code and data.
  const emulatorModule = config.CONNECT_MODE === "emulator" ? await import("./emulator/emulator.js") : undefined;
  const demo = config.CONNECT_MODE === "emulator" ? (await import("./emulator/dataset.js")).DEMO : undefined;
  let emulator: Emulator | undefined;
  if (emulatorModule && !config.EMULATOR_URL) {
    // The embedded emulator reads its own settings table (the same as `npm run emulator`); a bad
    // EMULATOR_* value stops start-up like a bad gateway setting.
    let settings: import("./emulator/emulator.js").EmulatorSettings;
    try {
      settings = emulatorModule.loadEmulatorSettings(process.env);
    } catch (error) {
      if (!(error instanceof emulatorModule.EmulatorSettingsError)) throw error;
      console.error(`connect-graphql: ${error.message}`);
      process.exit(2);
    }
    // It also serves the gateway's own region, where ids without an ARN are read: a shell that
    // exports AWS_REGION for other tools still gets the demo data at `npm start`.
    const options = emulatorModule.emulatorOptions(settings);
    emulator = await emulatorModule.startEmulator({ ...options, regions: [...(options.regions ?? []), config.AWS_REGION] });
  }
  // Emulator mode talks to the embedded emulator, or to one running elsewhere (EMULATOR_URL).
  const emulatorUrl = config.CONNECT_MODE === "emulator" ? (config.EMULATOR_URL ?? emulator?.url) : undefined;
  const upstream = new ConnectUpstream({
    ...(emulatorUrl && emulatorModule && { endpoint: emulatorUrl, credentials: emulatorModule.EMULATOR_CREDENTIALS }),
    maxAttempts: config.CONNECT_MAX_ATTEMPTS,
    retryMode: config.CONNECT_RETRY_MODE,
    connectionTimeoutMs: config.CONNECT_CONNECT_TIMEOUT_MS,
    requestTimeoutMs: config.CONNECT_REQUEST_TIMEOUT_MS,
    maxSockets: config.CONNECT_MAX_SOCKETS,
    regions: config.CONNECT_REGIONS,
  });
  // Live contact events: CONTACT_EVENTS_QUEUE_URL, else the emulator's queue in emulator mode.
  const queueUrl = config.CONTACT_EVENTS_QUEUE_URL ?? emulator?.events.queueUrl ?? (emulatorUrl ? emulatorQueueUrl(emulatorUrl) : undefined);
  const sqs = queueUrl
    ? new SQSClient({
        region: queueRegion(queueUrl) ?? config.AWS_REGION,
        // The emulator serves SQS on its own port; in aws mode the SDK resolves the endpoint itself
        // (and honours AWS_ENDPOINT_URL_SQS) and uses the default credential chain.
        ...(emulatorUrl && emulatorModule && !config.CONTACT_EVENTS_QUEUE_URL && { endpoint: emulatorUrl, credentials: emulatorModule.EMULATOR_CREDENTIALS }),
        maxAttempts: config.CONNECT_MAX_ATTEMPTS,
        // Longer than a 20 s long poll; a connection that died silently fails rather than hangs.
        requestHandler: { connectionTimeout: config.CONNECT_CONNECT_TIMEOUT_MS, requestTimeout: 30_000, throwOnRequestTimeout: true },
      })
    : undefined;
  const gateway = await createGateway({
    config,
    upstream,
    ...(sqs && queueUrl && { contactEvents: { sqs, queueUrl } }),
    logger,
    tracing,
    metrics: createMetrics({ processMetrics: true }),
    // Ready when Connect (or the emulator) answers; checked without spending DescribeContact quota.
    readinessChecks: { connect: connectReachable(upstream, config.AWS_REGION) },
    ...(demo && { exampleIds: { instanceId: demo.instanceId, contactId: demo.longChainTailId } }),
  });
  const url = await gateway.listen();
  logger.info({ url: `${url}/graphql`, mode: config.CONNECT_MODE, auth: config.AUTH_MODE }, "connect-graphql listening");
  if (emulatorUrl && demo) console.log(banner(`${url}/graphql`, emulatorUrl, emulator !== undefined, demo));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: finishing in-flight operations");
    const timer = setTimeout(() => {
      logger.warn({ graceMs: config.SHUTDOWN_GRACE_MS }, "in-flight operations did not finish in time; exiting");
      process.exit(1);
    }, config.SHUTDOWN_GRACE_MS);
    timer.unref();
    await gateway.close();
    // The last operations' spans, exported within 2 s: an unreachable collector must not hold the exit.
    if (tracing) await Promise.race([tracing.shutdown().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    sqs?.destroy();
    await emulator?.close();
    logger.info("stopped");
    logger.flush?.();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

/** An external emulator's contact events queue (EMULATOR_URL): the account id and name it serves by default. */
function emulatorQueueUrl(emulatorUrl: string): string {
  return `${emulatorUrl.replace(/\/$/, "")}/000000000000/connect-contact-events`;
}

/** The region in an SQS queue URL (`https://sqs.{region}.amazonaws.com/…`), if it names one. */
function queueRegion(queueUrl: string): string | undefined {
  return /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\//.exec(queueUrl)?.[1];
}

function banner(graphqlUrl: string, emulatorUrl: string, embedded: boolean, demo: typeof import("./emulator/dataset.js").DEMO): string {
  return [
    "",
    `  connect-graphql is running against ${embedded ? "the embedded" : "an external"} Amazon Connect emulator.`,
    "  The data is SYNTHETIC: generated from a fixed seed, no real customer is in it.",
    "",
    `  GraphiQL:     ${graphqlUrl}`,
    `  Emulator:     ${emulatorUrl}  (Connect's REST-JSON API, SigV4 from the real SDK)`,
    `  Instance id:  ${demo.instanceId}`,
    `  Try contacts: ${demo.longChainTailId}  (end of a ${demo.longChainLength}-contact transfer chain)`,
    `                ${demo.fullContactId}  (every field populated)`,
    "",
    `  Set CONNECT_MODE=aws to use Amazon Connect; npm start -- --help lists every setting.`,
    "",
  ].join("\n");
}

main().catch((error: unknown) => {
  // A setting found bad only while starting (an unreadable AUTH_JWKS_FILE) exits like any bad setting.
  if (error instanceof ConfigError) {
    console.error(`connect-graphql: ${error.message}`);
    process.exit(2);
  }
  console.error(`connect-graphql: failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
