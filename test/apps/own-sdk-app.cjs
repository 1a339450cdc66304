// App of test/26-exporter-in-your-sdk.test.mjs: an app with its own OpenTelemetry pipeline that
// adds llm-otel as parts — OpenAIInstrumentation and the call-log exporter behind a plain
// BatchSpanProcessor — with no `register`. Three chat calls and one span of its own, then shutdown.
// Environment: TEST_OPENAI_URL, TEST_DB, TEST_LLM_OTEL (the package's dist/cjs folder); TEST_PAUSE_MS
// waits that long before shutdown (unset: shutdown right after the last call, as a new user writes it).
const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');

async function main() {
  const { OpenAIInstrumentation } = require(`${process.env.TEST_LLM_OTEL}/src/index.js`);
  const { SqliteCallLogExporter } = require(`${process.env.TEST_LLM_OTEL}/exporter/index.js`);
  const provider = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(new SqliteCallLogExporter({ path: process.env.TEST_DB }))],
  });
  registerInstrumentations({ tracerProvider: provider, instrumentations: [new OpenAIInstrumentation({ captureContent: true })] });
  const OpenAI = require('openai');
  const client = new OpenAI({ baseURL: `${process.env.TEST_OPENAI_URL}/v1`, apiKey: 'sk-test-own-sdk', maxRetries: 0 });
  for (let i = 0; i < 3; i++) {
    const r = await client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Question ${i}: which ocean contains Bouvet Island?` }] },
      { headers: { 'x-fixture': 'chat-completions-adds-genai-conventions' } },
    );
    process.stdout.write(`answer: ${r.choices[0].message.content}\n`);
  }
  provider.getTracer('app').startSpan('not an llm call').end();
  const pause = Number(process.env.TEST_PAUSE_MS ?? 0);
  if (pause > 0) await new Promise((r) => setTimeout(r, pause));
  await provider.shutdown();
  process.stdout.write('shut down\n');
}

// node --test also runs every file under test/: nothing happens without the test's environment.
if (process.env.TEST_OPENAI_URL) main();
