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
 * One request written by hand on its own connection (`fetch` refuses an `Upgrade` header), closed
 * after the answer: its status and JSON body.
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
      const text = received.slice(received.indexOf("\r\n\r\n") + 4);
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: kept as text
      }
      resolve({ status, headers: new Headers(), body: parsed });
    });
  });
}
