import {
  ConnectClient,
  DescribeContactCommand,
  DescribeQueueCommand,
  DescribeUserCommand,
  GetContactAttributesCommand,
  ListContactReferencesCommand,
  SearchContactsCommand,
  type GetContactAttributesCommandOutput,
  type ListContactReferencesCommandOutput,
  type ReferenceType,
  type SearchContactsCommandOutput,
  type SearchContactsRequest,
  type SearchContactsResponse,
} from "@aws-sdk/client-connect";
import type { DeserializeMiddleware, FinalizeRequestMiddleware, MiddlewareStack } from "@smithy/types";
import { CONNECT_SERVICE_REGIONS, type ContactRef } from "../domain/contactRef.js";
import type { ResourceRef } from "../domain/resourceRef.js";
import { ANSWER_JSON, type AnswerJson, type CallOptions, type ContactAnswer, type QueueAnswer, type ReferencesPage, type Upstream, type UserAnswer } from "./upstream.js";

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
   * The SDK's retry mode. `standard` (the default) retries throttling (429), 5xx and timeouts with
   * jittered exponential backoff and never a 4xx; `adaptive` adds a client-side rate limiter per
   * process that slows down after throttling, which the gateway's quota limiter already does,
   * exactly and for all replicas together (and two limiters in series would only add latency).
   */
  retryMode?: "standard" | "adaptive";
  /** TCP connect timeout per attempt, ms. Default 1000. */
  connectionTimeoutMs?: number;
  /** Timeout per attempt for the whole response, ms. Default 3000. */
  requestTimeoutMs?: number;
  /** Sockets kept open per region. Default 50. */
  maxSockets?: number;
  /**
   * The regions it may call (`CONNECT_REGIONS` with `AWS_REGION`); no client is ever made for
   * another. Default: the regions Amazon Connect is offered in (`CONNECT_SERVICE_REGIONS`).
   */
  regions?: Iterable<string>;
}

/**
 * Connect's read APIs over the real SDK. One `ConnectClient` per region for the life of the
 * process, so connections are kept alive and reused; never one per request. Only for the regions
 * the gateway may call (`regions`: `CONNECT_REGIONS`), so there are never more clients than that
 * list has regions, whatever regions callers write.
 */
export class ConnectUpstream implements Upstream {
  private readonly clients = new Map<string, ConnectClient>();
  private readonly regions: ReadonlySet<string>;

  constructor(private readonly options: ConnectUpstreamOptions = {}) {
    this.regions = new Set(options.regions ?? CONNECT_SERVICE_REGIONS);
  }

  // The three reads whose answers are cached are parsed once, by `JSON.parse`, into the answer's
  // JSON (see `keepingJson`); the SDK still signs, retries, times out, resolves endpoints and turns
  // every error response into its exception.

  describeContact(ref: ContactRef, options: CallOptions = {}): Promise<ContactAnswer> {
    const command = new DescribeContactCommand({ InstanceId: ref.instanceId, ContactId: ref.contactId });
    return this.sendKeepingJson(ref.region, "DescribeContact", command, options, "Contact");
  }

  describeQueue(ref: ResourceRef, options: CallOptions = {}): Promise<QueueAnswer> {
    const command = new DescribeQueueCommand({ InstanceId: ref.instanceId, QueueId: ref.id });
    return this.sendKeepingJson(ref.region, "DescribeQueue", command, options, "Queue");
  }

  describeUser(ref: ResourceRef, options: CallOptions = {}): Promise<UserAnswer> {
    const command = new DescribeUserCommand({ InstanceId: ref.instanceId, UserId: ref.id });
    return this.sendKeepingJson(ref.region, "DescribeUser", command, options, "User");
  }

  getContactAttributes(ref: ContactRef, options: CallOptions = {}): Promise<Record<string, string>> {
    const command = new GetContactAttributesCommand({ InstanceId: ref.instanceId, InitialContactId: ref.contactId });
    return this.send<GetContactAttributesCommandOutput>(ref.region, "GetContactAttributes", command, options).then((output) => output.Attributes ?? {});
  }

  listContactReferences(ref: ContactRef, types: readonly string[], nextToken: string | undefined, options: CallOptions = {}): Promise<ReferencesPage> {
    const command = new ListContactReferencesCommand({
      InstanceId: ref.instanceId,
      ContactId: ref.contactId,
      ReferenceTypes: types as ReferenceType[],
      ...(nextToken !== undefined && { NextToken: nextToken }),
    });
    return this.send<ListContactReferencesCommandOutput>(ref.region, "ListContactReferences", command, options).then((output) => ({
      references: output.ReferenceSummaryList ?? [],
      nextToken: output.NextToken,
    }));
  }

