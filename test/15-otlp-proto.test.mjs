// llm-otel's OTLP/protobuf encoder (src/otlp/proto.ts) must put exactly the bytes on the wire
// that the OpenTelemetry SDK's own serializer does: same messages, field order, value typing and
// lengths. Compared byte for byte on spans that exercise every part of the format.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { context, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { test } from 'vitest';
import { CONTENT_ATTRIBUTES } from '../dist/esm/src/core/semconv.js';
import { withoutContent } from '../dist/esm/src/otlp/content.js';
import { encodeTraceRequest } from '../dist/esm/src/otlp/proto.js';
import { decodeTraceRequestProtobuf, flattenTraceRequest } from './helpers/otlp-receiver.mjs';

const { ProtobufTraceSerializer } = createRequire(import.meta.url)('@opentelemetry/otlp-transformer');
const sdkBytes = (spans) => Buffer.from(ProtobufTraceSerializer.serializeRequest(spans));
const ourBytes = (spans, skip) => Buffer.from(encodeTraceRequest(spans, skip));

function recordSpans(build) {
  const exporter = new InMemorySpanExporter();
  const providers = [
    new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'svc-a', 'host.arch': 'amd64', 'process.pid': 4242 }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    }),
    new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'svc-ü', 'deployment.count': 2.5 }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    }),
  ];
  build(providers);
  return exporter.getFinishedSpans();
}

const long = 'x'.repeat(200);
const veryLong = 'é'.repeat(20_000) + '\u{1F600}';
const variety = {
  ascii: 'gpt-4o-mini',
  empty: '',
  unicode: 'naïve 中文 \u{1F600}',
  lone: 'a\uD800b',
  long,
  veryLong,
  t: true,
  f: false,
  zero: 0,
  small: 7,
  negative: -3,
  big: 2 ** 53 + 2,
  bigger: 2 ** 60,
  min: -(2 ** 63),
  tooBig: 2 ** 64,
  half: 0.5,
  negZero: -0,
  nan: NaN,
  inf: Infinity,
  negInf: -Infinity,
  strs: ['a', '', 'ü'],
  nums: [1, 2.5, -7],
  bools: [true, false],
  holes: ['a', null, 'b'],
  none: [],
};

test('encodes SDK spans byte for byte as the SDK serializer does', () => {
  const spans = recordSpans(([a, b]) => {
    const ta = a.getTracer('scope-one', '1.2.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.41.0' });
    const ta2 = a.getTracer('scope-two');
    const tb = b.getTracer('scope-b', '0.1');
    const parent = ta.startSpan('parent', { kind: SpanKind.SERVER, attributes: variety });
    parent.addEvent('first', { 'event.n': 1, 'event.s': 'ü' });
    parent.addEvent('second');
    parent.setStatus({ code: SpanStatusCode.ERROR, message: 'went wrong: ' + long });
    const ctx = trace.setSpan(context.active(), parent);
    const child = ta2.startSpan(
      'child',
      {
        kind: SpanKind.CLIENT,
        links: [
          {
            context: {
              traceId: '0af7651916cd43dd8448eb211c80319c',
              spanId: 'b7ad6b7169203331',
              traceFlags: TraceFlags.SAMPLED,
              isRemote: true,
              traceState: new TraceState('vendor=value,other=x'),
            },
            attributes: { 'link.kind': 'cause' },
          },
        ],
      },
      ctx,
    );
    child.setStatus({ code: SpanStatusCode.OK });
    child.end();
    parent.end();
    // A remote parent with trace state: flags carry "is remote", the child inherits the state.
    const remote = trace.setSpanContext(context.active(), {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      traceState: new TraceState('rojo=00f067aa0ba902b7'),
    });
    tb.startSpan('remote child', { kind: SpanKind.PRODUCER, attributes: { 'gen_ai.operation.name': 'chat' } }, remote).end();
    tb.startSpan('bare').end();
    for (const kind of [SpanKind.INTERNAL, SpanKind.CONSUMER]) ta.startSpan(`kind ${kind}`, { kind }).end();
  });
  assert.equal(spans.length, 6);
  const ours = ourBytes(spans);
  assert.ok(ours.length > 40_000, 'the long values are in the request');
  assert.ok(ours.equals(sdkBytes(spans)), 'identical bytes');
  // And it decodes to the spans we made (not merely to the same wrong thing twice).
  const decoded = flattenTraceRequest(decodeTraceRequestProtobuf(ours));
  const parent = decoded.find((s) => s.name === 'parent');
  assert.equal(parent.attributes.unicode, variety.unicode);
  assert.equal(parent.attributes.veryLong, veryLong);
  assert.deepEqual(
    Array.from(parent.attributes.holes, (x) => x ?? null),
    ['a', null, 'b'],
  ); // the hole: an empty AnyValue
  assert.equal(decoded.find((s) => s.name === 'remote child').parentSpanId, '00f067aa0ba902b7');
  assert.deepEqual(decoded.find((s) => s.name === 'child').links[0].attributes, { 'link.kind': 'cause' });
  assert.equal(parent.events.length, 2);
  assert.equal(parent.status.message, 'went wrong: ' + long);
});

