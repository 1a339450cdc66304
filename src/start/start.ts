// start(): the whole pipeline in one call — context manager, a private tracer provider for
// llm-otel's spans (SQLite call log + OTLP), and the openai instrumentation.
//
// Why a private provider rather than the global one: an app that already registered its own
// OpenTelemetry SDK keeps it untouched (OTel JS 2.x cannot add processors to a built provider), and
// an app that registers one after us does not find its registration refused. Our spans still join
// the app's traces: parents come from the global context, which both providers share.

import { type Context, diag } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { defaultResource, detectResources, envDetector } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { CallLogSpanProcessor } from '../../exporter/index.js';
import { LangChainBridge } from '../bridges/langchain/hook.js';
import { OpenAIAgentsBridge } from '../bridges/openai-agents/index.js';
import { startVercelAiBridge } from '../bridges/vercel-ai/index.js';
import { type LlmOtelConfig, loadConfig } from '../config/config.js';
import { errorMessage, warnOnce } from '../core/warn.js';
import { CostSpanProcessor, createPriceSource, type PriceFile, readPriceFile } from '../cost/index.js';
import { tokenEstimator } from '../finish/estimate.js';
import { type CallMetrics, emitSpan, forTransfer } from '../finish/finish.js';
import { ReservedIdGenerator } from '../finish/ids.js';
import { flushDeferred } from '../instrumentation/deferred.js';
import { OpenAIInstrumentation } from '../instrumentation/index.js';
import { abandonOpenCalls, getRuntime } from '../instrumentation/runtime.js';
import { createLazyMetrics } from '../metrics/lazy.js';
import type { MetricsInit } from '../metrics/pipeline.js';
import { createDeferredOtlpExporter } from '../otlp/deferred.js';
import type { OtlpTarget } from '../otlp/exporter.js';
import { warnExitFlushBusy, warnExitFlushTimedOut } from '../otlp/health.js';
import type { FinisherInit } from '../pipeline/finisher.js';
import { createPipelineThread, type PipelineThread } from '../pipeline/thread.js';
import { inLlmOtelThread } from '../thread/protocol.js';
import { registrationApi } from './app-api.js';
import { capped, installExitHooks } from './exit-hooks.js';

export interface StartOptions {
  /** Overrides of what the environment says (README, "Configuration"). */
  config?: Partial<LlmOtelConfig>;
  /** Environment to read instead of process.env. */
  env?: Record<string, string | undefined>;
  /** More span processors for llm-otel's spans (they run after the built-in ones). */
  spanProcessors?: SpanProcessor[];
  /** Flush on exit/beforeExit/SIGTERM/SIGINT (default true). */
  exitHooks?: boolean;
  /**
   * Finish LLM calls on the call log's writer thread (default true when possible: a call log, the
   * default sampler, no extra spanProcessors — those run on this thread and must see LLM spans).
   */
  offload?: boolean;
}

