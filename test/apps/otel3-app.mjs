// App of test/19-otel-3x-line.test.mjs: an ESM app on the OpenTelemetry 3.x / 0.3xx line under
// `--import llm-otel/register`, whose own NodeSDK (test/apps/otel3-setup.mjs) starts before
// llm-otel (preloaded first) or after it (imported here). Three chat calls inside a span of its
// own, then its SDK's shutdown. Environment: TEST_OPENAI_URL, OTEL_EXPORTER_OTLP_ENDPOINT.
import { trace } from '@opentelemetry/api';
import OpenAI from 'openai';
import { sdk } from './otel3-setup.mjs';

if (sdk) {
  process.stdout.write(`api registered by: ${globalThis[Symbol.for('opentelemetry.js.api.1')]?.version}\n`);
  const client = new OpenAI({ baseURL: `${process.env.TEST_OPENAI_URL}/v1`, apiKey: 'sk-test-otel-3x', maxRetries: 0 });
  await trace.getTracer('app').startActiveSpan('handle request', async (span) => {
    for (let i = 0; i < 3; i++) {
      const r = await client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Question ${i}: which ocean contains Bouvet Island?` }] },
        { headers: { 'x-fixture': 'chat-completions-adds-genai-conventions' } },
      );
      process.stdout.write(`answer: ${r.choices[0].message.content}\n`);
    }
    span.end();
  });
  await sdk.shutdown();
  process.stdout.write('shut down\n');
}
