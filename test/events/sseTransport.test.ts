import net from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../../src/emulator/dataset.js";
import { rawRequest } from "../support/http.js";
import type { LogLine } from "../support/loggedGateway.js";
import { startLiveStack, waitUntil, type LiveStack } from "../support/liveStack.js";

/** `SUBSCRIPTION_BUFFER_EVENTS`: small, so a stalled reader is cut off after few events. */
const BUFFER = 10;

const WATCH = `subscription Watch($instanceId: ID!, $contactIds: [ID!]) {
  contactEvents(instanceId: $instanceId, filter: { contactIds: $contactIds }) { eventId contact { name } }
}`;

const lines: LogLine[] = [];
let stack: LiveStack;

beforeAll(async () => {
  // Connect's quota off (the emulator has none here): hundreds of events, one DescribeContact each, in a second.
  stack = await startLiveStack({ env: { SUBSCRIPTION_BUFFER_EVENTS: String(BUFFER), CONNECT_MAX_RPS: "100000", CONNECT_BURST: "100000" }, logLines: lines });
});
afterAll(async () => {
  await stack?.close();
});
afterEach(async () => {
  await waitUntil(() => hub().size === 0, "no subscription left");
});

const hub = () => stack.gateway.events!.hub;
const subscriptionLines = () => lines.filter((line) => line.msg === "subscription" && line.transport === "sse");
/** The SSE subscription lines written so far with `code` among their codes. */
const linesWithCode = (code: string) => subscriptionLines().filter((line) => (line.errorCodes as string[] | undefined)?.includes(code)).length;

/** One sample's value in the gateway's `GET /metrics` (0 when the series does not exist). */
async function sample(name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(stack.url.replace(/\/graphql$/, "/metrics"))).text();
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(",");
  const line = text.split("\n").find((l) => l.startsWith(`${name}{${wanted}} `));
  return line ? Number(line.split(" ")[1]) : 0;
}

/** A new contact of the emulator named `name`, its events applied before anyone subscribes. */
async function newContact(name: string): Promise<string> {
  const contactId = stack.emulator.events.emit({ eventType: "INITIATED", channel: "VOICE" }).detail.contactId;
  stack.emulator.events.emit({ eventType: "CONTACT_DATA_UPDATED", contactId, name });
  await stack.queueDrained("the contact's events applied");
  return contactId;
}

/**
 * A raw HTTP/1.1 client of `/graphql/stream` subscribed to `contactId`'s events: what it reads lands
 * in `received`; `onData` sees each chunk (a client pauses its socket there to stop reading).
 */