export interface LlmOtelHandle {
  readonly config: LlmOtelConfig;
  readonly enabled: boolean;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

const HANDLE_KEY = Symbol.for('llm-otel.handle');
const g = globalThis as unknown as Record<symbol, LlmOtelHandle | undefined>;

/** Counts span ends so beforeExit only flushes when there is something new. */
class DirtyTracker implements SpanProcessor {
  ended = 0;
  onStart(_s: Span, _c: Context): void {}
  onEnd(_s: ReadableSpan): void {
    this.ended++;
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function otlpTarget(config: LlmOtelConfig): OtlpTarget {
  return { protocol: config.otlpProtocol, endpoint: config.otlpEndpoint, headers: config.otlpHeaders, tls: config.otlpTls ?? {} };
}

function metricsInit(config: LlmOtelConfig): MetricsInit | null {
  if (!config.metrics || !config.metricsOtlp) return null;
  const m = config.metricsOtlp;
  return {
    target: { protocol: m.protocol, endpoint: m.endpoint, headers: m.headers, tls: m.tls ?? {} },
    temporality: m.temporality,
    intervalMs: m.intervalMs,
    timeoutMs: m.timeoutMs,
  };
}

function noopHandle(config: LlmOtelConfig): LlmOtelHandle {
  return { config, enabled: false, forceFlush: async () => {}, shutdown: async () => {} };
}

export function start(options: StartOptions = {}): LlmOtelHandle {
  // The call log's writer thread inherits nothing, but never start a second pipeline inside it.
  if (inLlmOtelThread()) return noopHandle(loadConfig({}));
  const existing = g[HANDLE_KEY];
  if (existing) return existing; // one pipeline per process, whichever copy (ESM/CJS) started it
  let config: LlmOtelConfig;
  try {
    config = { ...loadConfig(options.env ?? process.env), ...(options.config ?? {}) };
  } catch (e) {
    warnOnce('start:config', `could not read configuration (${errorMessage(e)}); llm-otel is off`);
    return noopHandle(loadConfig({}));
  }
  if (!config.enabled) return noopHandle(config);
  try {
    const handle = startPipeline(config, options);
    g[HANDLE_KEY] = handle;
    return handle;
  } catch (e) {
    warnOnce('start:pipeline', `could not start (${errorMessage(e)}); the app runs without llm-otel`);
    return noopHandle(config);
  }
}

function startPipeline(config: LlmOtelConfig, options: StartOptions): LlmOtelHandle {
  // Without a context manager, context silently does nothing (a known failure of peers).
  const api = registrationApi();
  const cm = new AsyncLocalStorageContextManager().enable();
  if (!api.context.setGlobalContextManager(cm)) cm.disable(); // the app's own manager stays in charge
  api.propagation.setGlobalPropagator(
    new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  ); // refused (with a diag message) if the app registered one: theirs wins

  const resource = defaultResource().merge(detectResources({ detectors: [envDetector] }));
  const processors: SpanProcessor[] = [];
  const dirty = new DirtyTracker();
  processors.push(dirty);
  // Cost goes on the span while it ends, so the DB row and the OTLP span carry the same price.
  let overrides: PriceFile | null = null;
  if (config.pricesFile) {
    try {
      overrides = readPriceFile(config.pricesFile);
    } catch (e) {
      warnOnce('config:LLM_OTEL_PRICES', `LLM_OTEL_PRICES: ${errorMessage(e)}; using the built-in prices`);
    }
  }
  const prices = createPriceSource({ path: config.db, overrides });
  processors.push(new CostSpanProcessor({ book: () => prices.book() }));
  // LLM calls are finished on the writer thread (src/pipeline/finisher.ts) unless something on this
  // thread must see their spans: extra span processors, or a sampler that decides at span creation.
  const offload =
    (options.offload ?? config.writerThread) && config.tracesSampler === 'parentbased_always_on' && !options.spanProcessors?.length;
  const metrics = metricsInit(config);
  const finisher: FinisherInit | undefined = offload
    ? {
        captureContent: config.captureContent !== 'none',
        maxContentChars: config.maxContentChars,
        redact: { mode: config.redact, patterns: config.redactPatterns },
        keepContext: config.keepContext ?? [],
        estimateTokens: true,
        prices: { path: config.db, overrides },
        otlp: config.otlp ? { ...otlpTarget(config), stripContent: config.captureContent !== 'all' } : null,
        metrics,
        sdkSpans: config.spanLimitsSet === true,
      }
    : undefined;
  // token_estimate per message row is computed on the background thread, never on the app's.
  const callLogOptions = config.db
    ? { path: config.db, sampleRate: config.sampleRate, jsonl: config.jsonl ?? undefined, estimateTokens: 'builtin' as const }
    : null;
  // The pipeline thread finishes calls, writes rows and exports them (src/pipeline/job.ts); without
  // a call log it only finishes and exports.
  // Fleet mode: the call log is the spool, and a shipper on the same thread copies it to PostgreSQL.
  const fleet = config.fleetUrl
    ? { url: config.fleetUrl, spool: config.db, sampleRate: config.sampleRate, estimateTokens: 'builtin' as const }
    : null;
  const pipeline: PipelineThread | null =
    finisher && (callLogOptions || fleet || config.otlp || metrics)
      ? createPipelineThread({ callLog: callLogOptions, finisher, fleet })
      : null;
  if (fleet && !pipeline) {
    warnOnce(
      'fleet:no-thread',
      `fleet mode needs llm-otel's background thread (LLM_OTEL_WRITER_THREAD, the default sampler, no extra span processors); calls stay in ${config.db ?? 'no spool'} and are not shipped to PostgreSQL`,
    );
  }
  let callLog: CallLogSpanProcessor | undefined;
  if (callLogOptions || (fleet && pipeline)) {
    // Spans finished on this thread (agent/tool runs, eager LLM spans) go to the same thread.
    callLog = new CallLogSpanProcessor(pipeline ? { sink: pipeline } : callLogOptions!);
    processors.push(callLog);
  }
  const threadOnly = pipeline && !callLog ? pipeline : undefined;
  let otlpExporter: SpanExporter | undefined;
  let otlpProcessor: SpanProcessor | undefined;
  if (config.otlp) {
    // Detached: this thread's BatchSpanProcessor must not hold a finished app while an export waits.
    otlpExporter = createDeferredOtlpExporter(otlpTarget(config), config.captureContent !== 'all');
    otlpProcessor = new BatchSpanProcessor(otlpExporter);
    processors.push(otlpProcessor);
  }
  processors.push(...(options.spanProcessors ?? []));

  const ids = new ReservedIdGenerator();
  const provider = new BasicTracerProvider({ resource, spanProcessors: processors, idGenerator: ids });

  const instrumentation = new OpenAIInstrumentation({
    enabled: false,
    captureContent: config.captureContent !== 'none',
    maxContentChars: config.maxContentChars,
    redact: { mode: config.redact, patterns: config.redactPatterns },
    keepContext: config.keepContext ?? [],
    streamUsage: config.streamUsage,
    estimator: tokenEstimator,
    prices: false, // CostSpanProcessor prices on this provider (and the finisher on the thread)
    metrics: false, // llm-otel's own meter provider below, never the app's
  });
  instrumentation.setTracerProvider(provider);
  instrumentation.enable();
  // Framework bridges create their runs through the runtime the instrumentation just installed.
  const agentsBridge = config.openaiAgents ? new OpenAIAgentsBridge() : undefined;
  agentsBridge?.enable();
  // Framework bridges: hooks that do nothing until the app loads the framework.
  const langchain = config.langchain ? new LangChainBridge() : undefined;
  langchain?.enable();
  // With the default sampler (parent-based always-on) the sampling decision is known up front —
  // the parent's flag, or sampled at the root — which is what the placeholder context carries, so
  // LLM spans can be built after the call (finish/ids.ts). Any other sampler: eager spans.
  const rt = getRuntime();
  if (rt && config.tracesSampler === 'parentbased_always_on') rt.reservedIds = ids;
  // The Vercel AI SDK's telemetry spans (experimental_telemetry) become calls and runs; nothing is
  // loaded for it, and no global provider is registered (bridges/vercel-ai/install.ts).
  let stopVercelAi: (() => void) | null = null;
  if (config.vercelAi) {
    try {
      stopVercelAi = startVercelAiBridge();
    } catch (e) {
      warnOnce('start:vercel-ai', `could not set up the Vercel AI SDK bridge (${errorMessage(e)}); its calls are not recorded`);
    }
  }
  // Metrics of calls finished on this thread (no writer thread, or it was lost); the writer thread
  // records its own. Loaded with the first such call.
  const appMetrics = metrics ? createLazyMetrics(metrics, resource) : undefined;
  let metricsRecorded = 0;
  if (rt && appMetrics) {
    const m: CallMetrics = appMetrics.metrics;
    rt.metrics = {
      record(rec, attrs) {
        metricsRecorded++;
        m.record(rec, attrs);
      },
    };
    rt.recordUnsampled = true;
  }
  const finishing = offload && rt?.reservedIds && pipeline?.finishesCalls ? pipeline : undefined;
  if (rt && finishing) {
    rt.offload = (rec) => finishing.pushCall(forTransfer(rec));
    // The writer thread failed before taking them: finish here, through this provider.
    finishing.onOrphanRecord = (rec) => emitSpan(rec, rt);
  }
  // No call, no thread; but the first call starts it, so it loads its code while that call runs
  // (a thread still starting holds every finished call: a crash then would lose them all).
  const sinkToStart = pipeline ?? (callLog?.sink as { start?: () => void } | undefined);
  if (rt && sinkToStart?.start) {
    rt.callStarted = () => {
      rt.callStarted = undefined;
      try {
        sinkToStart.start?.();
      } catch {
        /* never into the app */
      }
    };
  }
  const ended = () => dirty.ended + (finishing?.callsPushed ?? 0) + metricsRecorded;
  /** Everything: rows on disk and spans sent (the handle's forceFlush). */
  const flushAll = async (): Promise<void> => {
    // Calls finished on this thread wait for a setImmediate batch: run it now, so a forceFlush()
    // right after a call (a serverless handler's last line) includes that call.
    try {
      flushDeferred();
    } catch {
      /* never into the app */
    }
    // First, synchronously (bounded like the exit drain), until the writer thread has finished
    // every call it was handed: the capped waits of an exit then cover only the network. (With a
    // call log, provider.forceFlush() below does this as well.)
    try {
      threadOnly?.flushSync();
    } catch {
      /* never into the app */
    }
    // Both, whatever either does: a rejection of one must not end the wait for the other.
    await Promise.allSettled([
      // The processor's flush does not wait for an export its timer already started; the exporter's does.
      provider.forceFlush().then(() => otlpExporter?.forceFlush?.()),
      finishing?.flushExport(),
      appMetrics?.flush(),
    ]);
  };
  /** OTLP only, at exit: the rows are the exit drain's, which must not wait for the DB a second time. */
  const flushSpans = async (): Promise<void> => {
    try {
      flushDeferred();
    } catch {
      /* never into the app */
    }
    // The writer thread first finishes the calls it was handed (bounded; it may still be starting).
    try {
      finishing?.settle();
    } catch {
      /* never into the app */
    }
    await Promise.allSettled([
      (otlpProcessor?.forceFlush() ?? Promise.resolve()).then(() => otlpExporter?.forceFlush?.()),
      finishing?.flushExport(),
      appMetrics?.flush(),
    ]);
  };

  let flushedAt = 0;
  const capMs = 1000;
  let shutDown: Promise<void> | undefined;
  const removeHooks =
    options.exitHooks === false
      ? () => {}
      : installExitHooks({
          abandonOpen: () => abandonOpenCalls('process exiting'),
          drainSync: () => {
            callLog?.flushSync();
            threadOnly?.flushSync();
          },
          // The thread keeps running: the signal's capped OTLP flush follows.
          drainFinal: () => {
            callLog?.sink.drainOnExit(true);
            threadOnly?.drainOnExit(true);
          },
          flush: () => {
            flushedAt = ended();
            return flushSpans();
          },
          dirty: () => ended() !== flushedAt,
          capMs,
          // Blame the endpoint only when the thread was waiting on it, not busy or stuck itself.
          flushTimedOut:
            config.otlp || metrics
              ? () => {
                  if (finishing && !finishing.idle) {
                    warnExitFlushBusy(capMs);
                    return;
                  }
                  const targets: Parameters<typeof warnExitFlushTimedOut>[0] = [];
                  if (config.otlp) targets.push({ url: config.otlpEndpoint, signal: 'traces' });
                  if (metrics) targets.push({ url: metrics.target.endpoint, signal: 'metrics' });
                  warnExitFlushTimedOut(targets, capMs);
                }
              : undefined,
        });

  return {
    config,
    enabled: true,
    forceFlush: flushAll,
    shutdown(): Promise<void> {
      shutDown ??= (async () => {
        abandonOpenCalls('shutdown');
        instrumentation.disable();
        stopVercelAi?.();
        agentsBridge?.disable();
        langchain?.disable();
        removeHooks();
        if (finishing) {
          if (rt?.offload) rt.offload = undefined;
          await capped(finishing.flushExport(), capMs);
        }
        try {
          await provider.shutdown();
        } catch (e) {
          diag.warn(`llm-otel shutdown: ${errorMessage(e)}`);
        }
        if (appMetrics) await capped(appMetrics.shutdown(), capMs);
        try {
          threadOnly?.shutdown();
        } catch {
          /* never into the app */
        }
        prices.close();
        if (g[HANDLE_KEY]?.shutdown === this.shutdown) g[HANDLE_KEY] = undefined;
      })();
      return shutDown;
    },
  };
}
