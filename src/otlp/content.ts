// Content kept local: a span as it may leave the machine, without its content attributes (prompts,
// responses, system instructions, tool definitions). llm-otel's own OTLP exporter sends spans this
// way unless LLM_OTEL_CAPTURE_CONTENT=all; stripContent() gives any exporter of an app's own
// pipeline (NodeSDK) the same, while the call log behind another processor still gets the content.
// Light on purpose: the public API loads it.

import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { CONTENT_ATTRIBUTES } from '../core/semconv.js';

/** The content attributes (a set, for the OTLP encoder's skip list too). */
export const CONTENT: ReadonlySet<string> = new Set(CONTENT_ATTRIBUTES);

/**
 * `span` without its content attributes. A plain object, not a view: deriving one object from the
 * SDK's span with `Object.create` (as this did) turns that span into a prototype, and V8 then slows
 * every property read on it, the serializer's included.
 */
export function withoutContent(span: ReadableSpan): ReadableSpan {
  let has = false;
  for (const k in span.attributes)
    if (CONTENT.has(k)) {
      has = true;
      break;
    }
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

/** `exporter`, handed every span without its content attributes (README, "Already using NodeSDK?"). */
export function stripContent(exporter: SpanExporter): SpanExporter {
  return {
    export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
      exporter.export(spans.map(withoutContent), resultCallback);
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}
