// An app's own NodeSDK with nothing of llm-otel in it: its spans go to its own OTLP receiver
// (TEST_APP_OTLP_URL). Preloaded BEFORE `--import llm-otel/register` (`--import ./nodesdk-own.mjs`), or
// imported by nodesdk-beside-app.mjs after register has started. Either way started once.

import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

export let sdk;
// node --test also runs every file under test/: nothing happens without the test's environment.
if (process.env.TEST_APP_OTLP_URL) {
  sdk = new NodeSDK({
    serviceName: 'own-app',
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${process.env.TEST_APP_OTLP_URL}/v1/traces` }))],
  });
  sdk.start();
}
