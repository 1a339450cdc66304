// A loopback OTLP/HTTP trace receiver for tests: accepts POST /v1/traces (any path, recorded) as `application/json` or
// `application/x-protobuf` (optionally gzip), decodes both into the same plain span objects, and
// keeps the raw bytes so tests can search them (e.g. "the API key never leaves the process").
// A path ending in `metrics` (/v1/metrics) is decoded as an ExportMetricsServiceRequest instead:
// `rx.metricRequests()` lists those requests, each with its flattened `metrics`.
//
//   const rx = await startOtlpReceiver();           // rx.url → OTEL_EXPORTER_OTLP_ENDPOINT
//   const spans = await rx.waitForSpans(3, { timeoutMs: 5000 });
//   spans[0].attributes['gen_ai.request.model']     // attributes flattened to a plain object
//
// Modes (option `mode`, changeable later with `rx.setMode()`): 'ok' (200 + empty JSON/proto
// success), 'hang' (accept the body, never answer: a slow collector), or an HTTP status number.

import http from 'node:http';
import { gunzipSync } from 'node:zlib';

export const SPAN_KIND_NAMES = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
export const STATUS_CODE_NAMES = ['UNSET', 'OK', 'ERROR'];

// ---- protobuf (proto3 wire format), just enough for opentelemetry/proto/collector/trace/v1 ----

