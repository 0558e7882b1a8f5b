import type { ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from "fastify";
import { GraphQLError, type ExecutionResult } from "graphql";
import { createHandler } from "graphql-sse/lib/use/fastify";
import type { Principal } from "../domain/principal.js";
import type { GatewayMetrics } from "../observability/metrics.js";
import type { SubscriptionOrigin } from "./subscriptionLog.js";
import { refuseRequest } from "./refuseRequest.js";
import { CUT_OFF_GRACE_MS, type OperationParams, type SubscriptionServer } from "./subscriptionServer.js";
import { TrustedDocumentError } from "./trustedDocuments.js";

export interface SseOptions {
  server: SubscriptionServer;
  /** The caller of a request (the auth hook authenticated it before its body was read). */
  principalOf: (request: FastifyRequest) => Principal;
  metrics: GatewayMetrics;
  /** Counts open streams (for shutdown). */
  streams?: SseStreams | undefined;
}

/**
 * GraphQL over Server-Sent Events (`graphql-sse`, distinct connections mode: one request per
 * subscription, works over HTTP/1) for `GET` and `POST /graphql/stream`. Authentication is the
 * gateway's bearer-token hook, before the body is read (401/403 as HTTP). Each open stream counts
 * as one of its caller's connections (`SUBSCRIPTION_CONNECTIONS_PER_PRINCIPAL`); a subscriber that
 * falls `SUBSCRIPTION_BUFFER_EVENTS` behind has its stream closed. graphql-sse sends a keep-alive
 * comment every 12 seconds.
 *
 * Accept: any request whose `Accept` lists `text/event-stream` (with parameters, among other media
 * ranges) gets a stream; graphql-sse itself streams only for exactly `text/event-stream` and takes
 * anything else for its single-connection mode, which the gateway does not serve (it needs `PUT` to
 * reserve a stream first). So other `Accept`s are refused here with 406, and the other methods routed
 * here (`PUT` and `DELETE`, that mode's reservation and cancellation; `PATCH`; `HEAD`) with 405, each with a
 * GraphQL-shaped BAD_REQUEST saying what to send.
 *
 * The operation is read here too, before graphql-sse (whose refusals carry no code, and a 415 no body):
 * a POST that is not `application/json` is refused with 415, a body that is not a JSON object, a
 * `query` that is not a string, `variables` or `extensions` that are not objects (or, in a GET's URL,
 * not JSON, or given twice; empty is none, as graphql-sse reads it) with 400, each BAD_REQUEST. A GET
 * reaches graphql-sse with its URL rebuilt from what was read (`urlOf`). A request with no `query` at all goes on to
 * `prepare` as one with an empty `query`: it may name a trusted document (`documentId`, which
 * graphql-sse would drop, is taken from the request here, or the persisted-query extension), else it
 * is refused there with BAD_REQUEST (TRUSTED_DOCUMENT_REQUIRED with trusted documents), as over
 * WebSocket.
 *
 * Back-pressure: graphql-sse pulls results as fast as they come and queues them unbounded for its
 * writer, so a stalled reader would never fill the subscriber's bounded queue. Each result is
 * therefore pulled only once the ones before it were written to the socket (their writes' callbacks
 * ran: the kernel took the bytes). A reader that stops reading stops the pulls once the socket's
 * buffers are full, its subscriber queue fills, and at the bound its stream ends with
 * SUBSCRIBER_TOO_SLOW (its connection closed a second later if it still does not read); the gateway
 * holds at most `SUBSCRIPTION_BUFFER_EVENTS` events and one result for it. A reader that keeps up
 * is not slowed: its writes complete as soon as they are made.
 *
 * Every subscription refused here writes one log line under the request's id and counts its codes
 * (`SubscriptionLog`). Refused earlier, it does not: by the authentication hook (401/403, which logs
 * its own line, as on POST /graphql), for its method, `Accept`, `Content-Type` or a body that is not
 * an operation (before any operation was read).
 */
export function sseHandler(options: SseOptions): RouteHandlerMethod {
  const { server, metrics } = options;
  const flows = new WeakMap<object, StreamFlow>();
  /** Each request's operation as read by `handleStream` (graphql-sse's own reading drops `documentId`). */
  const operations = new WeakMap<FastifyRequest, OperationParams>();
  const handler = createHandler<Record<string, unknown>>({
    // `prepare` validated the document with every rule and limit (once per text); graphql-sse would
    // validate it again per subscription with graphql-js's rules alone.
    validate: () => [],
    onSubscribe(req, sent) {
      const request = req.raw;
      const params = operations.get(request) ?? sent;
      const reply = req.context.reply;
      const origin: SubscriptionOrigin = { transport: "sse", requestId: request.id, started: process.hrtime.bigint() };
      let principal: Principal;
      try {
        principal = options.principalOf(request);
      } catch (error) {
        // No caller: the auth hook refuses first, so only a route that skipped it gets here; a
        // refusal, not a failure.
        if (error instanceof GraphQLError) return errorResponse(401, [error]);
        throw error;
      }
      const key = server.connect(principal, request.ip);
      if (!key) return errorResponse(429, server.refuse(origin, params, [server.tooManyConnections()]));
      const flow = new StreamFlow(reply.raw);
      let args: ReturnType<SubscriptionServer["prepare"]>;
      try {
        args = server.prepare(params, { ...origin, principal, onOverflow: () => flow.cutOff() });
      } catch (error) {
        // A defect (the request is answered 500): the connection it counted is given back all the same.
        server.disconnect(key);
        throw error;
      }
      if (!Array.isArray(args)) flows.set(args.contextValue, flow);
      if (Array.isArray(args)) {
        server.disconnect(key);
        return errorResponse(args[0] instanceof TrustedDocumentError ? args[0].status : 400, args);
      }
      metrics.observeSubscriptions("sse", 1);
      reply.raw.once("close", () => {
        server.disconnect(key);
        metrics.observeSubscriptions("sse", -1);
      });
      return args as never;
    },
    subscribe: async (args) => {
      const result = await server.subscribe(args as unknown as Parameters<SubscriptionServer["subscribe"]>[0]);
      const flow = flows.get(args.contextValue as object);
      return flow && Symbol.asyncIterator in result ? flow.pace(result) : result;
    },
  });
  return async function handleStream(request, reply) {
    if (request.method !== "GET" && request.method !== "POST") {
      void reply.header("allow", "GET, POST");
      return refuseRequest(reply, 405, `${request.method} is not served here: subscribe with GET or POST and \`Accept: text/event-stream\`, one request per subscription (graphql-sse's single-connection mode is not served).`);
    }
    if (!acceptsEventStream(request.headers.accept)) {
      return refuseRequest(reply, 406, "This endpoint answers with an event stream: send `Accept: text/event-stream`. Queries and mutations go to POST /graphql.");
    }
    const operation = readOperation(request);
    if ("refusal" in operation) return refuseRequest(reply, operation.status, operation.refusal);
    operations.set(request, operation);
    // graphql-sse streams only for this exact value (anything else it takes for its single-connection mode).
    request.raw.headers.accept = EVENT_STREAM;
    // What it reads next is what was checked; it needs a `query` string (one naming a trusted document may have none).
    if (request.method === "POST") {
      request.raw.headers["content-type"] = "application/json";
      (request.body as Record<string, unknown>).query = operation.query;
    } else {
      request.raw.url = urlOf(request.url, operation.query);
    }
    const socket = request.raw.socket;
    options.streams?.opened(socket);
    try {
      // Or until the connection is gone: graphql-sse then ends the response with `end(callback)`,
      // and Node never calls that back on a destroyed response, so its promise would never settle.
      const gone = reply.raw.destroyed ? Promise.resolve() : new Promise<void>((resolve) => reply.raw.once("close", () => resolve()));
      await Promise.race([handler(request, reply), gone]);
    } finally {
      options.streams?.closed(socket);
    }
  };
}

/**
 * The SSE streams open now, so a graceful shutdown can wait for the ones it ended to finish
 * writing before the server closes idle connections (a stream's connection is busy until then),
 * and cut only the connections of streams still open after that (a stalled reader), never those
 * of operations in flight.
 */
export class SseStreams {
  /** The connection of each open stream (one stream per request, one request at a time per connection). */
  private readonly sockets = new Set<Socket>();
  private waiters: Array<() => void> = [];

  opened(socket: Socket): void {
    this.sockets.add(socket);
  }

  closed(socket: Socket): void {
    this.sockets.delete(socket);
    if (this.sockets.size === 0) for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves when no stream is open, or after `timeoutMs`. */
  async idle(timeoutMs: number): Promise<void> {
    if (this.sockets.size === 0) return;
    await new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      setTimeout(resolve, timeoutMs).unref();
    });
  }

  /** Destroys the connection of every stream still open; returns how many. */
  cut(): number {
    const open = [...this.sockets];
    for (const socket of open) socket.destroy();
    return open.length;
  }
}

