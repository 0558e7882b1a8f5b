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
export function closeConnectionsAfterLastResponse(app: FastifyInstance): ClosingConnections {
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
  return {
    cutWithoutResponse() {
      let cut = 0;
      for (const socket of connections) {
        if (respondingOn(socket)) continue;
        socket.destroy();
        cut++;
      }
      return cut;
    },
  };
}

/** The open connections, for the last step of closing (`closeConnectionsAfterLastResponse`). */
export interface ClosingConnections {
  /**
   * Destroys every open connection on which no response is under way, and returns how many: one
   * that went idle after the server stopped listening (Node closes idle connections once, when
   * closing starts, and a kept-alive one that goes idle later stays open until its client lets it
   * go), and one whose request never finished arriving (Node stops timing out incomplete requests
   * when the server closes, so a client that sent half a request line held shutdown for good).
   * Operations in flight keep their connections: they have until `SHUTDOWN_GRACE_MS` (main.ts).
   */
  cutWithoutResponse(): number;
}

// Private: whether a response is under way on `socket`. Node's HTTP server attaches each response
// to its socket as `_httpMessage` from the request's arrival until the response has finished, then
// detaches it (the same property http-terminator and Node's own `server.close` logic rely on).
function respondingOn(socket: Socket): boolean {
  const response = (socket as Socket & { _httpMessage?: { writableFinished?: boolean } | null })._httpMessage;
  return response != null && response.writableFinished !== true;
}
