import {
  ConnectClient,
  DescribeContactCommand,
  type Contact,
  type DescribeContactCommandInput,
  type DescribeContactCommandOutput,
} from "@aws-sdk/client-connect";
import type { FinalizeRequestMiddleware } from "@smithy/types";
import type { ContactRef } from "./contactRef.js";
import type { QuotaScope } from "./limiter.js";

/** Per-call options of an upstream read. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
  /**
   * Awaited before every attempt the SDK makes, retries included, so each request that reaches
   * Connect has been granted by the quota limiter. `attempt` counts from 1. May reject to stop the
   * call (the rejection is not retried).
   */
  beforeAttempt?: ((scope: QuotaScope, attempt: number) => Promise<void>) | undefined;
}

/**
 * The upstream API as the gateway uses it. The gateway depends on this interface, not on the SDK,
 * so tests can count or fail calls; production and the emulator both use `ConnectUpstream`.
 */
export interface Upstream {
  /** DescribeContact. Resolves the contact or rejects with the SDK's exception. */
  describeContact(ref: ContactRef, options?: CallOptions): Promise<Contact>;
  /** Closes keep-alive connections. */
  destroy(): void;
}

export interface ConnectUpstreamOptions {
  /**
   * Endpoint override for every region (the emulator's URL). Unset in `aws` mode, where the SDK
   * resolves the regional endpoint itself and honours `AWS_ENDPOINT_URL_CONNECT` and
   * `AWS_ENDPOINT_URL` as it always does.
   */
  endpoint?: string;
  /** Static credentials (the emulator's); unset means the SDK's default provider chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Attempts per call including the first, with the SDK's backoff between them. Default 3. */
  maxAttempts?: number;
  /**
   * The SDK's retry mode. `standard` (the default) retries throttling and 5xx with jittered
   * exponential backoff; `adaptive` adds client-side rate limiting of its own, which the gateway's
   * quota limiter already does across replicas.
   */
  retryMode?: "standard" | "adaptive";
  /** TCP connect timeout per attempt, ms. Default 1000. */
  connectionTimeoutMs?: number;
  /** Timeout per attempt for the whole response, ms. Default 3000. */
  requestTimeoutMs?: number;
  /** Sockets kept open per region. Default 50. */
  maxSockets?: number;
}

/**
 * DescribeContact over the real SDK. One `ConnectClient` per region for the life of the process,
 * so connections are kept alive and reused; never one per request.
 */
export class ConnectUpstream implements Upstream {
  private readonly clients = new Map<string, ConnectClient>();

  constructor(private readonly options: ConnectUpstreamOptions = {}) {}

  describeContact(ref: ContactRef, options: CallOptions = {}): Promise<Contact> {
    const command = new DescribeContactCommand({ InstanceId: ref.instanceId, ContactId: ref.contactId });
    const client = this.client(ref.region);
    const { beforeAttempt } = options;
    if (beforeAttempt) {
      // After the retry middleware, so it runs once per attempt; before signing, so the signature
      // is made after the wait.
      let attempt = 0;
      const gate: FinalizeRequestMiddleware<DescribeContactCommandInput, DescribeContactCommandOutput> = (next) => async (args) => {
        const credentials = await client.config.credentials();
        const identity = credentials.accountId ?? credentials.accessKeyId;
        await beforeAttempt({ api: "DescribeContact", region: ref.region, identity }, ++attempt);
        return next(args);
      };
      command.middlewareStack.addRelativeTo(gate, {
        relation: "before",
        toMiddleware: "httpSigningMiddleware",
        name: "quotaLimiterMiddleware",
      });
    }
    return client
      .send(command, { abortSignal: options.signal })
      .then((output) => {
        if (!output.Contact) throw Object.assign(new Error("DescribeContact returned no contact"), { name: "EmptyResponse" });
        return output.Contact;
      });
  }

  /** The client for `region`, created on first use. */
  client(region: string): ConnectClient {
    let client = this.clients.get(region);
    if (!client) {
      const o = this.options;
      const agent = { keepAlive: true, maxSockets: o.maxSockets ?? 50 };
      client = new ConnectClient({
        region,
        ...(o.endpoint !== undefined && { endpoint: o.endpoint }),
        ...(o.credentials !== undefined && { credentials: o.credentials }),
        maxAttempts: o.maxAttempts ?? 3,
        retryMode: o.retryMode ?? "standard",
        requestHandler: {
          connectionTimeout: o.connectionTimeoutMs ?? 1000,
          requestTimeout: o.requestTimeoutMs ?? 3000,
          httpAgent: agent,
          httpsAgent: agent,
        },
      });
      this.clients.set(region, client);
    }
    return client;
  }

  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }
}