/** The fields of an operation a request to the stream may carry. */
const OPERATION_FIELDS = ["query", "operationName", "variables", "extensions", "documentId"] as const;

/**
 * The operation a request to the stream carries (a POST's JSON body, a GET's URL), checked as
 * graphql-sse would check it, with `query` "" when there is none; or why it is refused (400, or 415
 * for a POST that is not JSON), a message of the gateway's own.
 */
function readOperation(request: FastifyRequest): (OperationParams & { readonly query: string }) | { readonly status: 400 | 415; readonly refusal: string } {
  let fields: Record<string, unknown>;
  if (request.method === "GET") {
    const search = new URLSearchParams(searchOf(request.url));
    fields = {};
    for (const name of OPERATION_FIELDS) {
      const values = search.getAll(name);
      if (values.length > 1) return { status: 400, refusal: `\`${name}\` is given more than once.` };
      if (values.length === 0) continue;
      if (name !== "variables" && name !== "extensions") fields[name] = values[0];
      // Empty, as graphql-sse reads it: none.
      else if (values[0] === "") continue;
      else {
        try {
          fields[name] = JSON.parse(values[0]!);
        } catch {
          return { status: 400, refusal: `\`${name}\` is not JSON.` };
        }
      }
    }
  } else {
    if (!request.headers["content-type"]?.toLowerCase().includes("application/json")) {
      return { status: 415, refusal: "Unsupported Content-Type: send the operation as application/json." };
    }
    if (!isRecord(request.body)) return { status: 400, refusal: "The request body must be a JSON object: the subscription's `query`, with its `variables` if any." };
    fields = request.body;
  }
  const { query, operationName, variables, extensions, documentId } = fields;
  if (query !== undefined && query !== null && typeof query !== "string") return { status: 400, refusal: "`query` must be a string." };
  if (variables !== undefined && variables !== null && !isRecord(variables)) return { status: 400, refusal: "`variables` must be an object." };
  if (extensions !== undefined && extensions !== null && !isRecord(extensions)) return { status: 400, refusal: "`extensions` must be an object." };
  return { query: query ?? "", operationName, variables, extensions, documentId };
}

