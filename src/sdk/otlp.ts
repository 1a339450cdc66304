// OTLP/HTTP forwarding. Prompts and responses stay local unless the user opts in
// (LLM_OTEL_CAPTURE_CONTENT=all): the content attributes are stripped from the spans handed to
// the OTLP exporter, while the SQLite sink still sees them.

import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter as OTLPHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPHttpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CONTENT_ATTRIBUTES } from '../semconv.js';

const CONTENT = new Set(CONTENT_ATTRIBUTES);

/** A read-only view of `span` without content attributes (no copy of the span itself). */
export function withoutContent(span: ReadableSpan): ReadableSpan {
  let has = false;
  for (const k in span.attributes) if (CONTENT.has(k)) { has = true; break; }
  if (!has) return span;
  const attributes: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(span.attributes)) if (!CONTENT.has(k)) attributes[k] = v;
  return Object.create(span, { attributes: { value: Object.freeze(attributes), enumerable: true } });
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

/** The OTLP exporter for the configured protocol; endpoint, headers and timeout come from OTEL_* env. */
export function createOtlpExporter(protocol: 'http/protobuf' | 'http/json', stripContent: boolean): SpanExporter {
  const exporter: SpanExporter = protocol === 'http/json' ? new OTLPHttpJsonExporter() : new OTLPHttpProtoExporter();
  return stripContent ? new StripContentExporter(exporter) : exporter;
}