class Reader {
  constructor(buf, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }
  done() {
    return this.pos >= this.end;
  }
  varint() {
    // BigInt keeps 64-bit ints exact (int64 attribute values, enum values are small anyway).
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new Error('protobuf: truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('protobuf: varint too long');
    }
  }
  tag() {
    const t = Number(this.varint());
    return { field: t >>> 3, wire: t & 7 };
  }
  bytes() {
    const len = Number(this.varint());
    if (this.pos + len > this.end) throw new Error('protobuf: truncated length-delimited field');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  fixed64() {
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  double() {
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
  fixed32() {
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  skip(wire) {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`protobuf: unsupported wire type ${wire}`);
  }
}

/** Iterates the fields of a message: handler(field, wire, reader) must consume or return false. */
function readMessage(buf, handler) {
  const r = new Reader(buf);
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (handler(field, wire, r) === false) r.skip(wire);
  }
}

const utf8 = (b) => Buffer.from(b).toString('utf8');
const hex = (b) => Buffer.from(b).toString('hex');
const int64 = (u) => {
  const s = BigInt.asIntN(64, u);
  return s >= BigInt(Number.MIN_SAFE_INTEGER) && s <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(s) : s;
};

function pbAnyValue(buf) {
  let v = null;
  readMessage(buf, (f, w, r) => {
    if (f === 1 && w === 2) v = { stringValue: utf8(r.bytes()) };
    else if (f === 2 && w === 0) v = { boolValue: r.varint() !== 0n };
    else if (f === 3 && w === 0) v = { intValue: int64(r.varint()) };
    else if (f === 4 && w === 1) v = { doubleValue: r.double() };
    else if (f === 5 && w === 2) {
      const values = [];
      readMessage(r.bytes(), (f2, w2, r2) => {
        if (f2 === 1 && w2 === 2) {
          values.push(pbAnyValue(r2.bytes()));
          return true;
        }
        return false;
      });
      v = { arrayValue: { values } };
    } else if (f === 6 && w === 2) {
      const values = [];
      readMessage(r.bytes(), (f2, w2, r2) => {
        if (f2 === 1 && w2 === 2) {
          values.push(pbKeyValue(r2.bytes()));
          return true;
        }
        return false;
      });
      v = { kvlistValue: { values } };
    } else if (f === 7 && w === 2) v = { bytesValue: Buffer.from(r.bytes()) };
    else return false;
    return true;
  });
  return v ?? {};
}

function pbKeyValue(buf) {
  const kv = { key: '', value: {} };
  readMessage(buf, (f, w, r) => {
    if (f === 1 && w === 2) kv.key = utf8(r.bytes());
    else if (f === 2 && w === 2) kv.value = pbAnyValue(r.bytes());
    else return false;
    return true;
  });
  return kv;
}

function pbAttributesInto(list) {
  return (f, w, r) => {
    list.push(pbKeyValue(r.bytes()));
    return true;
  };
}

function pbSpan(buf) {
  const s = {
    traceId: '',
    spanId: '',
    traceState: '',
    parentSpanId: '',
    name: '',
    kind: 0,
    startTimeUnixNano: '0',
    endTimeUnixNano: '0',
    attributes: [],
    events: [],
    links: [],
    status: {},
    flags: 0,
  };
  readMessage(buf, (f, w, r) => {
    switch (f) {
      case 1:
        s.traceId = hex(r.bytes());
        break;
      case 2:
        s.spanId = hex(r.bytes());
        break;
      case 3:
        s.traceState = utf8(r.bytes());
        break;
      case 4:
        s.parentSpanId = hex(r.bytes());
        break;
      case 5:
        s.name = utf8(r.bytes());
        break;
      case 6:
        s.kind = Number(r.varint());
        break;
      case 7:
        s.startTimeUnixNano = r.fixed64().toString();
        break;
      case 8:
        s.endTimeUnixNano = r.fixed64().toString();
        break;
      case 9:
        s.attributes.push(pbKeyValue(r.bytes()));
        break;
      case 10:
        s.droppedAttributesCount = Number(r.varint());
        break;
      case 11: {
        const ev = { timeUnixNano: '0', name: '', attributes: [] };
        readMessage(r.bytes(), (f2, w2, r2) => {
          if (f2 === 1 && w2 === 1) ev.timeUnixNano = r2.fixed64().toString();
          else if (f2 === 2 && w2 === 2) ev.name = utf8(r2.bytes());
          else if (f2 === 3 && w2 === 2) return pbAttributesInto(ev.attributes)(f2, w2, r2);
          else return false;
          return true;
        });
        s.events.push(ev);
        break;
      }
      case 13: {
        const link = { traceId: '', spanId: '', attributes: [] };
        readMessage(r.bytes(), (f2, w2, r2) => {
          if (f2 === 1 && w2 === 2) link.traceId = hex(r2.bytes());
          else if (f2 === 2 && w2 === 2) link.spanId = hex(r2.bytes());
          else if (f2 === 4 && w2 === 2) return pbAttributesInto(link.attributes)(f2, w2, r2);
          else return false;
          return true;
        });
        s.links.push(link);
        break;
      }
      case 15: {
        readMessage(r.bytes(), (f2, w2, r2) => {
          if (f2 === 2 && w2 === 2) s.status.message = utf8(r2.bytes());
          else if (f2 === 3 && w2 === 0) s.status.code = Number(r2.varint());
          else return false;
          return true;
        });
        break;
      }
      case 16:
        if (w === 5) {
          s.flags = r.fixed32();
          break;
        }
        return false;
      default:
        return false;
    }
    return true;
  });
  return s;
}

// ---- metrics: opentelemetry/proto/collector/metrics/v1, histograms (the only kind llm-otel sends) ----

/** Packed repeated fixed64 / double fields (or one unpacked element). */
function pbPacked(r, wire, read, size) {
  if (wire !== 2) return [read(r)];
  const b = r.bytes();
  const out = [];
  const sub = new Reader(Buffer.from(b));
  for (let i = 0; i < b.length / size; i++) out.push(read(sub));
  return out;
}

function pbHistogramPoint(buf) {
  const p = { attributes: [], bucketCounts: [], explicitBounds: [] };
  readMessage(buf, (f, w, r) => {
    if (f === 9 && w === 2) p.attributes.push(pbKeyValue(r.bytes()));
    else if (f === 2 && w === 1) p.startTimeUnixNano = r.fixed64().toString();
    else if (f === 3 && w === 1) p.timeUnixNano = r.fixed64().toString();
    else if (f === 4 && w === 1) p.count = r.fixed64().toString();
    else if (f === 5 && w === 1) p.sum = r.double();
    else if (f === 6) p.bucketCounts.push(...pbPacked(r, w, (x) => x.fixed64().toString(), 8));
    else if (f === 7) p.explicitBounds.push(...pbPacked(r, w, (x) => x.double(), 8));
    else if (f === 10 && w === 0) p.flags = Number(r.varint());
    else if (f === 11 && w === 1) p.min = r.double();
    else if (f === 12 && w === 1) p.max = r.double();
    else return false;
    return true;
  });
  return p;
}

function pbMetric(buf) {
  const m = { name: '', description: '', unit: '' };
  readMessage(buf, (f, w, r) => {
    if (f === 1 && w === 2) m.name = utf8(r.bytes());
    else if (f === 2 && w === 2) m.description = utf8(r.bytes());
    else if (f === 3 && w === 2) m.unit = utf8(r.bytes());
    else if (f === 9 && w === 2) {
      const h = { dataPoints: [], aggregationTemporality: 0 };
      readMessage(r.bytes(), (f2, w2, r2) => {
        if (f2 === 1 && w2 === 2) h.dataPoints.push(pbHistogramPoint(r2.bytes()));
        else if (f2 === 2 && w2 === 0) h.aggregationTemporality = Number(r2.varint());
        else return false;
        return true;
      });
      m.histogram = h;
    } else if ([5, 7, 10, 11].includes(f) && w === 2) {
      r.bytes();
      m.other = f; // a gauge, sum, exponential histogram or summary: not decoded
    } else return false;
    return true;
  });
  return m;
}

/** Decodes an ExportMetricsServiceRequest into the OTLP/JSON object shape. */
export function decodeMetricsRequestProtobuf(buf) {
  const resourceMetrics = [];
  readMessage(buf, (f, w, r) => {
    if (f !== 1 || w !== 2) return false;
    const rm = { resource: { attributes: [] }, scopeMetrics: [] };
    readMessage(r.bytes(), (f1, w1, r1) => {
      if (f1 === 1 && w1 === 2) {
        readMessage(r1.bytes(), (f2, w2, r2) => (f2 === 1 && w2 === 2 ? pbAttributesInto(rm.resource.attributes)(f2, w2, r2) : false));
      } else if (f1 === 2 && w1 === 2) {
        const sm = { scope: { name: '', version: '' }, metrics: [] };
        readMessage(r1.bytes(), (f2, w2, r2) => {
          if (f2 === 1 && w2 === 2) {
            readMessage(r2.bytes(), (f3, w3, r3) => {
              if (f3 === 1 && w3 === 2) sm.scope.name = utf8(r3.bytes());
              else if (f3 === 2 && w3 === 2) sm.scope.version = utf8(r3.bytes());
              else return false;
              return true;
            });
          } else if (f2 === 2 && w2 === 2) sm.metrics.push(pbMetric(r2.bytes()));
          else return false;
          return true;
        });
        rm.scopeMetrics.push(sm);
      } else return false;
      return true;
    });
    resourceMetrics.push(rm);
    return true;
  });
  return { resourceMetrics };
}

export const TEMPORALITY_NAMES = ['UNSPECIFIED', 'DELTA', 'CUMULATIVE'];

/**
 * Flattens an ExportMetricsServiceRequest (JSON shape) into metric objects: { name, unit,
 * description, kind, temporality, scope, resource, points: [{ attributes, count, sum, min, max,
 * bucketCounts, explicitBounds, startTimeUnixNano, timeUnixNano }] } (counts as numbers).
 */
export function flattenMetricsRequest(req) {
  const out = [];
  for (const rm of req.resourceMetrics ?? []) {
    const resource = attributesToObject(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics ?? []) {
      const scope = { name: sm.scope?.name ?? '', version: sm.scope?.version ?? '' };
      for (const m of sm.metrics ?? []) {
        const h = m.histogram;
        const temporality = Number(h?.aggregationTemporality ?? 0);
        out.push({
          name: m.name,
          unit: m.unit ?? '',
          description: m.description ?? '',
          kind: h ? 'histogram' : 'other',
          temporality: TEMPORALITY_NAMES[temporality] ?? String(temporality),
          scope,
          resource,
          points: (h?.dataPoints ?? []).map((p) => ({
            attributes: attributesToObject(p.attributes),
            count: Number(p.count ?? 0),
            sum: p.sum === undefined ? undefined : Number(p.sum),
            min: p.min === undefined ? undefined : Number(p.min),
            max: p.max === undefined ? undefined : Number(p.max),
            bucketCounts: (p.bucketCounts ?? []).map(Number),
            explicitBounds: (p.explicitBounds ?? []).map(Number),
            startTimeUnixNano: BigInt(p.startTimeUnixNano ?? 0),
            timeUnixNano: BigInt(p.timeUnixNano ?? 0),
          })),
        });
      }
    }
  }
  return out;
}

/** Decodes an ExportTraceServiceRequest into the OTLP/JSON object shape. */
export function decodeTraceRequestProtobuf(buf) {
  const resourceSpans = [];
  readMessage(buf, (f, w, r) => {
    if (f !== 1 || w !== 2) return false;
    const rs = { resource: { attributes: [] }, scopeSpans: [], schemaUrl: '' };
    readMessage(r.bytes(), (f1, w1, r1) => {
      if (f1 === 1 && w1 === 2) {
        readMessage(r1.bytes(), (f2, w2, r2) => (f2 === 1 && w2 === 2 ? pbAttributesInto(rs.resource.attributes)(f2, w2, r2) : false));
      } else if (f1 === 2 && w1 === 2) {
        const ss = { scope: { name: '', version: '', attributes: [] }, spans: [], schemaUrl: '' };
        readMessage(r1.bytes(), (f2, w2, r2) => {
          if (f2 === 1 && w2 === 2) {
            readMessage(r2.bytes(), (f3, w3, r3) => {
              if (f3 === 1 && w3 === 2) ss.scope.name = utf8(r3.bytes());
              else if (f3 === 2 && w3 === 2) ss.scope.version = utf8(r3.bytes());
              else if (f3 === 3 && w3 === 2) return pbAttributesInto(ss.scope.attributes)(f3, w3, r3);
              else return false;
              return true;
            });
          } else if (f2 === 2 && w2 === 2) ss.spans.push(pbSpan(r2.bytes()));
          else if (f2 === 3 && w2 === 2) ss.schemaUrl = utf8(r2.bytes());
          else return false;
          return true;
        });
        rs.scopeSpans.push(ss);
      } else if (f1 === 3 && w1 === 2) rs.schemaUrl = utf8(r1.bytes());
      else return false;
      return true;
    });
    resourceSpans.push(rs);
    return true;
  });
  return { resourceSpans };
}

// ---- OTLP/JSON → plain span objects ----

/** AnyValue (JSON or decoded protobuf shape) → plain JS value. int64 strings become numbers. */
export function anyValueToJs(v) {
  if (v === null || v === undefined) return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) {
    const n = v.intValue;
    if (typeof n === 'number' || typeof n === 'bigint') return n;
    const big = BigInt(n);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('arrayValue' in v) return (v.arrayValue.values ?? []).map(anyValueToJs);
  if ('kvlistValue' in v) return attributesToObject(v.kvlistValue.values ?? []);
  if ('bytesValue' in v) return Buffer.isBuffer(v.bytesValue) ? v.bytesValue : Buffer.from(v.bytesValue, 'base64');
  return undefined;
}

export function attributesToObject(list = []) {
  const out = {};
  for (const kv of list) out[kv.key] = anyValueToJs(kv.value);
  return out;
}

/** JSON ids may be hex (spec) or base64 (some exporters); normalize to lowercase hex. */
function idHex(id) {
  if (!id) return '';
  if (/^[0-9a-fA-F]+$/.test(id) && (id.length === 16 || id.length === 32)) return id.toLowerCase();
  return Buffer.from(id, 'base64').toString('hex');
}

/** Flattens an ExportTraceServiceRequest (JSON shape) into span objects. */
export function flattenTraceRequest(req) {
  const spans = [];
  for (const rs of req.resourceSpans ?? []) {
    const resource = attributesToObject(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      const scope = { name: ss.scope?.name ?? '', version: ss.scope?.version ?? '' };
      for (const s of ss.spans ?? []) {
        const start = BigInt(s.startTimeUnixNano ?? 0);
        const end = BigInt(s.endTimeUnixNano ?? 0);
        const kind = Number(s.kind ?? 0);
        const code = Number(s.status?.code ?? 0);
        spans.push({
          traceId: idHex(s.traceId),
          spanId: idHex(s.spanId),
          parentSpanId: idHex(s.parentSpanId),
          traceState: s.traceState ?? '',
          flags: Number(s.flags ?? 0),
          name: s.name,
          kind,
          kindName: SPAN_KIND_NAMES[kind] ?? String(kind),
          startTimeUnixNano: start,
          endTimeUnixNano: end,
          durationMs: Number(end - start) / 1e6,
          attributes: attributesToObject(s.attributes),
          events: (s.events ?? []).map((e) => ({
            name: e.name,
            timeUnixNano: BigInt(e.timeUnixNano ?? 0),
            attributes: attributesToObject(e.attributes),
          })),
          links: (s.links ?? []).map((l) => ({
            traceId: idHex(l.traceId),
            spanId: idHex(l.spanId),
            attributes: attributesToObject(l.attributes),
          })),
          status: { code, codeName: STATUS_CODE_NAMES[code] ?? String(code), message: s.status?.message ?? '' },
          resource,
          scope,
        });
      }
    }
  }
  return spans;
}

/**
 * Starts the receiver. Options: { port = 0, host = '127.0.0.1', mode = 'ok' }.
 * Handle: url, port, requests[] ({ path, contentType, encoding, bytes, body, spans, error }),
 * spans[], waitForSpans(n, { timeoutMs, filter }), allBytes(), setMode(m), reset(), close().
 */
export async function startOtlpReceiver(options = {}) {
  const { port = 0, host = '127.0.0.1' } = options;
  let mode = options.mode ?? 'ok';
  const requests = [];
  const spans = [];
  const waiters = new Set();
  const hung = new Set();
  let inFlight = 0;
  let lastActivity = Date.now();

  const notify = () => {
    for (const w of waiters) w();
  };

  const server = http.createServer((req, res) => {
    const chunks = [];
    inFlight += 1;
    lastActivity = Date.now();
    req.on('data', (c) => chunks.push(c));
    req.on('error', () => {
      inFlight -= 1;
    });
    req.on('end', () => {
      inFlight -= 1;
      lastActivity = Date.now();
      const wire = Buffer.concat(chunks);
      const contentType = String(req.headers['content-type'] ?? '')
        .split(';')[0]
        .trim();
      const encoding = String(req.headers['content-encoding'] ?? '');
      const record = {
        method: req.method,
        path: req.url,
        contentType,
        encoding,
        headers: { ...req.headers },
        wireBytes: wire,
        bytes: wire,
        body: null,
        spans: [],
        metrics: null,
        error: null,
      };
      try {
        record.bytes = encoding === 'gzip' ? gunzipSync(wire) : wire;
        // Any POST is decoded: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT may name another path.
        if (req.method === 'POST' && /metrics\/?$/.test(String(req.url).split('?')[0])) {
          record.body =
            contentType === 'application/x-protobuf'
              ? decodeMetricsRequestProtobuf(record.bytes)
              : JSON.parse(record.bytes.toString('utf8'));
          record.metrics = flattenMetricsRequest(record.body);
        } else if (req.method === 'POST') {
          record.body =
            contentType === 'application/x-protobuf' ? decodeTraceRequestProtobuf(record.bytes) : JSON.parse(record.bytes.toString('utf8'));
          record.spans = flattenTraceRequest(record.body);
        }
      } catch (e) {
        record.error = e.message;
      }
      requests.push(record);
      spans.push(...record.spans);
      notify();

      if (mode === 'hang') {
        hung.add(res);
        res.on('close', () => hung.delete(res));
        return;
      }
      const status = mode === 'ok' ? (record.error ? 400 : 200) : Number(mode);
      if (contentType === 'application/x-protobuf') {
        res.writeHead(status, { 'content-type': 'application/x-protobuf', 'content-length': 0 });
        res.end();
      } else {
        const text = status === 200 ? '{}' : JSON.stringify({ code: 3, message: record.error ?? `status ${status}` });
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      }
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = server.address().port;

  return {
    url: `http://${host}:${actualPort}`,
    port: actualPort,
    requests,
    spans,
    setMode(m) {
      mode = m;
    },
    /** Resolves with the matching spans once at least n have arrived; rejects after timeoutMs. */
    waitForSpans(n, { timeoutMs = 10_000, filter = () => true } = {}) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const got = spans.filter(filter);
          if (got.length >= n) {
            cleanup();
            resolve(got);
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => {
          cleanup();
          const got = spans.filter(filter);
          reject(
            new Error(
              `waitForSpans: ${got.length} of ${n} spans after ${timeoutMs} ms (${spans.length} in total: ${spans.map((s) => s.name).join(', ')})`,
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        if (!check()) waiters.add(check);
      });
    },
    /**
     * Resolves once no request is being received and none arrived for quietMs (call it after the
     * exporting process has exited: what it sent is then fully decoded).
     */
    async settle({ quietMs = 50, timeoutMs = 5000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && (inFlight > 0 || Date.now() - lastActivity < quietMs)) {
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    /** The requests decoded as metrics (path ending in `metrics`), in order of arrival. */
    metricRequests() {
      return requests.filter((r) => r.metrics !== null);
    },
    /** Every request body received (decompressed), concatenated: for "never leaks" searches. */
    allBytes() {
      return Buffer.concat(requests.map((r) => r.bytes));
    },
    reset() {
      requests.length = 0;
      spans.length = 0;
    },
    async close() {
      for (const res of hung) res.destroy();
      hung.clear();
      for (const w of waiters) w();
      server.closeAllConnections();
      await new Promise((r) => server.close(() => r()));
    },
  };
}