  searchContacts(region: string, input: SearchContactsRequest, options: CallOptions = {}): Promise<SearchContactsResponse> {
    // A copy: the command's input keys this call's state (`callStates`), and the caller's object
    // may be the input of another call in flight.
    return this.send<SearchContactsCommandOutput>(region, "SearchContacts", new SearchContactsCommand({ ...input }), options);
  }

  // Private: sends `command` and resolves the answer's `member` as its JSON was parsed, carrying the
  // body's text (`ANSWER_JSON`). The SDK's own deserializer then reads an empty body for a success.
  private async sendKeepingJson(region: string, api: string, command: { input: object }, options: CallOptions, member: string): Promise<AnswerJson> {
    let body: string | undefined;
    const output = await this.send<Record<string, unknown>>(region, api, command, options, (text) => (body = text));
    const metadata = output.$metadata;
    let answer: unknown = output; // a success the middleware did not see (never, short of a change in the SDK's stack)
    if (body !== undefined) {
      try {
        answer = body.trim() === "" ? {} : JSON.parse(body);
      } catch {
        throw Object.assign(new Error(`${api} answered a body that is not JSON`), { name: "MalformedResponse", $metadata: metadata });
      }
    }
    const value = answer !== null && typeof answer === "object" ? (answer as Record<string, unknown>)[member] : undefined;
    if (value === null || typeof value !== "object") throw Object.assign(emptyResponse(`${api} returned no ${member.toLowerCase()}`), { $metadata: metadata });
    if (body !== undefined) Object.defineProperty(value, ANSWER_JSON, { value: body });
    return value as AnswerJson;
  }

  // Private: sends `command` with the region's client. Its state for the client's two middlewares
  // (`beforeAttempt` gates every attempt; `onBody` receives a success's body) is keyed by its input.
  private send<O>(region: string, api: string, command: { input: object }, options: CallOptions, onBody?: (text: string) => void): Promise<O> {
    let client: ConnectClient;
    try {
      client = this.client(region);
    } catch (error) {
      return Promise.reject(error);
    }
    const { beforeAttempt, signal } = options;
    const stateful = beforeAttempt !== undefined || onBody !== undefined;
    if (stateful) callStates.set(command.input, { api, beforeAttempt, attempt: 0, onBody });
    // No options object, so the client's cached handler serves the call (`cacheMiddleware`). Given
    // a signal, the SDK needs it in the options: that call resolves the stack afresh and empties
    // the client's cache (smithy's `Client.send`), which the next call without a signal refills.
    // No caller passes one today.
    const sent = (signal === undefined ? client.send(command as never) : client.send(command as never, { abortSignal: signal })) as unknown as Promise<O>;
    return stateful ? sent.finally(() => callStates.delete(command.input)) : sent;
  }

  /**
   * The client for `region`, created on first use. Throws (`RegionNotAllowed`, before any call) for
   * a region the gateway may not call: refs are refused as they are parsed (BAD_USER_INPUT), so
   * this only guards the map, which thereby holds at most one client per region of
   * `CONNECT_REGIONS`: each client keeps its sockets, and each region its quota buckets, for the
   * life of the process.
   */
  client(region: string): ConnectClient {
    let client = this.clients.get(region);
    if (!client) {
      if (!this.regions.has(region)) {
        throw Object.assign(new Error(`The gateway does not call Amazon Connect in region "${region}" (CONNECT_REGIONS)`), { name: "RegionNotAllowed" });
      }
      const o = this.options;
      const agent = { keepAlive: true, maxSockets: o.maxSockets ?? 50 };
      client = new ConnectClient({
        region,
        ...(o.endpoint !== undefined && { endpoint: o.endpoint }),
        ...(o.credentials !== undefined && { credentials: o.credentials }),
        maxAttempts: o.maxAttempts ?? 3,
        retryMode: o.retryMode ?? "standard",
        // The client resolves a command class's middleware stack once and keeps the handler for
        // every later call sent without options (smithy's `Client.send`): resolving it per call
        // (cloning, concatenating and sorting the whole stack) cost 35–60 µs of CPU, and a
        // DescribeContact about 100 µs (15–20%) more than with the cached handler. So the stack is
        // final before the first call, and each call's own state reaches the middlewares through
        // `callStates`.
        cacheMiddleware: true,
        requestHandler: {
          connectionTimeout: o.connectionTimeoutMs ?? 1000,
          requestTimeout: o.requestTimeoutMs ?? 3000,
          // Without this the SDK only logs a warning when requestTimeout passes and keeps waiting.
          throwOnRequestTimeout: true,
          httpAgent: agent,
          httpsAgent: agent,
        },
      });
      // The gateway gives the SDK no logger, yet the SDK's logger middleware still copies every
      // answer through the schema's sensitive-data filter (all of a Contact's member paths) to log
      // it nowhere. Removing it changes nothing observable and saves that copy (bench/README.md).
      client.middlewareStack.remove("loggerMiddleware");
      // Once per client, for every command: both pass a call that left them nothing in `callStates`.
      // (Typed over `object`: the union of all of Connect's inputs and outputs is too much for tsc.)
      const stack = client.middlewareStack as unknown as MiddlewareStack<object, object>;
      stack.addRelativeTo(keepingJson(client), { relation: "after", toMiddleware: "deserializerMiddleware", name: "keepingJsonMiddleware" });
      // After the retry middleware, so it runs once per attempt; before signing, so the signature
      // is made after the wait.
      stack.addRelativeTo(quotaGate(client, region), { relation: "before", toMiddleware: "httpSigningMiddleware", name: "quotaLimiterMiddleware" });
      this.clients.set(region, client);
    }
    return client;
  }

  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }
}

