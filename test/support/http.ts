import net from "node:net";

/** What came back from one HTTP request: the status, the headers and the body. */
export interface HttpAnswer<T = any> {
  status: number;
  headers: Headers;
  /** The body parsed as JSON; the raw text when it is not JSON (so a failing assertion shows it). */
  body: T;
}

/** Sends `init` to `url` over real HTTP and reads the whole answer (see `HttpAnswer.body`). */
export async function send<T = any>(url: string, init: RequestInit = {}): Promise<HttpAnswer<T>> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: response.status, headers: response.headers, body: body as T };
}

/**
 * POSTs `body` as JSON to `url`, as a front end would (`content-type: application/json`, plus
 * `headers`), e.g. `post(url, { query, variables }, { "x-request-id": "r-1" })`.
 */
export function post<T = any>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer<T>> {
  return send<T>(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

/**
 * One request written by hand on its own connection (`fetch` refuses an `Upgrade` header, and adds
 * an `Accept` and a `Content-Type` of its own), closed after the answer: its status, headers and
 * JSON body (a chunked one reassembled).
 */
export function rawRequest(url: string, method: string, path: string, headers: Record<string, string>, body = ""): Promise<HttpAnswer> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port: Number(port), host: "127.0.0.1" }, () => {
      const head = Object.entries({ host: `127.0.0.1:${port}`, connection: "close", "content-length": String(Buffer.byteLength(body)), ...headers })
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join("");
      socket.write(`${method} ${path} HTTP/1.1\r\n${head}\r\n${body}`);
    });
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (received += chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0);
      const end = received.indexOf("\r\n\r\n");
      const headers = new Headers();
      for (const line of received.slice(0, end).split("\r\n").slice(1)) headers.append(line.slice(0, line.indexOf(":")).trim(), line.slice(line.indexOf(":") + 1).trim());
      const raw = received.slice(end + 4);
      const text = headers.get("transfer-encoding") === "chunked" ? unchunked(raw) : raw;
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: kept as text
      }
      resolve({ status, headers, body: parsed });
    });
  });
}

// Private: the payload of a chunked HTTP/1.1 body (chunk sizes count bytes).
function unchunked(raw: string): string {
  const bytes = Buffer.from(raw, "utf8");
  const chunks: Buffer[] = [];
  for (let at = 0; ; ) {
    const end = bytes.indexOf("\r\n", at);
    const size = parseInt(bytes.subarray(at, end).toString("latin1"), 16);
    if (!(size > 0)) return Buffer.concat(chunks).toString("utf8");
    chunks.push(bytes.subarray(end + 2, end + 2 + size));
    at = end + 2 + size + 2;
  }
}
