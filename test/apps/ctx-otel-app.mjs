// ESM app of test/35-context-otel-setup.test.mjs: an app with its own OpenTelemetry SDK
// (ctx-otel-setup.mjs) making LLM calls inside its own spans. Prints one JSON line with the app's
// span ids and what its own exporter received. Environment: TEST_OPENAI_URL, TEST_APP_OTEL_LATE.

import { trace } from '@opentelemetry/api';
import { withAgent, withLlmContext } from 'llm-otel';
import OpenAI from 'openai';

const BOUVET = [{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }];
const FIXTURE = { headers: { 'x-fixture': 'chat-completions-adds-genai-conventions' } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  if (process.env.TEST_APP_OTEL_LATE) await import('./ctx-otel-setup.mjs'); // registers after llm-otel
  const own = globalThis[Symbol.for('llm-otel.test.app-otel')];
  const client = new OpenAI({ baseURL: `${process.env.TEST_OPENAI_URL}/v1`, apiKey: 'sk-test-context', maxRetries: 0 });
  const ask = (step) =>
    withLlmContext({ metadata: { step } }, () => client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET }, FIXTURE));
  const tracer = trace.getTracer('my-app');
  const ids = {};

  await tracer.startActiveSpan('handle-request', async (request) => {
    ids.request = request.spanContext();
    await withLlmContext({ sessionId: 'own-otel', userId: 'u-own' }, async () => {
      await sleep(1);
      await ask('in-app-span');
      await withAgent('own-agent', async () => {
        await tracer.startActiveSpan('app-db-query', async (db) => {
          ids.db = db.spanContext();
          await sleep(1);
          await ask('in-app-span-in-agent');
          db.end();
        });
      });
    });
    request.end();
  });
  await ask('outside');

  await own.provider.forceFlush();
  const appSpans = own.exporter.getFinishedSpans().map((s) => ({
    name: s.name,
    scope: s.instrumentationScope.name,
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    parentSpanId: s.parentSpanContext?.spanId ?? null,
  }));
  process.stdout.write(
    `${JSON.stringify({
      accepted: own.accepted,
      request: { traceId: ids.request.traceId, spanId: ids.request.spanId },
      db: { traceId: ids.db.traceId, spanId: ids.db.spanId },
      appSpans,
    })}\n`,
  );
}

// node --test also runs every file under test/: nothing happens without the test's environment.
if (process.env.TEST_OPENAI_URL) await main();