/** What one call leaves for the client's middlewares. */
interface CallState {
  readonly api: string;
  /** `CallOptions.beforeAttempt`: awaited before every attempt. */
  readonly beforeAttempt: CallOptions["beforeAttempt"];
  /** Attempts gated so far. */
  attempt: number;
  /** Receives a success's body as text (`sendKeepingJson`). */
  readonly onBody: ((text: string) => void) | undefined;
}

/**
 * Each call's state for the client's middlewares, keyed by its command's `input`: the handler the
 * client caches, middlewares and context included, serves every call of a command class at once,
 * so nothing of one call can live in it. In every step `args.input` is `command.input`, the object
 * itself: `Client.send` calls the handler with the command as `args`, and each middleware up to the
 * deserializer passes `args` on or spreads it with a new `request` (read in @smithy/core 3.41.0,
 * under @aws-sdk/client-connect 3.1136.0; the specs fail if a later SDK copies it). Every method
 * makes its command a fresh input, so no two calls in flight share a key. An entry is deleted once
 * its call settles: the cached context holds on to the first command of each class for the
 * client's life, and its entry would keep that call's callbacks and body alive with it.
 */
const callStates = new WeakMap<object, CallState>();

/**
 * A deserialize-step middleware inside the SDK's deserializer: a success's body is read once, handed
 * to the call's `onBody` as text, and replaced by an empty one, so the SDK's schema-driven
 * deserializer (the largest cost of an uncached read, bench/README.md) walks nothing and builds
 * nothing. Error responses, and calls that want no body, pass untouched: the SDK still makes its
 * exceptions (ResourceNotFoundException, ThrottlingException, …) from them, and its retry
 * middleware, outside this one, still sees them.
 */
function keepingJson(client: ConnectClient): DeserializeMiddleware<object, object> {
  return (next) => async (args) => {
    const onBody = callStates.get(args.input)?.onBody;
    const result = await next(args);
    if (onBody === undefined) return result;
    const response = result.response as { statusCode?: number; body?: unknown };
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300 && response.body !== undefined) {
      let bytes: Uint8Array;
      try {
        bytes = await client.config.streamCollector(response.body);
      } catch (error) {
        // As the SDK's deserializer would: the status and request id stay on the error (the error
        // table shows them in `extensions.upstream`); the SDK's retry middleware sees it as before.
        if (error && typeof error === "object" && !("$metadata" in error)) Object.assign(error, { $metadata: { httpStatusCode: status, requestId: requestIdOf(result.response) } });
        throw error;
      }
      onBody(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
      response.body = new Uint8Array(0);
    }
    return result;
  };
}

/**
 * A finalizeRequest-step middleware between the retry middleware and signing: awaits the call's
 * `beforeAttempt` before each of its attempts, retries included. A call without one passes.
 */
function quotaGate(client: ConnectClient, region: string): FinalizeRequestMiddleware<object, object> {
  return (next) => async (args) => {
    const state = callStates.get(args.input);
    if (state?.beforeAttempt === undefined) return next(args);
    const credentials = await client.config.credentials();
    const identity = credentials.accountId ?? credentials.accessKeyId;
    await state.beforeAttempt({ api: state.api, region, identity }, ++state.attempt);
    return next(args);
  };
}

// Private: Connect's request id header, as the SDK reads it into `$metadata.requestId`.
function requestIdOf(response: unknown): string | undefined {
  const headers = (response as { headers?: Record<string, string | undefined> }).headers ?? {};
  return headers["x-amzn-requestid"] ?? headers["x-amz-request-id"];
}

function emptyResponse(message: string): Error {
  return Object.assign(new Error(message), { name: "EmptyResponse" });
}
