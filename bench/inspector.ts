/**
 * Live memory of a server process started with `--inspect=127.0.0.1:0`: through its inspector
 * (the Chrome DevTools protocol over the WebSocket it announces on stderr), two full garbage
 * collections, then `process.memoryUsage()`. After them, V8's heap holds only live objects and
 * `external` only the buffers still referenced: what a cache keeps, without the garbage a load
 * leaves until V8 gets round to it (which dominates RSS over a short fill).
 */
import WebSocket from "ws";
import type { ServerProcess } from "./processes.js";

/** Node's argument for a process `liveMemory` can read. */
export const INSPECT = "--inspect=127.0.0.1:0";

export interface LiveMemory {
  /** MB, after the collections. */
  rssMb: number;
  heapUsedMb: number;
  /** Memory of C++ objects bound to JavaScript ones, ArrayBuffers included. */
  externalMb: number;
  /** heapUsed + external. */
  liveMb: number;
}

export async function liveMemory(server: ServerProcess): Promise<LiveMemory> {
  const url = /ws:\/\/127\.0\.0\.1:\d+\/[\w-]+/.exec(server.output())?.[0];
  if (!url) throw new Error(`${server.name} announced no inspector (start it with ${INSPECT})`);
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  let id = 0;
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<any>((resolve, reject) => {
      const mine = ++id;
      const onMessage = (data: WebSocket.RawData) => {
        const message = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
        if (message.id !== mine) return;
        ws.off("message", onMessage);
        if (message.error) reject(new Error(`${method}: ${message.error.message}`));
        else resolve(message.result);
      };
      ws.on("message", onMessage);
      ws.send(JSON.stringify({ id: mine, method, params }));
    });
  try {
    await call("HeapProfiler.collectGarbage");
    await call("HeapProfiler.collectGarbage");
    const result = await call("Runtime.evaluate", { expression: "JSON.stringify(process.memoryUsage())", returnByValue: true });
    const usage = JSON.parse(result.result.value as string) as NodeJS.MemoryUsage;
    const mb = (bytes: number) => Math.round((10 * bytes) / 2 ** 20) / 10;
    return { rssMb: mb(usage.rss), heapUsedMb: mb(usage.heapUsed), externalMb: mb(usage.external), liveMb: mb(usage.heapUsed + usage.external) };
  } finally {
    ws.close();
  }
}
