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