/**
 * A GET's URL rebuilt, for graphql-sse to read, from the fields `readOperation` checked: `query` (""
 * when none was sent), and `operationName`, `variables` and `extensions` as sent (their text, never
 * serialized again: variables nested too deep for `JSON.stringify` are served, as over POST), each
 * encoded. graphql-sse reads only what lies between the URL's first `?` and a second one, so a value
 * with a literal `?` reached it cut short and it refused, with an uncoded 400 ("Missing query",
 * "Unparsable URL"), a request the gateway had accepted. `documentId`, which it does not read, the
 * handler hands over itself.
 */
function urlOf(url: string, query: string): string {
  const sent = new URLSearchParams(searchOf(url));
  const search = new URLSearchParams({ query });
  for (const name of ["operationName", "variables", "extensions"] as const) {
    const value = sent.get(name);
    if (value) search.set(name, value);
  }
  const start = url.indexOf("?");
  return `${start < 0 ? url : url.slice(0, start)}?${search}`;
}

// Private: what follows the `?` of a request's URL.
function searchOf(url: string): string {
  const start = url.indexOf("?");
  return start < 0 ? "" : url.slice(start + 1);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// Private: a refusal in graphql-sse's response form, GraphQL-shaped.
function errorResponse(status: number, errors: readonly GraphQLError[]) {
  return [
    JSON.stringify({ errors: errors.map((e) => e.toJSON()) }),
    { status, statusText: STATUS_TEXT[status] ?? "Bad Request", headers: { "content-type": "application/json; charset=utf-8" } },
  ] as const;
}

const STATUS_TEXT: Readonly<Record<number, string>> = { 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests" };

const EVENT_STREAM = "text/event-stream";

/**
 * Whether an `Accept` header lists `text/event-stream` by name (parameters allowed; not with `q=0`).
 * `*\/*` and `text/*` do not count: graphql-sse's protocol asks for the stream by name.
 */
export function acceptsEventStream(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(",").some((range) => {
    const [type, ...params] = range.split(";").map((part) => part.trim().toLowerCase());
    if (type !== EVENT_STREAM) return false;
    const q = params.find((param) => /^q\s*=/.test(param));
    return q === undefined || Number(q.slice(q.indexOf("=") + 1)) > 0;
  });
}

/**
 * One stream's pace: its results are pulled one at a time, each once the previous one's write has
 * completed (the socket took it), so a stalled reader's results wait in its bounded subscriber queue
 * rather than in graphql-sse's unbounded one.
 *
 * Waiting for `drain` would not do: graphql-sse writes one event at a time and waits for each write,
 * so a result under the socket's high-water mark (16 KB) never makes the response ask for `drain`.
 */
class StreamFlow {
  /** Results handed to graphql-sse whose event has not been written yet. */
  private unwritten = 0;
  private closed = false;
  private cut = false;
  private wake: (() => void) | undefined;

  constructor(private readonly response: ServerResponse) {}

  /** `results`, each pulled once the events before it were written (or the stream ended). */
  pace(results: AsyncIterableIterator<ExecutionResult>): AsyncIterableIterator<ExecutionResult> {
    this.countWrites();
    this.response.once("close", () => {
      this.closed = true;
      this.release();
    });
    const iterator: AsyncIterableIterator<ExecutionResult> = {
      next: async () => {
        while (this.unwritten > 0 && !this.closed && !this.cut) await new Promise<void>((resolve) => (this.wake = resolve));
        // Gone without being cut off: nothing more to pull (graphql-sse ends the results itself).
        if (this.closed && !this.cut) return { value: undefined, done: true };
        const result = await results.next();
        if (!result.done) this.unwritten++;
        return result;
      },
      return: () => results.return?.() ?? Promise.resolve({ value: undefined, done: true }),
      throw: (error) => results.throw?.(error) ?? Promise.reject(error),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /**
   * The subscriber fell `SUBSCRIPTION_BUFFER_EVENTS` behind: its waiting pull goes on and takes the
   * SUBSCRIBER_TOO_SLOW result (its last: the subscription's log line says so), which graphql-sse
   * writes after the ones before it, then ends the stream. A reader that reads again within
   * `CUT_OFF_GRACE_MS` gets it; the connection of one that does not is closed then.
   */
  cutOff(): void {
    this.cut = true;
    this.release();
    const timer = setTimeout(() => this.response.destroy(), CUT_OFF_GRACE_MS).unref();
    this.response.once("close", () => clearTimeout(timer));
  }

  // Private: counts each event written (its write's callback), keep-alive comments aside.
  private countWrites(): void {
    const response = this.response;
    const write = response.write;
    const written = () => {
      this.unwritten = Math.max(0, this.unwritten - 1);
      this.release();
    };
    response.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
      // graphql-sse writes each message as a string; an SSE line starting with ":" is a comment (its keep-alive).
      if (typeof chunk !== "string" || chunk.startsWith(":")) return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
      const callback = typeof rest.at(-1) === "function" ? (rest.pop() as (error?: Error | null) => void) : undefined;
      return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest, (error?: Error | null) => {
        written();
        callback?.(error);
      });
    } as ServerResponse["write"];
  }

  // Private: lets a waiting pull look again.
  private release(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
