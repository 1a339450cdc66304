// An app's own OpenTelemetry setup with NodeSDK, ESM (`node --import ./nodesdk-otel.mjs app.mjs`), as
// README "Already using NodeSDK?" shows it: llm-otel's OpenAIInstrumentation in `instrumentations`,
// its call log behind a plain BatchSpanProcessor and the app's own OTLP exporter in `spanProcessors`.
// ESM imports of `openai` need import-in-the-middle's loader hook, limited to `openai`.
// Environment: TEST_DB (the call log), TEST_OTLP_URL (the receiver's root; unset: no OTLP).
import { register } from 'node:module';

export let sdk;
// node --test also runs every file under test/: nothing happens without the test's environment.
if (process.env.TEST_DB) {
  register('import-in-the-middle/hook.mjs', import.meta.url, { data: { include: ['openai'] } });

  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const { BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  const { OpenAIInstrumentation, SqliteCallLogExporter, stripContent } = await import('llm-otel');

  const db = process.env.TEST_DB;
  const spanProcessors = [new BatchSpanProcessor(new SqliteCallLogExporter({ path: db, estimateTokens: 'builtin' }))];
  // Content goes to the call log, not over OTLP (register's default, LLM_OTEL_CAPTURE_CONTENT=local).
  const otlp = () => stripContent(new OTLPTraceExporter({ url: `${process.env.TEST_OTLP_URL}/v1/traces` }));
  if (process.env.TEST_OTLP_URL) spanProcessors.push(new BatchSpanProcessor(otlp()));

  sdk = new NodeSDK({ instrumentations: [new OpenAIInstrumentation({ captureContent: true, prices: { db } })], spanProcessors });
  sdk.start();
}
