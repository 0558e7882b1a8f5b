import { once } from "node:events";
import net from "node:net";
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { DEMO } from "../../src/emulator/dataset.js";
import { SILENT_GRACE_MS, closeConnectionsAfterLastResponse } from "../../src/http/shutdown.js";
import { startStack } from "../support/stack.js";

const CONTACT = `query C($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id } }`;

/** Opens a connection to the gateway and resolves once it is open, with a promise of its closing. */
async function connect(url: string): Promise<{ socket: net.Socket; ended: Promise<number> }> {
  const { port } = new URL(url);
  const socket = net.connect({ port: Number(port), host: "127.0.0.1" });
  socket.on("error", () => {});
  const ended = new Promise<number>((resolve) => socket.on("close", () => resolve(Date.now())));
  await new Promise((resolve) => socket.once("connect", resolve));
  return { socket, ended };
}

describe("shutdown of the HTTP server", () => {
  it("closes a connection that has sent nothing at once, so it cannot hold shutdown, and still answers a request in flight", async () => {
    const stack = await startStack({ emulator: { latencyMs: 300 } });
    let closed = false;
    try {
      const unused = await connect(stack.url);
      const inFlight = stack.query(CONTACT, { i: DEMO.instanceId, c: DEMO.fullContactId });
      await expect.poll(() => stack.describeContactCalls(), { timeout: 5_000, interval: 10 }).toBe(1);
      const started = Date.now();
      await stack.close();
      closed = true;
      // Without this the server waits for the silent connection: Node's headersTimeout (60 s), or
      // the gateway's cut, 5 s after closing began, of every connection without a response under way.
      expect(Date.now() - started).toBeLessThan(2_000);
      expect((await unused.ended) - started).toBeLessThan(2_000);
      const { body } = await inFlight;
      expect(body.errors).toBeUndefined();
      expect(body.data.contact.id).toBe(DEMO.fullContactId);
    } finally {
      if (!closed) await stack.close();
    }
  });

  it("cuts a connection whose request never finished arriving after the streams' 5 s drain, while an operation in flight past it still gets its answer", async () => {
    const stack = await startStack({ emulator: { latencyMs: 6_000 }, env: { CONNECT_REQUEST_TIMEOUT_MS: "30000", CONNECT_MAX_ATTEMPTS: "1" } });
    let closed = false;
    try {
      const halfSent = await connect(stack.url);
      // Headers never finished: Node stops timing such a request out once the server closes.
      halfSent.socket.write("POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      const inFlight = stack.query(CONTACT, { i: DEMO.instanceId, c: DEMO.fullContactId });
      await expect.poll(() => stack.describeContactCalls(), { timeout: 5_000, interval: 10 }).toBe(1);
      const started = Date.now();
      await stack.close();
      closed = true;
      const cutAfter = (await halfSent.ended) - started;
      expect(cutAfter).toBeGreaterThanOrEqual(4_500);
      expect(cutAfter).toBeLessThan(5_800);
      const { status, body } = await inFlight;
      expect(status).toBe(200);
      expect(body.data.contact.id).toBe(DEMO.fullContactId);
      expect(stack.describeContactCalls()).toBe(1);
    } finally {
      if (!closed) await stack.close();
    }
  }, 20_000);

  it("answers a request sent on a pre-opened connection as closing begins with 503, not a reset", async () => {
    const stack = await startStack();
    const preopened = await connect(stack.url);
    let answer = "";
    preopened.socket.setEncoding("utf8");
    preopened.socket.on("data", (chunk: string) => (answer += chunk));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const body = JSON.stringify({ query: "{ __typename }" });
    preopened.socket.write(`POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    await stack.close();
    await preopened.ended;
    expect(answer).toMatch(/^HTTP\/1\.1 503 /);
    expect(stack.emulator.calls.total).toBe(0);
  });

  it("also closes a silent connection accepted after closing began, before the listener stopped", async () => {
    // A real server-side socket from a side listener, handed to the HTTP server as it would hand
    // one it accepted once closing began: the real window, before the listener stops, is too short to hit.
    const side = net.createServer();
    side.listen(0, "127.0.0.1");
    await once(side, "listening");
    const client = net.connect({ port: (side.address() as net.AddressInfo).port, host: "127.0.0.1" });
    client.on("error", () => {});
    const [accepted] = (await once(side, "connection")) as [net.Socket];
    const clientClosed = once(client, "close");
    const app = Fastify();
    closeConnectionsAfterLastResponse(app);
    app.addHook("preClose", (done) => {
      app.server.emit("connection", accepted);
      done();
    });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const started = Date.now();
    const closing = app.close();
    await clientClosed;
    expect(Date.now() - started).toBeLessThan(SILENT_GRACE_MS + 1_000);
    await closing;
    side.close();
  });
});
