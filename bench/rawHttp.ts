/**
 * The physical limit of answering the realistic operation from memory: a bare `node:http` server
 * that reads each `POST /graphql` body and answers it with fixed bytes and headers, the ones the
 * gateway's response cache sends for that operation (captured from the gateway by bench/run.ts and
 * passed in `RAW_BODY_BASE64` and `RAW_HEADERS_JSON`). No routing, parsing, hashing or lookup.
 * Prints one JSON line `{ "url": ... }` once it listens; stops on SIGTERM.
 */
import { createServer } from "node:http";

const body = Buffer.from(process.env.RAW_BODY_BASE64 ?? "", "base64");
const headers = { ...(JSON.parse(process.env.RAW_HEADERS_JSON ?? "{}") as Record<string, string>), "content-length": String(body.length) };

const server = createServer((req, res) => {
  // Read the request to its end, as the gateway must before it can look it up.
  req.on("data", () => {});
  req.on("end", () => {
    if (req.method === "POST" && req.url === "/graphql") {
      res.writeHead(200, headers);
      res.end(body);
    } else {
      res.writeHead(404, { "content-length": "0" });
      res.end();
    }
  });
});
// Node's default keep-alive timeout (5 s) would close connections between autocannon's rounds; Fastify's is 72 s.
server.keepAliveTimeout = 72_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  console.log(JSON.stringify({ url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}` }));
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
