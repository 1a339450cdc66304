// Settings the patched openai methods read on every call. Kept on a process-global slot
// (Symbol.for) so that whichever copy of llm-otel (ESM or CJS build) patched a given openai module,
// the wrappers all follow the one configuration that start()/OpenAIInstrumentation installed.

import type { Tracer } from '@opentelemetry/api';
import type { ContentOptions } from '../content/index.js';
import type { TokenEstimator } from '../finish/estimate.js';
import type { CallMetrics, CallRecord, FinishEnv } from '../finish/finish.js';
import type { ReservedIdGenerator } from '../finish/ids.js';
import { flushDeferred } from './deferred.js';

export type { TokenEstimator } from '../finish/estimate.js';

export interface InstrumentationRuntime {
  enabled: boolean;
  tracer(): Tracer;
  /** Put content attributes on spans (stripping for OTLP happens in the exporter pipeline). */
  captureContent: boolean;
  content: ContentOptions;
  /** Inject stream_options.include_usage for OpenAI streams that did not choose. */
  streamUsage: 'off' | 'inject';
  estimator?: TokenEstimator;
  /** Prices a finished call's span (OpenAIInstrumentation's `prices`; start() prices in a processor). */
  costOf?: FinishEnv['costOf'];
  /** Called when a call starts (set by start(): the first one starts llm-otel's thread). */
  callStarted?: () => void;
  /**
   * Set only by start() on llm-otel's own provider (default sampler): LLM spans are then created
   * after the call, with ids reserved up front.
   */
  reservedIds?: ReservedIdGenerator;
  /**
   * Set by start() when the writer thread can finish calls: takes a finished call's record (false:
   * not taken, finish it here).
   */
  offload?: (rec: CallRecord) => boolean;
  /** GenAI client metrics of calls finished on this thread (finish.ts records them). */
  metrics?: CallMetrics;
  /**
   * Metrics are on (here or on the writer thread): calls that are not sampled still leave a slim
   * record, so the metrics count every call.
   */
  recordUnsampled?: boolean;
  /** Calls whose span has not ended (streams not yet consumed, requests in flight). */
  open: Set<{ abandon(reason: string): void }>;
}

const KEY = Symbol.for('llm-otel.runtime');
const g = globalThis as unknown as Record<symbol, InstrumentationRuntime | undefined>;

export function getRuntime(): InstrumentationRuntime | undefined {
  return g[KEY];
}

export function setRuntime(rt: InstrumentationRuntime | undefined): void {
  g[KEY] = rt;
}

/** Ends every span still open (at shutdown): a stream never consumed still leaves a record. */
export function abandonOpenCalls(reason: string): void {
  const rt = g[KEY];
  if (rt) {
    for (const c of [...rt.open]) {
      try {
        c.abandon(reason);
      } catch {
        /* never throw at exit */
      }
    }
  }
  flushDeferred();
}

/**
 * Marks a tracer provider llm-otel put behind the OpenTelemetry API's fallback (the Vercel AI SDK
 * bridge): it is not the app's tracing, so calls need not carry a context for it. Symbol.for: the
 * ESM and CJS builds of llm-otel in one process see the same mark.
 */
export const LLM_OTEL_PROVIDER: unique symbol = Symbol.for('llm-otel.tracer-provider') as never;
