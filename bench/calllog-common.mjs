// Shared by the calllog-*.bench.mjs scenarios: a realistic inference span (system + user + assistant
// messages, usage, ids) emitted through the real OTel SDK.

import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SpanKind } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(here, '..');

export function scratchDir(name) {
  const dir = join(ROOT, 'test', '.tmp', `bench-${name}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const words = 'the quick brown fox jumps over the lazy dog while a model answers questions about invoices '.repeat(20);
const USER = words.slice(0, 480);
const ANSWER = words.slice(100, 400);

export function callAttrs(i) {
  return {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': i % 3 === 0 ? 'gpt-4o' : 'gpt-4o-mini',
    'server.address': 'api.openai.com',
    'server.port': 443,
    'llm_otel.api': 'chat.completions',
    'openai.api.type': 'chat_completions',
    'gen_ai.request.temperature': 0.2,
    'gen_ai.request.max_tokens': 256,
    'gen_ai.request.stream': false,
    'gen_ai.response.id': `chatcmpl-${i}`,
    'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
    'gen_ai.response.finish_reasons': ['stop'],
    'gen_ai.usage.input_tokens': 120 + (i % 50),
    'gen_ai.usage.output_tokens': 60 + (i % 20),
    'llm_otel.usage_source': 'provider',
    'llm_otel.status': 'ok',
    'llm_otel.request_id': `req_${i}`,
    'session.id': `sess-${i % 100}`,
    'user.id': `user-${i % 10}`,
    'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: USER }] }]),
    'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: ANSWER }], finish_reason: 'stop' }]),
  };
}

export function makeTracer(processors) {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench' }),
    spanProcessors: processors,
  });
  return { provider, tracer: provider.getTracer('llm-otel') };
}

export function emitCall(tracer, i) {
  const span = tracer.startSpan('chat gpt-4o-mini', { kind: SpanKind.CLIENT, attributes: callAttrs(i) });
  span.end();
}

export function pct(h, p) {
  return h.percentile(p) / 1e6;
}
