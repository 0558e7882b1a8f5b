import type { FastifyInstance } from "fastify";

/**
 * Lets `app.close()` finish once in-flight requests are answered. Node's `server.close()` waits for
 * every open connection, and clients keep connections alive for as long as the server's keep-alive
 * hint (72 s with Fastify), so an answered request would hold shutdown until that expires. Fastify
 * closes the connections that are idle when closing starts (`forceCloseConnections: "idle"`); from
 * then on every response also carries `Connection: close`, so each connection still busy closes
 * right after its last answer, and nothing in flight is cut off.
 */
export function closeConnectionsAfterLastResponse(app: FastifyInstance): void {
  let closing = false;
  app.addHook("preClose", (done) => {
    closing = true;
    done();
  });
  app.addHook("onSend", (_request, reply, _payload, done) => {
    if (closing) reply.header("connection", "close");
    done();
  });
}
