/**
 * Child process of test/http/requestGarbage.test.ts, run under `node --trace-gc-nvp`: a whole stack
 * (emulator, real SDK, gateway with GRAPHQL_JIT on and the response cache off, so every request
 * executes) serving one kind of request over keep-alive `node:http` (not `fetch`, whose own
 * allocations in this process would count too). After a warm-up it prints `MEASURE`,
 * sends `count` requests one after another, and prints `DONE`; V8 prints a line per collection
 * (`gc=s` for a young-generation one, with `allocated=` and `promoted=` bytes) on the same stdout.
 *
 * `node --trace-gc-nvp --import tsx test/support/garbageProbe.ts cached|uncached [count]`
 */
import { Agent, request } from "node:http";
import { DEMO } from "../../src/emulator/dataset.js";
import { startStack } from "./stack.js";

const mode = process.argv[2] === "uncached" ? "uncached" : "cached";
const count = Number(process.argv[3] ?? 1500);
const stack = await startStack({ env: { GRAPHQL_JIT: "true", RESPONSE_CACHE: "false", CONNECT_MAX_RPS: "1000000", CONNECT_BURST: "1000000" } });
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const url = new URL(stack.url);
const body = JSON.stringify({
  query:
    mode === "cached"
      ? "query($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id channel initiationTimestamp queueInfo { id enqueueTimestamp } agentInfo { id } tags { key value } previousContact { id channel } initialContact { id channel } } }"
      : "query($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id channel initiationTimestamp queueInfo { id enqueueTimestamp } agentInfo { id } tags { key value } } }",
  variables: { i: DEMO.instanceId, c: mode === "cached" ? DEMO.longChainTailId : DEMO.fullContactId },
});
const headers = { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...(mode === "uncached" && { "cache-control": "no-cache" }) };

const send = () =>
  new Promise<void>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: "POST", agent, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => (res.statusCode === 200 && !text.includes('"errors"') ? resolve() : reject(new Error(`${res.statusCode}: ${text.slice(0, 300)}`))));
    });
    req.on("error", reject);
    req.end(body);
  });

for (let i = 0; i < 300; i++) await send();
console.log("MEASURE");
for (let i = 0; i < count; i++) await send();
console.log("DONE");
agent.destroy();
await stack.close();
process.exit(0);
