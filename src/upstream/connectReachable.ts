import type { ConnectUpstream } from "./connectUpstream.js";

/**
 * Amazon Connect (or the emulator) is reachable for `region`: the SDK resolves credentials, and the
 * endpoint the SDK would call answers HTTP. The request is unsigned, so it spends none of the
 * account's DescribeContact quota; any HTTP status counts as reachable. A readiness check for
 * `/readyz`: resolves when reachable, rejects with the reason when not.
 */
export function connectReachable(upstream: ConnectUpstream, region: string): () => Promise<void> {
  return async () => {
    const config = upstream.client(region).config;
    try {
      await config.credentials();
    } catch (error) {
      throw new Error(`no AWS credentials (${error instanceof Error ? error.name : "error"})`);
    }
    const endpoint = await endpointUrl(config as unknown as SdkEndpointConfig, region);
    try {
      const response = await fetch(endpoint, { method: "GET", signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new Error(`${new URL(endpoint).host} unreachable${cause ? ` (${cause})` : ""}`);
    }
  };
}

interface SdkEndpointConfig {
  endpoint?: () => Promise<{ protocol: string; hostname: string; port?: number; path: string } | string>;
  serviceConfiguredEndpoint?: () => Promise<string | undefined>;
  endpointProvider: (params: { Region: string }) => { url: URL };
}

// Private: the URL the SDK sends to: the client's `endpoint`, then AWS_ENDPOINT_URL_CONNECT /
// AWS_ENDPOINT_URL (the SDK's service-configured endpoint), then the regional default.
async function endpointUrl(config: SdkEndpointConfig, region: string): Promise<string> {
  const custom = await config.endpoint?.();
  if (typeof custom === "string") return custom;
  if (custom) return `${custom.protocol}//${custom.hostname}${custom.port ? `:${custom.port}` : ""}${custom.path}`;
  const configured = await config.serviceConfiguredEndpoint?.();
  if (configured) return configured;
  return config.endpointProvider({ Region: region }).url.href;
}
