// App of test/16-metrics.test.mjs: an app with its own OpenTelemetry tracer and meter providers
// (as NodeSDK sets them up) that adds llm-otel's OpenAIInstrumentation, with no `register`. Two
// chat calls (one failing) and a stream; then it prints the GenAI metrics its own reader collected
// as one JSON line.
// Environment: TEST_OPENAI_URL, TEST_LLM_OTEL (the package's dist/cjs folder).
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} = require('@opentelemetry/sdk-metrics');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');

async function main() {
  const { OpenAIInstrumentation } = require(`${process.env.TEST_LLM_OTEL}/src/index.js`);
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const meterProvider = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 })],
  });
  registerInstrumentations({ tracerProvider, meterProvider, instrumentations: [new OpenAIInstrumentation()] });
  const OpenAI = require('openai');
  const client = new OpenAI({ baseURL: `${process.env.TEST_OPENAI_URL}/v1`, apiKey: 'sk-test-own-meter', maxRetries: 0 });
  const messages = [{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }];
  await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
  try {
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages }, { headers: { 'x-scenario': 'error:400' } });
  } catch {
    /* expected */
  }
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages,
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const _ of stream) {
    /* consume */
  }
  // A call's span (and its metrics) is finished after the app's continuation; give it that turn.
  await new Promise((r) => setTimeout(r, 50));
  await meterProvider.forceFlush();
  const metrics = exporter
    .getMetrics()
    .at(-1)
    ?.scopeMetrics.flatMap((s) =>
      s.metrics.map((m) => ({
        scope: s.scope.name,
        name: m.descriptor.name,
        unit: m.descriptor.unit,
        points: m.dataPoints.map((p) => ({
          attributes: p.attributes,
          count: p.value.count,
          sum: p.value.sum,
          boundaries: p.value.buckets.boundaries,
        })),
      })),
    );
  process.stdout.write(`${JSON.stringify({ spans: spans.getFinishedSpans().length, metrics })}\n`);
  await meterProvider.shutdown();
  await tracerProvider.shutdown();
}

// node --test also runs every file under test/: nothing happens without the test's environment.
if (process.env.TEST_OPENAI_URL) main();
