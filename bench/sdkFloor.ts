/**
 * The floor of figure 4: what one DescribeContact through the real SDK costs behind an HTTP server,
 * with nothing of GraphQL. A bare `node:http` server that reads each `POST /graphql` body
 * (`{ "variables": { "instanceId", "contactId" } }`), makes one DescribeContact of that contact with
 * the gateway's own `ConnectUpstream` (the real SDK client as the gateway configures it: SigV4,
 * retries, timeouts, keep-alive, the answer's JSON parsed once) against the emulator
 * (`EMULATOR_URL`), and answers with the contact's id. No Fastify, Apollo, model, cache, quota
 * limiter, log line or metrics: an extra HTTP hop and the SDK, which the gateway cannot do without.
 * Prints one JSON line `{ "url": ... }` once it listens; stops on SIGTERM.
 */
import { createServer } from "node:http";
import { EMULATOR_CREDENTIALS } from "../src/emulator/authorization.js";
import { ConnectUpstream } from "../src/upstream/connectUpstream.js";

const region = process.env.FLOOR_REGION ?? "us-east-1";
const upstream = new ConnectUpstream({ endpoint: process.env.EMULATOR_URL, credentials: EMULATOR_CREDENTIALS });

const server = createServer((req, res) => {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (chunk: string) => (body += chunk));
  req.on("end", () => {
    const answer = (status: number, value: unknown) => {
      const bytes = JSON.stringify(value);
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(bytes) });
      res.end(bytes);
    };
    let variables: { instanceId?: string; contactId?: string } = {};
    try {
      variables = (JSON.parse(body) as { variables?: typeof variables }).variables ?? {};
    } catch {
      return answer(400, { errors: [{ message: "body is not JSON" }] });
    }
    if (!variables.instanceId || !variables.contactId) return answer(400, { errors: [{ message: "instanceId and contactId are required" }] });
    upstream.describeContact({ region, instanceId: variables.instanceId, contactId: variables.contactId }).then(
      (contact) => answer(200, { data: { contact: { id: (contact as { Id?: string }).Id } } }),
      (error: unknown) => answer(502, { errors: [{ message: String(error) }] }),
    );
  });
});
// Node's default keep-alive timeout (5 s) would close the benchmark's connection between blocks; Fastify's is 72 s.
server.keepAliveTimeout = 72_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  console.log(JSON.stringify({ url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}` }));
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
