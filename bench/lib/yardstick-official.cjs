// `node --require ./bench/lib/yardstick-official.cjs app.cjs`: the official
// @opentelemetry/instrumentation-openai set up as a NodeSDK would set it up (the SDK package itself is
// not a dependency here): AsyncLocalStorage context manager, W3C propagators, resource from the
// defaults and the environment, a global tracer provider with BatchSpanProcessor → OTLP/protobuf (the
// endpoint from OTEL_EXPORTER_OTLP_ENDPOINT), the instrumentation registered through
// require-in-the-middle, and a flush when the app's event loop runs dry (what an app's
// `sdk.shutdown()` does), so the spans of its last calls are exported before it ends.
'use strict';
const { context, propagation, trace, metrics } = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { CompositePropagator, W3CTraceContextPropagator, W3CBaggagePropagator } = require('@opentelemetry/core');
const { defaultResource, detectResources, envDetector } = require('@opentelemetry/resources');
const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { OpenAIInstrumentation } = require('@opentelemetry/instrumentation-openai');

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
const provider = new BasicTracerProvider({
  resource: defaultResource().merge(detectResources({ detectors: [envDetector] })),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
});
trace.setGlobalTracerProvider(provider);
registerInstrumentations({ instrumentations: [new OpenAIInstrumentation()], tracerProvider: provider, meterProvider: metrics.getMeterProvider() });

let done = false;
process.once('beforeExit', () => {
  if (done) return;
  done = true;
  provider.shutdown().catch((e) => console.error(`[yardstick-official] shutdown failed: ${e.message}`));
});
