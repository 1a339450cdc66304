// Metrics recorded on the app's thread (when calls are finished there: no background thread, or it
// was lost), with the SDK's metrics modules loaded by the first call rather than at start-up: an
// app that never makes an LLM call never pays for them.

import type { Resource } from '@opentelemetry/resources';
import { errorMessage, warnOnce } from '../core/warn.js';
import { type CallPoint, callPoint } from './genai.js';
import type { MetricsInit, MetricsPipeline } from './pipeline.js';

/** Calls held while the modules load (a burst at start-up); beyond that they are not counted. */
const MAX_WAITING = 10_000;

export function createLazyMetrics(init: MetricsInit, resource: Resource): MetricsPipeline {
  let loaded: Promise<MetricsPipeline | null> | null = null;
  let ready: MetricsPipeline | null = null;
  let waiting: CallPoint[] = [];
  const load = (): Promise<MetricsPipeline | null> =>
    (loaded ??= import('./pipeline.js').then(
      (m) => {
        ready = m.createMetricsPipeline(init, resource, { detached: true });
        for (const p of waiting) ready.metrics.recordPoint(p);
        waiting = [];
        return ready;
      },
      (e: unknown) => {
        warnOnce('metrics:load', `could not load the metrics modules (${errorMessage(e)}); GenAI metrics are not recorded`);
        waiting = [];
        return null;
      },
    ));
  return {
    metrics: {
      record(rec, attrs) {
        if (ready) ready.metrics.record(rec, attrs);
        else if (waiting.length < MAX_WAITING) {
          waiting.push(callPoint(rec, attrs));
          void load();
        }
      },
      recordPoint(p) {
        if (ready) ready.metrics.recordPoint(p);
        else if (waiting.length < MAX_WAITING) {
          waiting.push(p);
          void load();
        }
      },
    },
    flush: async () => {
      if (loaded) await (await loaded)?.flush();
    },
    shutdown: async () => {
      if (loaded) await (await loaded)?.shutdown();
    },
  };
}
