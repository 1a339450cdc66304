// OTLP/protobuf encoding of spans, for the exporter llm-otel sends with (http/protobuf, the default).
//
// Why not the SDK's serializer: on our LLM spans (a score of attributes each) it makes two passes
// (size, then bytes), re-encodes every attribute key for every span, and stripping content meant
// copying each span first. This encoder writes once, reuses each key's encoded bytes
// and the resource's, and leaves out the content attributes while it writes (no copy). Its output
// is byte-for-byte the SDK serializer's (test/15-otlp-proto.test.mjs compares the two), so the
// wire format, field order and value typing (int vs double, kvlist, bytes) stay exactly OTLP's.

import type { HrTime, Link, SpanContext } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';

const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;
const KEY_CACHE_MAX = 2048;

class ProtoBuffer {
  buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  varint(value: number): void {
    this.ensure(10);
    const b = this.buf;
    if (value >= 0 && value <= 0xffffffff) {
      let v = value >>> 0;
      while (v > 0x7f) {
        b[this.pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      b[this.pos++] = v;
      return;
    }
    // 64-bit: two's complement for negatives, as int64 is encoded on the wire.
    const abs = Math.abs(value);
    let low = abs >>> 0;
    let high = Math.floor(abs / 0x100000000) >>> 0;
    if (value < 0) {
      low = ~low >>> 0;
      high = ~high >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    while (high > 0 || low > 0x7f) {
      b[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    b[this.pos++] = low & 0x7f;
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  fixed32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  /** An HrTime as fixed64 nanoseconds, exact beyond 2^53 (split so no product loses precision). */
  hrTime(t: HrTime): void {
    const seconds = t[0];
    const lowSec = seconds & 0xffff;
    const highSec = (seconds / 0x10000) >>> 0;
    const a = lowSec * 1e9; // < 2^53
    const c = highSec * 1e9; // < 2^53, scaled by 2^16 below
    const aLow = a >>> 0;
    const aHigh = Math.floor(a / 0x100000000);
    const cLow = ((c & 0xffff) * 0x10000) >>> 0;
    const cHigh = (c / 0x10000) >>> 0;
    const low = aLow + cLow + t[1];
    this.ensure(8);
    this.buf.writeUInt32LE(low >>> 0, this.pos);
    this.buf.writeUInt32LE((aHigh + cHigh + Math.floor(low / 0x100000000)) >>> 0, this.pos + 4);
    this.pos += 8;
  }

  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  bytes(bytes: Uint8Array): void {
    this.varint(bytes.length);
    this.raw(bytes);
  }

  /** Lower-case or upper-case hex (trace and span ids) as bytes. */
  hex(h: string): void {
    const n = h.length >> 1;
    this.varint(n);
    this.ensure(n);
    const b = this.buf;
    for (let i = 0; i < n; i++) b[this.pos++] = (nibble(h.charCodeAt(2 * i)) << 4) | nibble(h.charCodeAt(2 * i + 1));
  }

  string(s: string): void {
    // Room for the worst case (3 bytes per UTF-16 unit) after a one-byte length, shifted if longer.
    this.ensure(s.length * 3 + 5);
    const start = this.pos;
    const n = this.buf.write(s, start + 1, 'utf8');
    this.pos = start + 1 + n;
    this.close(start, n);
  }

  /** Starts a length-delimited message: one byte reserved for its length. */
  open(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** Ends what `open` (or `string`) started at `start`, whose content is `n` bytes long. */
  close(start: number, n = this.pos - start - 1): void {
    if (n < 0x80) {
      this.buf[start] = n;
      this.pos = start + 1 + n;
      return;
    }
    let extra = 0;
    for (let v = n >>> 7; v > 0; v >>>= 7) extra++;
    this.ensure(extra);
    this.buf.copyWithin(start + 1 + extra, start + 1, start + 1 + n);
    let v = n;
    let p = start;
    while (v > 0x7f) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[p] = v;
    this.pos = start + 1 + extra + n;
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return c - 55;
}

// ── values ────────────────────────────────────────────────────────────────────────────────────────

/** `KeyValue.key` (tag, length, UTF-8), encoded once per distinct key. */
const keyCache = new Map<string, Buffer>();
function writeKey(w: ProtoBuffer, key: string): void {
  let b = keyCache.get(key);
  if (!b) {
    const k = new ProtoBuffer(key.length * 3 + 8);
    k.tag(1, 2);
    k.string(key);
    b = Buffer.from(k.finish());
    if (keyCache.size < KEY_CACHE_MAX) keyCache.set(key, b);
  }
  w.raw(b);
}

function writeAnyValue(w: ProtoBuffer, value: unknown): void {
  switch (typeof value) {
    case 'string':
      w.tag(1, 2);
      w.string(value);
      return;
    case 'boolean':
      w.tag(2, 0);
      w.varint(value ? 1 : 0);
      return;
    case 'number':
      // int64 when integral and in range (not only "safe" integers: 2^60 is exact and fits).
      if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
        w.tag(3, 0);
        w.varint(value);
      } else {
        w.tag(4, 1);
        w.double(value);
      }
      return;
    case 'object': {
      if (value === null) return;
      if (value instanceof Uint8Array) {
        w.tag(7, 2);
        w.bytes(value);
        return;
      }
      if (Array.isArray(value)) {
        w.tag(5, 2);
        const arr = w.open();
        for (const item of value) {
          w.tag(1, 2);
          const v = w.open();
          writeAnyValue(w, item);
          w.close(v);
        }
        w.close(arr);
        return;
      }
      w.tag(6, 2);
      const list = w.open();
      const obj = value as Record<string, unknown>;
      for (const k in obj) if (Object.hasOwn(obj, k)) writeKeyValue(w, 1, k, obj[k]);
      w.close(list);
      return;
    }
    default:
    // undefined, functions, symbols, bigint: an empty AnyValue, as the SDK's serializer writes.
  }
}

function writeAttributes(w: ProtoBuffer, attrs: Record<string, unknown> | undefined, field: number, skip?: ReadonlySet<string>): void {
  if (!attrs) return;
  for (const key in attrs) {
    if (!Object.hasOwn(attrs, key)) continue;
    if (skip?.has(key)) continue;
    writeKeyValue(w, field, key, attrs[key]);
  }
}

/** One KeyValue message as field `field` of the enclosing message. */
function writeKeyValue(w: ProtoBuffer, field: number, key: string, value: unknown): void {
  w.tag(field, 2);
  const kv = w.open();
  writeKey(w, key);
  w.tag(2, 2);
  const v = w.open();
  writeAnyValue(w, value);
  w.close(v);
  w.close(kv);
}

// ── messages ──────────────────────────────────────────────────────────────────────────────────────

function spanFlags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | HAS_IS_REMOTE | (isRemote ? IS_REMOTE : 0);
}

function writeEvent(w: ProtoBuffer, e: TimedEvent): void {
  const m = w.open();
  w.tag(1, 1);
  w.hrTime(e.time);
  w.tag(2, 2);
  w.string(e.name);
  writeAttributes(w, e.attributes, 3);
  w.tag(4, 0);
  w.varint(e.droppedAttributesCount || 0);
  w.close(m);
}

/** Fields 1–3 of both Span and Link: trace id, span id, trace state. */
function writeIds(w: ProtoBuffer, c: SpanContext): void {
  w.tag(1, 2);
  w.hex(c.traceId);
  w.tag(2, 2);
  w.hex(c.spanId);
  const ts = c.traceState?.serialize();
  if (ts) {
    w.tag(3, 2);
    w.string(ts);
  }
}

function writeLink(w: ProtoBuffer, l: Link): void {
  const m = w.open();
  const c: SpanContext = l.context;
  writeIds(w, c);
  writeAttributes(w, l.attributes, 4);
  w.tag(5, 0);
  w.varint(l.droppedAttributesCount || 0);
  w.tag(6, 5);
  w.fixed32(spanFlags(c.traceFlags, c.isRemote));
  w.close(m);
}

function writeSpan(w: ProtoBuffer, s: ReadableSpan, skip: ReadonlySet<string> | undefined): void {
  const m = w.open();
  const ctx = s.spanContext();
  writeIds(w, ctx);
  const parent = s.parentSpanContext;
  if (parent?.spanId) {
    w.tag(4, 2);
    w.hex(parent.spanId);
  }
  w.tag(5, 2);
  w.string(s.name);
  // SpanKind on the wire is the API's value + 1 (0 means unspecified).
  const kind = s.kind == null ? 0 : s.kind + 1;
  if (kind !== 0) {
    w.tag(6, 0);
    w.varint(kind);
  }
  w.tag(7, 1);
  w.hrTime(s.startTime);
  w.tag(8, 1);
  w.hrTime(s.endTime);
  writeAttributes(w, s.attributes as Record<string, unknown>, 9, skip);
  w.tag(10, 0);
  w.varint(s.droppedAttributesCount);
  for (const e of s.events) {
    w.tag(11, 2);
    writeEvent(w, e);
  }
  w.tag(12, 0);
  w.varint(s.droppedEventsCount);
  for (const l of s.links) {
    w.tag(13, 2);
    writeLink(w, l);
  }
  w.tag(14, 0);
  w.varint(s.droppedLinksCount);
  w.tag(15, 2);
  const st = w.open();
  if (s.status.message) {
    w.tag(2, 2);
    w.string(s.status.message);
  }
  w.tag(3, 0);
  w.varint(s.status.code);
  w.close(st);
  w.tag(16, 5);
  w.fixed32(spanFlags(ctx.traceFlags, parent?.isRemote));
  w.close(m);
}

/** `resource` field (1) of ResourceSpans, encoded once per Resource object once its attributes are final. */
const resourceCache = new WeakMap<Resource, Buffer>();
function writeResource(w: ProtoBuffer, r: Resource): void {
  const cached = resourceCache.get(r);
  if (cached) {
    w.raw(cached);
    return;
  }
  const start = w.pos;
  w.tag(1, 2);
  const m = w.open();
  writeAttributes(w, r.attributes as Record<string, unknown>, 1);
  w.tag(2, 0);
  w.varint(0);
  w.close(m);
  if (!r.asyncAttributesPending) resourceCache.set(r, Buffer.from(w.buf.subarray(start, w.pos)));
}

function writeScope(
  w: ProtoBuffer,
  scope: InstrumentationScope & { attributes?: Record<string, unknown>; droppedAttributesCount?: number },
): void {
  w.tag(1, 2);
  const m = w.open();
  w.tag(1, 2);
  w.string(scope.name);
  if (scope.version) {
    w.tag(2, 2);
    w.string(scope.version);
  }
  writeAttributes(w, scope.attributes, 3);
  if (scope.droppedAttributesCount) {
    w.tag(4, 0);
    w.varint(scope.droppedAttributesCount);
  }
  w.close(m);
}

/**
 * An ExportTraceServiceRequest for `spans`, grouped by resource and then instrumentation scope
 * (object identity, in order of first appearance). Attributes named in `skip` are left out of spans.
 */
export function encodeTraceRequest(spans: readonly ReadableSpan[], skip?: ReadonlySet<string>): Uint8Array {
  const groups = new Map<Resource, Map<InstrumentationScope, ReadableSpan[]>>();
  for (const s of spans) {
    let scopes = groups.get(s.resource);
    if (!scopes) {
      scopes = new Map();
      groups.set(s.resource, scopes);
    }
    const list = scopes.get(s.instrumentationScope);
    if (list) list.push(s);
    else scopes.set(s.instrumentationScope, [s]);
  }
  const w = new ProtoBuffer(1024 + spans.length * 1024);
  for (const [resource, scopes] of groups) {
    w.tag(1, 2);
    const rs = w.open();
    writeResource(w, resource);
    for (const [scope, list] of scopes) {
      w.tag(2, 2);
      const ss = w.open();
      writeScope(w, scope);
      for (const s of list) {
        w.tag(2, 2);
        writeSpan(w, s, skip);
      }
      if (scope.schemaUrl) {
        w.tag(3, 2);
        w.string(scope.schemaUrl);
      }
      w.close(ss);
    }
    if (resource.schemaUrl) {
      w.tag(3, 2);
      w.string(resource.schemaUrl);
    }
    w.close(rs);
  }
  return w.finish();
}
