// `node --import llm-otel/register nodesdk-beside-app.mjs`, with the app's own NodeSDK (nodesdk-own.mjs)
// started before register (preloaded) or after it (by this import). Three chat calls inside an app
// span, one outside any, then `await sdk.shutdown()`; prints the app span's ids as one JSON line.
import { trace } from '@opentelemetry/api';
import OpenAI from 'openai';
import { sdk } from './nodesdk-own.mjs';

// node --test also runs every file under test/: nothing happens without the test's environment.
if (process.env.TEST_OPENAI_URL) {
  const client = new OpenAI({ baseURL: `${process.env.TEST_OPENAI_URL}/v1`, apiKey: 'sk-test-beside', maxRetries: 0 });
  const ask = (i) =>
    client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Question ${i}: which ocean contains Bouvet Island?` }] },
      { headers: { 'x-fixture': 'chat-completions-adds-genai-conventions' } },
    );

  const request = await trace.getTracer('my-app').startActiveSpan('handle-request', async (span) => {
    for (let i = 0; i < 3; i++) await ask(i);
    span.end();
    return span.spanContext();
  });
  await ask(3);
  await sdk.shutdown();
  process.stdout.write(`${JSON.stringify({ request: { traceId: request.traceId, spanId: request.spanId } })}\n`);
}
