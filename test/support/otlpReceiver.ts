import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One span as the receiver decoded it, whichever protocol carried it. */
export interface ReceivedSpan {
  /** Hex, 32 characters. */
  traceId: string;
  /** Hex, 16 characters. */
  spanId: string;
  /** Hex, or "" for a root span. */
  parentSpanId: string;
  traceState: string;
  name: string;
  /** OTLP's enum: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, unknown>;
  /** The attributes of the resource that sent it. */
  resource: Record<string, unknown>;
}

/** One POST the receiver took. */
export interface ReceivedExport {
  path: string;
  contentType: string;
  spans: ReceivedSpan[];
}

export interface OtlpReceiver {
  /** The base URL, as `OTEL_EXPORTER_OTLP_ENDPOINT` takes it: `http://127.0.0.1:port`. */
  readonly url: string;
  readonly exports: ReceivedExport[];
  /** Every span received so far. */
  spans(): ReceivedSpan[];
  /**
   * Resolves the spans received once `until` holds for them, checked as each export arrives;
   * rejects after `timeoutMs` (a tracer's `forceFlush` does not wait for an export its batch timer
   * has already started, so a test waits here for what it expects).
   */
  waitFor(until: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

/**
 * A real OTLP/HTTP receiver on a loopback port: it accepts `POST /v1/traces` as a collector does,
 * in JSON (`application/json`, the `http/json` protocol) and in protobuf
 * (`application/x-protobuf`, `http/protobuf`), decodes both into `ReceivedSpan`s, and answers an
 * empty success. Anything else gets 404 and is not recorded.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const exports: ReceivedExport[] = [];
  const waiters = new Set<() => void>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const contentType = String(request.headers["content-type"] ?? "");
      if (request.method !== "POST" || request.url !== "/v1/traces") {
        response.writeHead(404).end();
        return;
      }
      const body = Buffer.concat(chunks);
      const json = contentType.startsWith("application/json");
      const spans = json ? decodeJson(JSON.parse(body.toString("utf8"))) : decodeProtobuf(body);
      exports.push({ path: request.url, contentType, spans });
      for (const wake of waiters) wake();
      response.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" });
      response.end(json ? "{}" : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exports,
    spans: () => exports.flatMap((e) => e.spans),
    waitFor(until, timeoutMs = 5_000) {
      const all = () => exports.flatMap((e) => e.spans);
      if (until(all())) return Promise.resolve(all());
      return new Promise((resolve, reject) => {
        const wake = () => {
          if (!until(all())) return;
          cleanup();
          resolve(all());
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`the receiver did not get the expected spans within ${timeoutMs} ms; it has ${all().length}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(wake);
        };
        waiters.add(wake);
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// Private: OTLP/JSON (ids in hex, enums as numbers, 64-bit integers possibly as strings).

interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: JsonAnyValue[] };
}

type JsonKeyValue = { key: string; value: JsonAnyValue };

function decodeJson(request: {
  resourceSpans?: Array<{
    resource?: { attributes?: JsonKeyValue[] };
    scopeSpans?: Array<{ spans?: Array<{ traceId: string; spanId: string; parentSpanId?: string; traceState?: string; name: string; kind?: number; attributes?: JsonKeyValue[] }> }>;
  }>;
}): ReceivedSpan[] {
  return (request.resourceSpans ?? []).flatMap((rs) => {
    const resource = jsonAttributes(rs.resource?.attributes);
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        traceId: hexId(s.traceId),
        spanId: hexId(s.spanId),
        parentSpanId: s.parentSpanId ? hexId(s.parentSpanId) : "",
        traceState: s.traceState ?? "",
        name: s.name,
        kind: s.kind ?? 0,
        attributes: jsonAttributes(s.attributes),
        resource,
      })),
    );
  });
}

function jsonAttributes(list: JsonKeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, jsonValue(kv.value)]));
}

function jsonValue(v: JsonAnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(jsonValue);
  return undefined;
}

// The specification says hex; base64 is accepted too.
function hexId(id: string): string {
  return /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, "base64").toString("hex");
}

// Private: OTLP/protobuf, decoded from the wire format with the field numbers of
// opentelemetry/proto/collector/trace/v1 and trace/v1 (only the fields ReceivedSpan has).

type Field = { no: number; varint?: bigint; bytes?: Buffer; fixed64?: Buffer };

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buf[at++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (at < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    switch (key & 7) {
      case 0:
        out.push({ no, varint: varint() });
        break;
      case 1:
        out.push({ no, fixed64: buf.subarray(at, at + 8) });
        at += 8;
        break;
      case 2: {
        const length = Number(varint());
        out.push({ no, bytes: buf.subarray(at, at + length) });
        at += length;
        break;
      }
      case 5:
        at += 4;
        break;
      default:
        throw new Error(`unexpected protobuf wire type ${key & 7}`);
    }
  }
  return out;
}

const sub = (list: Field[], no: number) => list.filter((f) => f.no === no && f.bytes).map((f) => fields(f.bytes!));
const text = (list: Field[], no: number) => list.find((f) => f.no === no)?.bytes?.toString("utf8") ?? "";
const hex = (list: Field[], no: number) => list.find((f) => f.no === no)?.bytes?.toString("hex") ?? "";

function decodeProtobuf(body: Buffer): ReceivedSpan[] {
  // ExportTraceServiceRequest.resource_spans = 1
  return sub(fields(body), 1).flatMap((rs) => {
    // ResourceSpans.resource = 1 (Resource.attributes = 1), scope_spans = 2
    const resource = protoAttributes(sub(rs, 1)[0] ?? [], 1);
    // ScopeSpans.spans = 2
    return sub(rs, 2).flatMap((ss) =>
      sub(ss, 2).map((s) => ({
        // Span: trace_id 1, span_id 2, trace_state 3, parent_span_id 4, name 5, kind 6, attributes 9
        traceId: hex(s, 1),
        spanId: hex(s, 2),
        parentSpanId: hex(s, 4),
        traceState: text(s, 3),
        name: text(s, 5),
        kind: Number(s.find((f) => f.no === 6)?.varint ?? 0n),
        attributes: protoAttributes(s, 9),
        resource,
      })),
    );
  });
}

function protoAttributes(list: Field[], no: number): Record<string, unknown> {
  // KeyValue: key 1, value 2
  return Object.fromEntries(sub(list, no).map((kv) => [text(kv, 1), protoValue(sub(kv, 2)[0] ?? [])]));
}

function protoValue(v: Field[]): unknown {
  // AnyValue: string 1, bool 2, int 3, double 4, array 5 (ArrayValue.values = 1)
  const f = v[0];
  if (!f) return undefined;
  switch (f.no) {
    case 1:
      return f.bytes!.toString("utf8");
    case 2:
      return f.varint === 1n;
    case 3:
      return Number(BigInt.asIntN(64, f.varint!));
    case 4:
      return f.fixed64!.readDoubleLE(0);
    case 5:
      return sub(fields(f.bytes!), 1).map(protoValue);
    default:
      return undefined;
  }
}
