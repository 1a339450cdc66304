// OTLP/HTTP forwarding. Prompts and responses stay local unless the user opts in
// (LLM_OTEL_CAPTURE_CONTENT=all): the content attributes are stripped from the spans handed to
// the OTLP exporter, while the SQLite sink still sees them.

import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter as OTLPHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer, TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import * as http from 'node:http';
import * as https from 'node:https';
import { CONTENT_ATTRIBUTES } from '../semconv.js';
import { encodeTraceRequest } from './otlp-proto.js';

const CONTENT = new Set(CONTENT_ATTRIBUTES);

/**
 * `span` without its content attributes. A plain object, not a view: deriving one object from the
 * SDK's span with `Object.create` (as this did) turns that span into a prototype, and V8 then slows
 * every property read on it — the serializer's reads of that span cost ~10 µs more per span.
 */
export function withoutContent(span: ReadableSpan): ReadableSpan {
  let has = false;
  for (const k in span.attributes) if (CONTENT.has(k)) { has = true; break; }
  if (!has) return span;
  const attributes: Record<string, unknown> = {};
  for (const k in span.attributes) if (!CONTENT.has(k)) attributes[k] = span.attributes[k];
  const ctx = span.spanContext();
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => ctx,
    parentSpanContext: span.parentSpanContext,
    startTime: span.startTime,
    endTime: span.endTime,
    status: span.status,
    attributes: attributes as ReadableSpan['attributes'],
    links: span.links,
    events: span.events,
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

export class StripContentExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}
  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans.map(withoutContent), resultCallback);
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

export interface OtlpTls { ca?: Buffer; cert?: Buffer; key?: Buffer }

/**
 * An http(s) agent whose sockets do not keep the process alive: an export in flight to a slow or
 * dead collector must never hold an app that has finished (exit paths flush explicitly, capped).
 */
export function unrefAgentFactory(tls: OtlpTls): (protocol: string) => Promise<http.Agent> {
  return async (protocol: string) => {
    const agent = protocol === 'http:' ? new http.Agent({ keepAlive: true }) : new https.Agent({ keepAlive: true, ...tls });
    const create = (agent as any).createConnection.bind(agent);
    (agent as any).createConnection = (opts: unknown, cb: unknown) => {
      const socket = create(opts, cb);
      socket?.unref?.();
      return socket;
    };
    return agent;
  };
}

/**
 * OTLP/HTTP with protobuf, as the SDK's `exporter-trace-otlp-proto` sends it (same env configuration,
 * transport, retries and response handling), but encoded by otlp-proto.ts: one pass, and content
 * attributes left out while writing when `stripContent` — no copy of each span.
 */
class ProtoTraceExporter extends OTLPExporterBase<ReadableSpan[]> {
  constructor(options: Record<string, unknown>, stripContent: boolean) {
    const skip = stripContent ? CONTENT : undefined;
    const serializer = {
      serializeRequest: (spans: ReadableSpan[]) => encodeTraceRequest(spans, skip),
      deserializeResponse: (data: Uint8Array) => ProtobufTraceSerializer.deserializeResponse(data),
    };
    super(createOtlpHttpExportDelegate(
      convertLegacyHttpOptions(options as any, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
      serializer, 'otlp_http_span_exporter', TraceExporterMetricsHelper, undefined,
    ));
  }
}

/** The OTLP exporter for the configured protocol; endpoint, headers and timeout come from OTEL_* env. */
export function createOtlpExporter(protocol: 'http/protobuf' | 'http/json', stripContent: boolean, tls: OtlpTls = {}): SpanExporter {
  const options = { httpAgentOptions: unrefAgentFactory(tls) } as any;
  if (protocol !== 'http/json') return new ProtoTraceExporter(options, stripContent);
  const exporter: SpanExporter = new OTLPHttpJsonExporter(options);
  return stripContent ? new StripContentExporter(exporter) : exporter;
}
