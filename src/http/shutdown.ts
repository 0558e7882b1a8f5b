import type { Socket } from "node:net";
import type { FastifyInstance } from "fastify";

/** How long a connection that has sent nothing may still send a request once closing began. */
export const SILENT_GRACE_MS = 200;

/**
 * Lets `app.close()` finish once in-flight requests are answered. Node's `server.close()` waits for
 * every open connection, and clients keep connections alive for as long as the server's keep-alive
 * hint (72 s with Fastify), so an answered request would hold shutdown until that expires. Fastify
 * closes the connections that are idle when closing starts (`forceCloseConnections: "idle"`); from
 * then on every response also carries `Connection: close`, so each connection still busy closes
 * right after its last answer, and nothing in flight is cut off.
 *
 * Node does not count a connection that has sent nothing yet as idle (its wait for a first request
 * runs under `headersTimeout`, 60 s), and clients open such connections ahead of need (undici, and
 * so `fetch` and graphql-sse's client, opens one when a request is aborted and keeps it 4 s), so
 * closing also destroys every connection that has still sent nothing `SILENT_GRACE_MS` after
 * closing began (or after it was accepted, for one accepted while closing, before the listener
 * stopped): it no longer holds shutdown for the client's idle timeout. The grace is for a request
 * already on its way on such a connection (a load balancer's pre-opened one): it still gets its
 * answer, a 503 while closing, which a client may retry, rather than a reset, which it may not.
 */
export function closeConnectionsAfterLastResponse(app: FastifyInstance): void {
  let closing = false;
  /** Every open connection, to find those that have sent nothing when closing starts. */
  const connections = new Set<Socket>();
  const destroyIfSilent = (socket: Socket) => {
    if (socket.bytesRead > 0) return;
    setTimeout(() => {
      if (socket.bytesRead === 0) socket.destroy();
    }, SILENT_GRACE_MS).unref();
  };
  app.server.on("connection", (socket: Socket) => {
    connections.add(socket);
    socket.once("close", () => connections.delete(socket));
    if (closing) destroyIfSilent(socket);
  });
  app.addHook("preClose", (done) => {
    closing = true;
    for (const socket of connections) destroyIfSilent(socket);
    done();
  });
  app.addHook("onSend", (_request, reply, _payload, done) => {
    if (closing) reply.header("connection", "close");
    done();
  });
}
