// The app's OWN OpenTelemetry setup, for test/35-context-otel-setup.test.mjs. Preloaded with
// `--import ./ctx-otel-setup.mjs` BEFORE `--import llm-otel/register` (or imported by the app after
// register, TEST_APP_OTEL_LATE=1). Registers a global BasicTracerProvider whose in-memory exporter
// the app reads back, and (TEST_APP_OTEL=full, the default) its own AsyncLocalStorage context
// manager and W3C propagators, as NodeSDK does; TEST_APP_OTEL=provider-only registers just the
// provider. What was accepted is kept on globalThis for the app to print.
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

const KEY = Symbol.for('llm-otel.test.app-otel');
if (process.env.TEST_OPENAI_URL && !globalThis[KEY]) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'my-own-app' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const accepted = { provider: trace.setGlobalTracerProvider(provider) };
  if ((process.env.TEST_APP_OTEL ?? 'full') === 'full') {
    accepted.contextManager = context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    accepted.propagator = propagation.setGlobalPropagator(
      new CompositePropagator({
        propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
      }),
    );
  }
  globalThis[KEY] = { exporter, provider, accepted };
}