test('encodes hand-made spans (kvlist, bytes, odd values) as the SDK serializer does', () => {
  const [base] = recordSpans(([a]) =>
    a
      .getTracer('t')
      .startSpan('base', { attributes: { a: 1 } })
      .end(),
  );
  const plain = {
    ...withoutContent(base),
    spanContext: () => base.spanContext(),
    name: 'hand-made',
    kind: undefined,
    startTime: [1_700_000_000, 123_456_789],
    endTime: [4_294_967_296, 999_999_999], // past 2038 and 2^32 seconds: exact 64-bit nanoseconds
    attributes: { obj: { k: 'v', n: 2, nested: { deep: [1, 'x'] } }, bin: new Uint8Array([0, 1, 255]), undef: undefined, nul: null },
    droppedAttributesCount: 3,
    droppedEventsCount: 1,
    droppedLinksCount: 300,
  };
  assert.ok(ourBytes([plain]).equals(sdkBytes([plain])));
});

test('left-out attributes: same bytes as the SDK serializer given spans without them', () => {
  const content = Object.fromEntries(
    CONTENT_ATTRIBUTES.map((k) => [k, JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: long }] }])]),
  );
  const spans = recordSpans(([a]) => {
    const t = a.getTracer('llm-otel', '0.0.0');
    for (let i = 0; i < 3; i++)
      t.startSpan(`chat ${i}`, {
        kind: SpanKind.CLIENT,
        attributes: { 'gen_ai.request.model': 'gpt-4o-mini', ...content, 'gen_ai.usage.input_tokens': i },
      }).end();
  });
  const skip = new Set(CONTENT_ATTRIBUTES);
  const ours = ourBytes(spans, skip);
  assert.ok(ours.equals(sdkBytes(spans.map(withoutContent))));
  for (const s of flattenTraceRequest(decodeTraceRequestProtobuf(ours))) {
    for (const k of CONTENT_ATTRIBUTES) assert.equal(k in s.attributes, false, k);
    assert.equal(s.attributes['gen_ai.request.model'], 'gpt-4o-mini');
  }
});

test('a large batch (buffer growth, multi-byte lengths) matches too', () => {
  const spans = recordSpans(([a, b]) => {
    for (let i = 0; i < 600; i++) {
      const t = (i % 3 ? a : b).getTracer(i % 2 ? 'odd' : 'even');
      t.startSpan(`span ${i}`, {
        attributes: { i, text: 'y'.repeat(i * 7), list: Array.from({ length: i % 5 }, (_, k) => k * 1.5) },
      }).end();
    }
  });
  const ours = ourBytes(spans);
  assert.ok(ours.length > 1_000_000);
  assert.ok(ours.equals(sdkBytes(spans)));
});
