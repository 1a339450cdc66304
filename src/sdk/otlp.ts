// OTLP/HTTP forwarding. Prompts and responses stay local unless the user opts in
// (LLM_OTEL_CAPTURE_CONTENT=all): the content attributes are stripped from the spans handed to
// the OTLP exporter, while the SQLite sink still sees them.

import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter as OTLPHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPHttpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import * as http from 'node:http';
import * as https from 'node:https';
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

/** The OTLP exporter for the configured protocol; endpoint, headers and timeout come from OTEL_* env. */
export function createOtlpExporter(protocol: 'http/protobuf' | 'http/json', stripContent: boolean, tls: OtlpTls = {}): SpanExporter {
  const options = { httpAgentOptions: unrefAgentFactory(tls) } as any;
  const exporter: SpanExporter = protocol === 'http/json' ? new OTLPHttpJsonExporter(options) : new OTLPHttpProtoExporter(options);
  return stripContent ? new StripContentExporter(exporter) : exporter;
}
