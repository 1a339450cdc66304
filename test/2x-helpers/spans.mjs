// Helpers for the exporter tests (20-29): real OTel SDK spans carrying the llm-otel attribute
// contract (TEAM.md "Span contract"). Importing this file has no side effects.

import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(here, '..', '..');
export const EXPORTER = join(ROOT, 'dist', 'esm', 'exporter', 'index.js');

/** A fresh scratch directory under test/.tmp, removed by the returned cleanup. */
export function scratch(name) {
  const dir = join(ROOT, 'test', '.tmp', `${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A provider feeding `processor` (or `exporter` through a SimpleSpanProcessor). */
export function makeProvider({ processor, exporter, serviceName = 'test-svc' }) {
  const spanProcessors = [processor ?? new SimpleSpanProcessor(exporter)];
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors,
  });
  return { provider, tracer: provider.getTracer('llm-otel') };
}

export const T0 = Date.UTC(2026, 10, 22, 1, 2, 3, 456); // 2026-11-22T01:02:03.456Z

/** Standard chat-call attributes; `over` replaces/extends them (undefined deletes). */
export function chatAttrs(over = {}) {
  const a = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o-mini',
    'server.address': 'api.openai.com',
    'server.port': 443,
    'llm_otel.api': 'chat.completions',
    'openai.api.type': 'chat_completions',
    'gen_ai.request.temperature': 0,
    'gen_ai.request.top_p': 0.5,
    'gen_ai.request.max_tokens': 100,
    'gen_ai.request.stream': false,
    'gen_ai.response.id': 'chatcmpl-1',
    'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
    'gen_ai.response.finish_reasons': ['stop'],
    'gen_ai.usage.input_tokens': 20,
    'gen_ai.usage.output_tokens': 5,
    'llm_otel.usage_source': 'provider',
    'llm_otel.status': 'ok',
    'llm_otel.request_id': 'req_123',
    'gen_ai.system_instructions': JSON.stringify([{ type: 'text', content: 'Be brief.' }]),
    'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'Hi' }] }]),
    'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'Hello!' }], finish_reason: 'stop' }]),
  };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete a[k];
    else a[k] = v;
  }
  return a;
}

/**
 * Emits one ended span. opts: { name, kind, attrs, start (ms), durationMs, error: message, parent: span }
 */
export function emit(tracer, { name, kind = SpanKind.CLIENT, attrs = chatAttrs(), start = T0, durationMs = 1234.5, error, parent } = {}) {
  const ctx = parent ? trace.setSpan(context.active(), parent) : context.active();
  const op = attrs['gen_ai.operation.name'];
  const span = tracer.startSpan(
    name ?? `${op} ${attrs['gen_ai.request.model'] ?? ''}`.trim(),
    { kind, attributes: attrs, startTime: start },
    ctx,
  );
  if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
  span.end(start + durationMs);
  return span;
}

/** A span left open (for parents); end it yourself. */
export function open(tracer, { name, kind = SpanKind.INTERNAL, attrs, start = T0, parent } = {}) {
  const ctx = parent ? trace.setSpan(context.active(), parent) : context.active();
  return tracer.startSpan(name, { kind, attributes: attrs, startTime: start }, ctx);
}
