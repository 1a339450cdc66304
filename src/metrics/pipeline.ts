// llm-otel's own metrics: a private MeterProvider (never the global one, as for spans) whose
// periodic reader exports over OTLP/HTTP every OTEL_METRIC_EXPORT_INTERVAL, and on every flush
// (exit, forceFlush). Runs where calls are finished: on llm-otel's background thread
// (src/pipeline/finisher.ts), or on the app's thread when no thread is used (lazy.ts).
//
// Why the SDK's MeterProvider rather than our own histograms: otlp-transformer, which the OTLP
// exporters load anyway, already loads sdk-metrics, and a record costs about a microsecond on
// the thread (docs/benchmarks.md).

import type { Resource } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { INSTRUMENTATION_SCOPE } from '../core/semconv.js';
import { VERSION } from '../core/version.js';
import type { CallMetrics } from '../finish/finish.js';
import type { OtlpTarget } from '../otlp/exporter.js';
import { createOtlpMetricExporter, type MetricTemporality } from '../otlp/metric-exporter.js';
import { type CallPoint, GenAiInstruments } from './genai.js';

/** Where and how metrics go (plain data: it crosses to the background thread). From config.ts. */
export interface MetricsInit {
  target: OtlpTarget;
  temporality: MetricTemporality;
  intervalMs: number;
  timeoutMs: number;
}

export interface MetricsPipeline {
  metrics: CallMetrics & { recordPoint(p: CallPoint): void };
  /** Collects and sends now; resolves when sent or given up on (callers cap the wait). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

export function createMetricsPipeline(init: MetricsInit, resource: Resource, options: { detached?: boolean } = {}): MetricsPipeline {
  const exporter = createOtlpMetricExporter(init.target, init.temporality, options);
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: init.intervalMs,
    exportTimeoutMillis: Math.min(init.timeoutMs, init.intervalMs),
  });
  const provider = new MeterProvider({ resource, readers: [reader] });
  const instruments = new GenAiInstruments(provider.getMeter(INSTRUMENTATION_SCOPE, VERSION));
  return {
    metrics: instruments,
    // The reader's flush exports what it collected, then waits for the exporter's sends.
    flush: () => provider.forceFlush().catch(() => undefined),
    shutdown: () => provider.shutdown().catch(() => undefined),
  };
}
