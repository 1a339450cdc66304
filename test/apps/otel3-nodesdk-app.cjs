// App of test/19-otel-3x-line.test.mjs: a CommonJS app on the OpenTelemetry 3.x / 0.3xx line
// (Node >= 22.15) whose own NodeSDK takes llm-otel's parts — OpenAIInstrumentation, and the call-log
// exporter behind the SDK's BatchSpanProcessor beside its OTLP exporter — with no `register`.
// Three chat calls and one span of its own, then shutdown. Runs from test/.otel-3x/, where
// `@opentelemetry/*` is the 3.x line and `llm-otel` links to this repository.
// Environment: TEST_OPENAI_URL, TEST_DB, OTEL_EXPORTER_OTLP_ENDPOINT.
const { trace } = require('@opentelemetry/api');
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { OpenAIInstrumentation } = require('llm-otel');
const { SqliteCallLogExporter } = require('llm-otel/exporter');

async function main() {
  const sdk = new NodeSDK({
    serviceName: 'otel-3x-app',
    // The 3.x processors take an options object (2.x: the exporter itself).
    spanProcessors: [
      new BatchSpanProcessor({ exporter: new SqliteCallLogExporter({ path: process.env.TEST_DB }) }),
      new BatchSpanProcessor({ exporter: new OTLPTraceExporter() }),
    ],
    instrumentations: [new OpenAIInstrumentation()],
  });
  sdk.start();
  process.stdout.write(`api registered by: ${globalThis[Symbol.for('opentelemetry.js.api.1')]?.version}\n`);
  const OpenAI = require('openai');
  const client = new OpenAI({ baseURL: `${process.env.TEST_OPENAI_URL}/v1`, apiKey: 'sk-test-otel-3x', maxRetries: 0 });
  for (let i = 0; i < 3; i++) {
    const r = await client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Question ${i}: which ocean contains Bouvet Island?` }] },
      { headers: { 'x-fixture': 'chat-completions-adds-genai-conventions' } },
    );
    process.stdout.write(`answer: ${r.choices[0].message.content}\n`);
  }
  trace.getTracer('app').startSpan('not an llm call').end();
  // A call's span ends a turn after the app's await resumes: without this pause a shutdown right
  // after the last call loses it (issue 12, item 3).
  await new Promise((r) => setTimeout(r, 50));
  await sdk.shutdown();
  process.stdout.write('shut down\n');
}

// node --test also runs every file under test/: nothing happens without the test's environment.
if (process.env.TEST_OPENAI_URL) main();
