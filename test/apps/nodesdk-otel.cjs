// An app's own OpenTelemetry setup with NodeSDK, CommonJS (required first by nodesdk-app.cjs), as
// README "Already using NodeSDK?" shows it: llm-otel's OpenAIInstrumentation in `instrumentations`,
// its call log behind a plain BatchSpanProcessor and the app's own OTLP exporter in `spanProcessors`.
// Environment: TEST_DB (the call log), TEST_OTLP_URL (the receiver's root; unset: no OTLP).
// node --test also runs every file under test/: nothing happens without the test's environment.
if (process.env.TEST_DB) module.exports = { sdk: setUp() };

function setUp() {
  const { NodeSDK } = require('@opentelemetry/sdk-node');
  const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
  const { OpenAIInstrumentation, SqliteCallLogExporter, stripContent } = require('llm-otel');

  const db = process.env.TEST_DB;
  const spanProcessors = [new BatchSpanProcessor(new SqliteCallLogExporter({ path: db, estimateTokens: 'builtin' }))];
  // Content goes to the call log, not over OTLP (register's default, LLM_OTEL_CAPTURE_CONTENT=local).
  const otlp = () => stripContent(new OTLPTraceExporter({ url: `${process.env.TEST_OTLP_URL}/v1/traces` }));
  if (process.env.TEST_OTLP_URL) spanProcessors.push(new BatchSpanProcessor(otlp()));

  const sdk = new NodeSDK({ instrumentations: [new OpenAIInstrumentation({ captureContent: true, prices: { db } })], spanProcessors });
  sdk.start();
  return sdk;
}