function rawSubscriber(contactId: string, onData: (socket: net.Socket) => void): { socket: net.Socket; received: Buffer[]; text(): string } {
  const body = JSON.stringify({ query: WATCH, variables: { instanceId: DEMO.instanceId, contactIds: [contactId] } });
  const received: Buffer[] = [];
  const socket = net.connect({ port: Number(new URL(stack.url).port), host: "127.0.0.1" }, () => {
    socket.write(
      `POST /graphql/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
  socket.on("data", (chunk) => {
    received.push(chunk);
    onData(socket);
  });
  socket.on("error", () => {});
  return { socket, received, text: () => Buffer.concat(received).toString("latin1") };
}

/** The `event: next` messages in an SSE response's text. */
const nextEvents = (text: string) => text.split("event: next\n").length - 1;

/**
 * A raw subscriber to `contactId` that reads the response's head (and graphql-sse's first comment),
 * then stops reading; then events of the contact until the gateway cuts it off: what loopback's
 * socket buffers take (a few MB), then the buffer. Unbounded, all 2,500 (30 MB) would be pulled and
 * held, and the subscription would stay.
 */
async function stalledUntilCutOff(contactId: string): Promise<ReturnType<typeof rawSubscriber>> {
  let stalled = false;
  const reader = rawSubscriber(contactId, (socket) => {
    if (!stalled) socket.pause();
    stalled = true;
  });
  await waitUntil(() => hub().size === 1 && reader.received.length > 0, "the stream to open");
  expect(reader.text()).toMatch(/^HTTP\/1\.1 200 /);
  expect(await sample("graphql_subscriptions", { transport: "sse" })).toBe(1);
  let emitted = 0;
  while (hub().size === 1 && emitted < 2500) {
    if (stack.emulator.events.depth().visible < 20) {
      stack.emulator.events.emit({ eventType: "CONTACT_DATA_UPDATED", contactId, updatedProperties: ["Attributes"] });
      emitted++;
    } else await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await waitUntil(() => hub().size === 0, `the stalled subscription to be cut off (${emitted} events emitted)`, 5000);
  return reader;
}

/** Resolves once `graphql_subscriptions{transport="sse"}` is `value`. */
async function openStreams(value: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while ((await sample("graphql_subscriptions", { transport: "sse" })) !== value) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${value} open SSE subscriptions`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("GraphQL over SSE (/graphql/stream): back-pressure", () => {
  // Each result carries the contact's name: 12 KB, under the socket's 16 KB high-water mark, so
  // that the one event graphql-sse writes at a time never makes the response ask for `drain`.
  const NAME = "n".repeat(12 * 1024);

  it("cuts off a stalled SSE reader once it falls SUBSCRIPTION_BUFFER_EVENTS behind, and the gateway's memory stays bounded", async () => {
    const contactId = await newContact(NAME);
    const before = subscriptionLines().length;
    const reader = await stalledUntilCutOff(contactId);
    try {
      await waitUntil(() => subscriptionLines().length === before + 1, "its log line");
      const line = subscriptionLines().at(-1)!;
      expect(line).toMatchObject({ operationName: "Watch", outcome: "error", errorCodes: ["SUBSCRIBER_TOO_SLOW"] });
      // Still not reading a second later: its connection is closed.
      await openStreams(0);

      // What reached the client's side of the connection: the results its socket's buffers took.
      reader.socket.resume();
      await new Promise((resolve) => reader.socket.once("close", resolve));
      const delivered = nextEvents(reader.text());
      expect(delivered).toBeGreaterThan(0);
      // The results the gateway executed for it beyond those: within the buffer (here one, and the
      // SUBSCRIBER_TOO_SLOW result it ended with), however many events came.
      expect(line.results as number).toBeLessThanOrEqual(delivered + BUFFER);
    } finally {
      reader.socket.destroy();
    }
  });

  it("ends the stream of a reader that fell behind and reads again with SUBSCRIBER_TOO_SLOW as its last result", async () => {
    const contactId = await newContact(NAME);
    const reader = await stalledUntilCutOff(contactId);
    try {
      reader.socket.resume();
      await openStreams(0);
      const text = reader.text();
      const last = text.slice(text.lastIndexOf("event: next\n"));
      expect(last).toMatch(/^event: next\ndata: \{"errors":\[\{"message":"This subscription fell more than 10 events behind[^\n]*"code":"SUBSCRIBER_TOO_SLOW"/);
      // Then graphql-sse's `complete`, and the chunked response's end.
      expect(last).toMatch(/\r\nevent: complete\ndata: ?\n\n\r\n0\r\n\r\n$/);
    } finally {
      reader.socket.destroy();
    }
  });

  it("keeps a reader that reads as fast as events come, or in pauses but keeps up: every event delivered, in order, none cut off", async () => {
    const contactId = await newContact("Ada");
    const client = stack.sse();
    const fast = stack.subscribe(client, WATCH, { instanceId: DEMO.instanceId, contactIds: [contactId] });
    // Takes a pause of 5 ms after each chunk it reads.
    const slow = rawSubscriber(contactId, (socket) => {
      socket.pause();
      setTimeout(() => socket.resume(), 5);
    });
    try {
      await stack.subscribers(2);
      const COUNT = 30 * BUFFER;
      const sent: string[] = [];
      for (let i = 0; i < COUNT; i++) sent.push(stack.emulator.events.emit({ eventType: "CONTACT_DATA_UPDATED", contactId, updatedProperties: ["Attributes"] }).id);
      await waitUntil(() => fast.results.length === COUNT && nextEvents(slow.text()) === COUNT, "every event at both readers", 20_000);
      expect(fast.results.map((result) => result.data.contactEvents.eventId)).toEqual(sent);
      expect(fast.ended).toBeUndefined();
      expect(slow.text()).not.toContain("SUBSCRIBER_TOO_SLOW");
      expect(hub().size).toBe(2);
    } finally {
      fast.unsubscribe();
      slow.socket.destroy();
    }
  });
});

describe("GraphQL over SSE (/graphql/stream): requests", () => {
  const body = () => JSON.stringify({ query: WATCH, variables: { instanceId: DEMO.instanceId, contactIds: ["none"] } });

  it("serves a stream for any Accept that includes text/event-stream, and refuses others with a code", async () => {
    for (const accept of ["text/event-stream", "text/event-stream, */*", "text/event-stream;charset=utf-8", "application/json, text/event-stream; q=0.5", "Text/Event-Stream"]) {
      const aborted = new AbortController();
      const response = await fetch(`${stack.url}/stream`, { method: "POST", headers: { "content-type": "application/json", accept }, body: body(), signal: aborted.signal });
      expect({ accept, status: response.status, type: response.headers.get("content-type") }).toEqual({ accept, status: 200, type: "text/event-stream; charset=utf-8" });
      await stack.subscribers(1);
      aborted.abort();
      await stack.subscribers(0);
    }
    // GET too, and a graphql-sse stream token (single-connection mode) changes nothing: no stream is ever reserved.
    const aborted = new AbortController();
    const query = new URLSearchParams({ query: WATCH, variables: JSON.stringify({ instanceId: DEMO.instanceId }) });
    const get = await fetch(`${stack.url}/stream?${query}`, { headers: { accept: "text/event-stream, */*", "x-graphql-event-stream-token": "reserved" }, signal: aborted.signal });
    expect(get.status).toBe(200);
    await stack.subscribers(1);
    aborted.abort();
    await stack.subscribers(0);

    const refusals: Array<{ method: string; accept?: string; status: number }> = [
      { method: "POST", accept: "application/json", status: 406 },
      { method: "POST", accept: "*/*", status: 406 },
      { method: "POST", accept: "text/*", status: 406 },
      { method: "POST", accept: "text/event-stream;q=0, application/json", status: 406 },
      { method: "GET", status: 406 }, // no Accept at all
      { method: "PUT", accept: "*/*", status: 405 }, // graphql-sse's stream reservation
      { method: "DELETE", accept: "*/*", status: 405 }, // and its cancellation
      { method: "PATCH", accept: "*/*", status: 405 },
    ];
    for (const { method, accept, status } of refusals) {
      const headers: Record<string, string> = { "content-type": "application/json", "x-graphql-event-stream-token": "reserved" };
      if (accept) headers.accept = accept;
      const response = await rawRequest(stack.url, method, "/graphql/stream", headers, method === "GET" ? "" : body());
      expect({ method, accept, status: response.status }).toEqual({ method, accept, status });
      expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(response.body.errors).toEqual([{ message: expect.stringContaining("Accept: text/event-stream"), extensions: { code: "BAD_REQUEST" } }]);
      if (status === 405) expect(response.headers.get("allow")).toBe("GET, POST");
    }
    expect(hub().size).toBe(0);
  });
});

describe("GraphQL over SSE (/graphql/stream): GET requests", () => {
  /** Opens a GET stream at `search` (written as given: a `?` in a value stays literal), then closes it: its status and type. */
  async function served(search: string): Promise<{ search: string; status: number; type: string | null }> {
    const aborted = new AbortController();
    const response = await fetch(`${stack.url}/stream?${search}`, { headers: { accept: "text/event-stream" }, signal: aborted.signal });
    const answer = { search, status: response.status, type: response.headers.get("content-type") };
    if (response.status === 200) await stack.subscribers(1);
    aborted.abort();
    await stack.subscribers(0);
    return answer;
  }
  const STREAM = "text/event-stream; charset=utf-8";

  it("serves a GET whose values hold a literal ?, read as the gateway checked them", async () => {
    const before = linesWithCode("BAD_REQUEST");
    const query = encodeURIComponent(WATCH);
    for (const search of [
      // A variable the operation does not declare is ignored, as on POST /graphql.
      `query=${query}&variables={"instanceId":"${DEMO.instanceId}","note":"who?"}`,
      `operationName=Watch&variables={"instanceId":"${DEMO.instanceId}","note":"a?b"}&query=${query}`,
      `query=${query}&variables=${encodeURIComponent(JSON.stringify({ instanceId: DEMO.instanceId }))}&extensions={"note":"why?"}`,
      // Nested too deep for JSON.stringify (12 KB of brackets): handed on as sent, never re-serialized.
      `query=${query}&variables={"instanceId":"${DEMO.instanceId}","note":"?","deep":${"[".repeat(6000)}${"]".repeat(6000)}}`,
    ]) {
      expect(await served(search)).toEqual({ search, status: 200, type: STREAM });
    }
    expect(linesWithCode("BAD_REQUEST")).toBe(before);
  });

  it("serves a GET with an empty variables= or extensions= as one without them", async () => {
    const query = encodeURIComponent(`subscription { contactEvents(instanceId: "${DEMO.instanceId}") { eventId } }`);
    for (const search of [`query=${query}&variables=`, `query=${query}&extensions=`, `variables=&extensions=&query=${query}`]) {
      expect(await served(search)).toEqual({ search, status: 200, type: STREAM });
    }
  });

  it("refuses a GET with no query whose values hold a literal ? with 400 BAD_REQUEST, as a subscription refused before it opens (logged and counted)", async () => {
    const before = await sample("graphql_errors_total", { code: "BAD_REQUEST" });
    const searches = [`documentId=sha256:abc?def`, `documentId=x&variables={"instanceId":"${DEMO.instanceId}","contactIds":["who?"]}`, `operationName=Watch&extensions={"a":"?"}`];
    for (const search of searches) {
      const answer = await rawRequest(stack.url, "GET", `/graphql/stream?${search}`, { accept: "text/event-stream" });
      expect({ search, status: answer.status, body: answer.body }).toEqual({ search, status: 400, body: { errors: [{ message: "Send the subscription as `query`.", extensions: { code: "BAD_REQUEST" } }] } });
    }
    expect(await sample("graphql_errors_total", { code: "BAD_REQUEST" })).toBe(before + searches.length);
    expect(hub().size).toBe(0);
  });
});

describe("GraphQL over SSE (/graphql/stream): requests it cannot read", () => {
  const stream = "/graphql/stream";
  const json = { "content-type": "application/json", accept: "text/event-stream" };
  const variables = JSON.stringify({ instanceId: DEMO.instanceId });
  const get = (search: string) => `${stream}?${search}`;

  it("refuses a body that is not an operation with 400 BAD_REQUEST, and a POST that is not JSON with 415, as POST /graphql codes them, and opens nothing", async () => {
    const before = await sample("graphql_operations_total", { operation: "anonymous", outcome: "error" });
    const posts: Array<{ body: string; headers?: Record<string, string>; status: number; message: RegExp }> = [
      { body: "[]", status: 400, message: /must be a JSON object/ },
      { body: JSON.stringify([{ query: WATCH }]), status: 400, message: /must be a JSON object/ },
      { body: '"subscription { x }"', status: 400, message: /must be a JSON object/ },
      { body: JSON.stringify({ query: 7 }), status: 400, message: /^`query` must be a string\.$/ },
      { body: JSON.stringify({ query: WATCH, variables: [] }), status: 400, message: /^`variables` must be an object\.$/ },
      { body: JSON.stringify({ query: WATCH, variables: "{}" }), status: 400, message: /^`variables` must be an object\.$/ },
      { body: JSON.stringify({ query: WATCH, extensions: [1] }), status: 400, message: /^`extensions` must be an object\.$/ },
      { body: "", headers: { accept: "text/event-stream" }, status: 415, message: /application\/json/ }, // no Content-Type
      { body: JSON.stringify({ query: WATCH }), headers: { accept: "text/event-stream", "content-type": "text/plain" }, status: 415, message: /application\/json/ },
    ];
    for (const { body, headers = json, status, message } of posts) {
      const answer = await rawRequest(stack.url, "POST", stream, headers, body);
      expect({ body, status: answer.status, type: answer.headers.get("content-type") }).toEqual({ body, status, type: "application/json; charset=utf-8" });
      expect(answer.body).toEqual({ errors: [{ message: expect.stringMatching(message), extensions: { code: "BAD_REQUEST" } }] });
      // The same body on POST /graphql: refused with the same code.
      const query = await rawRequest(stack.url, "POST", "/graphql", { ...headers, accept: "application/json" }, body);
      expect({ body, refused: query.status >= 400, codes: query.body.errors.map((e: { extensions: { code: string } }) => e.extensions.code) }).toEqual({ body, refused: true, codes: ["BAD_REQUEST"] });
    }
    const gets: Array<{ search: string; message: RegExp }> = [
      { search: `query=${encodeURIComponent(WATCH)}&variables=${encodeURIComponent("{not json")}`, message: /^`variables` is not JSON\.$/ },
      { search: `query=${encodeURIComponent(WATCH)}&variables=${encodeURIComponent("[]")}`, message: /^`variables` must be an object\.$/ },
      { search: `query=${encodeURIComponent(WATCH)}&extensions=${encodeURIComponent("{")}`, message: /^`extensions` is not JSON\.$/ },
      { search: `query=${encodeURIComponent(WATCH)}&query=${encodeURIComponent(WATCH)}&variables=${encodeURIComponent(variables)}`, message: /^`query` is given more than once\.$/ },
    ];
    for (const { search, message } of gets) {
      const answer = await rawRequest(stack.url, "GET", get(search), { accept: "text/event-stream" });
      expect({ search, status: answer.status }).toEqual({ search, status: 400 });
      expect(answer.body).toEqual({ errors: [{ message: expect.stringMatching(message), extensions: { code: "BAD_REQUEST" } }] });
    }
    // Refused before any operation was read: not counted as one.
    expect(await sample("graphql_operations_total", { operation: "anonymous", outcome: "error" })).toBe(before);
    expect(hub().size).toBe(0);
  });

  it("refuses a request with no query with 400 BAD_REQUEST, as a subscription refused before it opens (logged and counted)", async () => {
    const before = await sample("graphql_errors_total", { code: "BAD_REQUEST" });
    for (const [method, path, body] of [
      ["POST", stream, JSON.stringify({ variables: { instanceId: DEMO.instanceId } })],
      ["POST", stream, JSON.stringify({ query: null, variables: { instanceId: DEMO.instanceId } })],
      ["GET", get(`variables=${encodeURIComponent(variables)}`), ""],
      ["GET", stream, ""],
    ] as const) {
      const answer = await rawRequest(stack.url, method, path, method === "GET" ? { accept: "text/event-stream" } : json, body);
      expect({ method, path, body, status: answer.status }).toEqual({ method, path, body, status: 400 });
      expect(answer.body).toEqual({ errors: [{ message: "Send the subscription as `query`.", extensions: { code: "BAD_REQUEST" } }] });
    }
    expect(await sample("graphql_errors_total", { code: "BAD_REQUEST" })).toBe(before + 4);
    expect(hub().size).toBe(0);
  });
});

describe("GraphQL over SSE (/graphql/stream): shutdown", () => {
  /** Runs `before` on a stack of its own, then closes it: how long the close took, ms. */
  async function closingTime(before: (own: LiveStack) => Promise<void>): Promise<number> {
    const own = await startLiveStack();
    let closed = false;
    try {
      await before(own);
      const started = Date.now();
      await own.close();
      closed = true;
      return Date.now() - started;
    } finally {
      if (!closed) await own.close();
    }
  }

  it("closes at once after graphql-sse's own client ends its stream, though that client keeps a connection it never used", async () => {
    expect(
      await closingTime(async (own) => {
        const client = own.sse();
        const iterator = client.iterate({ query: WATCH, variables: { instanceId: DEMO.instanceId } });
        const first = iterator.next();
        await own.subscribers(1);
        await iterator.return?.();
        await first;
        await own.subscribers(0);
        // undici (under fetch) opens a connection when a request is aborted and keeps it 4 s unused:
        // Node counts it as busy, so it held shutdown until the client let it go.
      }),
    ).toBeLessThan(900);
  });

  it("no longer counts a stream once its client has gone, so shutdown does not wait for it", async () => {
    expect(
      await closingTime(async (own) => {
        const { port } = new URL(own.url);
        const body = JSON.stringify({ query: WATCH, variables: { instanceId: DEMO.instanceId } });
        const socket = net.connect({ port: Number(port), host: "127.0.0.1" }, () => {
          socket.write(`POST /graphql/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        });
        socket.on("error", () => {});
        await own.subscribers(1);
        socket.destroy();
        await own.subscribers(0);
        // Shutdown waits up to a second for the streams still open to finish writing: here none is.
      }),
    ).toBeLessThan(900);
  });
});
