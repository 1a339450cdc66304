// The app's own OpenTelemetry on the 3.x / 0.3xx line, for test/19-otel-3x-line.test.mjs: a NodeSDK
// sending the app's spans over OTLP. Preloaded with `--import` before llm-otel/register, or imported
// by test/apps/otel3-app.mjs after it (one module instance either way).
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace';

export const sdk = process.env.TEST_OPENAI_URL
  ? new NodeSDK({ serviceName: 'otel-3x-app', spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })] })
  : null;
sdk?.start();
