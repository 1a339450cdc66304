// The background thread's half of an LLM call: it receives the plain record the app's thread
// captured (src/finish/finish.ts) and does everything else — summary, content conversion and
// redaction, token estimates, cost, the OTel span, and hands it to the call log and the OTLP
// exporter. The app's thread keeps only the capture (ids, times, references) and one structured
// clone per batch.
//
// Why: that work is several times the capture's cost (docs/benchmarks.md), and an app's event loop
// is what users feel (with a spare core, this work never touches it).

import {
  type Attributes,
  type Context,
  type HrTime,
  type SpanContext,
  SpanKind,
  type SpanStatus,
  SpanStatusCode,
  TraceFlags,
} from '@opentelemetry/api';
import { hrTimeDuration, type InstrumentationScope, isAttributeValue, millisToHrTime, TraceState } from '@opentelemetry/core';
import { defaultResource, detectResources, envDetector, type Resource } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createRedactor, type RedactOptions } from '../content/index.js';
import { INSTRUMENTATION_SCOPE } from '../core/semconv.js';
import { VERSION } from '../core/version.js';
import { errorMessage, warnOnce } from '../core/warn.js';
import { CostSpanProcessor, costAttributesOrNone, createPriceSource, type PriceBook, type PriceFile } from '../cost/index.js';
import { tokenEstimator } from '../finish/estimate.js';
import {
  type CallRecord,
  callAttributes,
  emitSpan,
  emitWithAttributes,
  endAttributes,
  type FinishEnv,
  recordMetrics,
  recordUnsampled,
  spanName,
} from '../finish/finish.js';
import { ReservedIdGenerator } from '../finish/ids.js';
import { createMetricsPipeline, type MetricsInit, type MetricsPipeline } from '../metrics/pipeline.js';
import { createOtlpExporter, type OtlpTarget } from '../otlp/exporter.js';

/** What the writer thread needs to finish calls (plain data: it crosses the thread boundary). */
export interface FinisherInit {
  captureContent: boolean;
  maxContentChars: number;
  redact: RedactOptions;
  /** Context fields stored unredacted (LLM_OTEL_KEEP_CONTEXT). */
  keepContext?: string[];
  estimateTokens: boolean;
  prices: { path: string | null; overrides: PriceFile | null };
  otlp: (OtlpTarget & { stripContent: boolean }) | null;
  /** GenAI client metrics over OTLP; null: off. */
  metrics?: MetricsInit | null;
  /** Build spans with the SDK's Span (it applies OTEL_*ATTRIBUTE*_LIMIT settings); else directly. */
  sdkSpans?: boolean;
}

export interface Finisher {
  finish(rec: CallRecord): void;
  /** Sends what the OTLP exporters hold, spans and metrics (resolves when sent or given up on). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Hands the finished span to the call log of this thread (`push` returns false when dropped). */
class LocalSinkProcessor implements SpanProcessor {
  constructor(private readonly onSpan: (span: ReadableSpan) => void) {}
  onStart(_s: Span, _c: Context): void {}
  onEnd(span: ReadableSpan): void {
    this.onSpan(span);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * `inDb` runs a step that may use the call log's SQLite file (the price book), so the thread can
 * tell it is inside SQLite then (src/thread/host.ts must not terminate it there). `contentJson`
 * is told each message list put in a content attribute, with its JSON text (FinishEnv.contentJson).
 */
export function createFinisher(
  init: FinisherInit,
  onSpan: (span: ReadableSpan) => void,
  inDb: <T>(step: () => T) => T = (step) => step(),
  contentJson?: FinishEnv['contentJson'],
): Finisher {
  const source = createPriceSource({ path: init.prices.path, overrides: init.prices.overrides, busyTimeoutMs: 250 });
  const prices = { book: () => inDb(() => source.book()), close: () => inDb(() => source.close()) };
  const local = new LocalSinkProcessor(onSpan);
  const processors: SpanProcessor[] = [new CostSpanProcessor({ book: () => prices.book() }), local];
  let exporter: SpanExporter | undefined;
  let batch: SpanProcessor | undefined;
  if (init.otlp) {
    const { tls, stripContent, ...target } = init.otlp;
    // Buffers arrive as plain Uint8Arrays.
    const asBuf = (b: Uint8Array | undefined) => (b ? Buffer.from(b) : undefined);
    exporter = createOtlpExporter({ ...target, tls: { ca: asBuf(tls.ca), cert: asBuf(tls.cert), key: asBuf(tls.key) } }, stripContent);
    // Exports every half second (the SDK default is 5 s): this thread is not the app's, and spans
    // sent during the run leave little for the capped flush at exit.
    batch = new BatchSpanProcessor(exporter, { scheduledDelayMillis: 500 });
    processors.push(batch);
  }
  const ids = new ReservedIdGenerator();
  // The same resource as the app thread's provider (same environment) and the sampler the app
  // thread already applied: only sampled calls are sent here.
  const resource = defaultResource().merge(detectResources({ detectors: [envDetector] }));
  const provider = new BasicTracerProvider({
    resource,
    idGenerator: ids,
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    spanProcessors: processors,
  });
  const tracer = provider.getTracer(INSTRUMENTATION_SCOPE, VERSION);
  let metrics: MetricsPipeline | null = null;
  if (init.metrics) {
    const { target, ...rest } = init.metrics;
    const tls = target.tls;
    const asBuf = (b: Uint8Array | undefined) => (b ? Buffer.from(b) : undefined);
    try {
      metrics = createMetricsPipeline(
        { ...rest, target: { ...target, tls: { ca: asBuf(tls.ca), cert: asBuf(tls.cert), key: asBuf(tls.key) } } },
        resource,
      );
    } catch (e) {
      warnOnce('metrics:start', `could not start GenAI metrics (${errorMessage(e)}); spans and rows are unaffected`);
    }
  }
  const env: FinishEnv = {
    tracer: () => tracer,
    reservedIds: ids,
    captureContent: init.captureContent,
    content: { redact: createRedactor(init.redact), maxChars: init.maxContentChars, keepContext: new Set(init.keepContext ?? []) },
    estimator: init.estimateTokens ? tokenEstimator : undefined,
    metrics: metrics?.metrics,
    contentJson,
  };
  warmUp(env, () => prices.book());
  const direct = init.sdkSpans
    ? null
    : new DirectSpans(resource, { name: INSTRUMENTATION_SCOPE, version: VERSION, schemaUrl: undefined }, () => prices.book(), [
        local,
        ...(batch ? [batch] : []),
      ]);
  return {
    finish(rec) {
      try {
        if (rec.unsampled) recordUnsampled(rec, env);
        else if (direct) direct.emit(rec, env);
        else emitSpan(rec, env);
      } catch (e) {
        warnOnce('offload:finish', `could not finish an LLM call on the writer thread (${errorMessage(e)})`);
      }
    },
    // The processor's flush sends what it holds but does not wait for an export its timer already
    // started; the exporter's own flush does.
    flush: () =>
      Promise.all([
        provider
          .forceFlush()
          .catch(() => undefined)
          .then(() => exporter?.forceFlush?.())
          .catch(() => undefined),
        metrics?.flush(),
      ]).then(() => undefined),
    async shutdown() {
      try {
        await Promise.all([provider.shutdown(), metrics?.shutdown()]);
      } catch {
        /* never into the app */
      }
      prices.close();
    },
  };
}

/** OTEL_ATTRIBUTE_COUNT_LIMIT's default (the OTel spec's 128); with the env var set, DirectSpans is not used. */
const SDK_DEFAULT_ATTRIBUTE_COUNT_LIMIT = 128;

/**
 * Finished LLM spans built as what they are — ended, read-only data — instead of through the SDK's
 * Tracer and Span (sampling, attribute validation one by one, processors' onEnding): the same
 * ReadableSpan the SDK would hand its processors, for less work per call. Only where no
 * attribute limits are configured (then the SDK's Span is used, which applies them); the app
 * thread's sampler has already decided. test/14 requires identical spans both ways.
 */
class DirectSpans {
  constructor(
    private readonly resource: Resource,
    private readonly scope: InstrumentationScope,
    private readonly book: () => PriceBook,
    private readonly processors: SpanProcessor[],
  ) {}

  emit(record: CallRecord, env: FinishEnv): void {
    const parentRef = record.parent;
    // Mirrors the parent-based sampler (the app thread's already said yes; this is belt and braces).
    if (parentRef && (parentRef.traceFlags & TraceFlags.SAMPLED) === 0) return;
    const { rec, attrs: raw, spanError } = callAttributes(record, env);
    // What the SDK's Span keeps of the attributes: valid values under non-empty keys. They are
    // built by our own code, so a copy is made only in the rare case that one is not.
    let all = 0;
    let count = 0;
    for (const k in raw) {
      all++;
      if (kept(k, raw[k])) count++;
    }
    // Past the SDK's default attribute count limit, counting the cost attributes still to come (a
    // call with much metadata): its Span decides which to drop and counts them.
    if (count + 3 > SDK_DEFAULT_ATTRIBUTE_COUNT_LIMIT) {
      emitWithAttributes(rec, raw, spanError, env);
      return;
    }
    const attributes = count === all ? raw : validOnly(raw);
    const startTime = millisToHrTime(rec.started);
    let endTime = millisToHrTime(rec.ended);
    let duration = hrTimeDuration(startTime, endTime);
    if (duration[0] < 0) {
      endTime = startTime;
      duration = [0, 0];
    } // as the SDK does for an end before the start
    const priced = costAttributesOrNone(this.book, attributes, startTime);
    if (priced) Object.assign(attributes, priced);
    const traceState = parentRef?.traceState ? new TraceState(parentRef.traceState) : undefined;
    const span = new FinishedSpan(
      spanName(rec),
      { traceId: rec.traceId, spanId: rec.spanId, traceFlags: TraceFlags.SAMPLED, traceState },
      parentRef
        ? {
            traceId: parentRef.traceId,
            spanId: parentRef.spanId,
            traceFlags: parentRef.traceFlags & TraceFlags.SAMPLED,
            isRemote: parentRef.isRemote,
            traceState,
          }
        : undefined,
      startTime,
      endTime,
      duration,
      spanError !== undefined ? { code: SpanStatusCode.ERROR, message: spanError } : { code: SpanStatusCode.UNSET },
      attributes,
      this.resource,
      this.scope,
    );
    for (const p of this.processors) p.onEnd(span);
    recordMetrics(rec, attributes, env);
  }
}

/** Whether the SDK's Span keeps this attribute: a valid value under a non-empty key. */
function kept(k: string, v: unknown): boolean {
  return v != null && k !== '' && isAttributeValue(v);
}

function validOnly(raw: Attributes): Attributes {
  const out: Attributes = {};
  for (const k in raw) if (kept(k, raw[k])) out[k] = raw[k];
  return out;
}

/** An ended CLIENT span: plain fields, one shape for all (the SDK's Span minus its mutators). */
class FinishedSpan implements ReadableSpan {
  readonly kind = SpanKind.CLIENT;
  readonly links: ReadableSpan['links'] = [];
  readonly events: ReadableSpan['events'] = [];
  readonly ended = true;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  constructor(
    readonly name: string,
    private readonly context: SpanContext,
    readonly parentSpanContext: SpanContext | undefined,
    readonly startTime: HrTime,
    readonly endTime: HrTime,
    readonly duration: HrTime,
    readonly status: SpanStatus,
    readonly attributes: Attributes,
    readonly resource: Resource,
    readonly instrumentationScope: InstrumentationScope,
  ) {}
  spanContext(): SpanContext {
    return this.context;
  }
}

/**
 * Loads and compiles what finishing a call needs (price book, tokenizer, content conversion) now,
 * while the app is starting, instead of on its first calls: a short-lived app's last calls must be
 * finished and exported within the capped flush at exit (measured under load: the first records
 * took ~700 ms cold, longer than the whole run of a small app).
 */
function warmUp(env: FinishEnv, book: () => unknown): void {
  try {
    book();
    const rec: CallRecord = {
      rec: 1,
      api: 'chat.completions',
      server: { provider: 'openai' },
      llm: {},
      traceId: '0'.repeat(32),
      spanId: '0'.repeat(16),
      started: 0,
      ended: 1,
      status: 'ok',
      hasResult: true,
      attempts: 1,
      body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'warm up: a@b.co +1 555 0100' }] },
      result: {
        id: 'w',
        model: 'gpt-4o-mini',
        choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'ok' } }],
      },
      model: 'gpt-4o-mini',
    };
    endAttributes(rec, {}, env);
  } catch {
    /* only a warm-up */
  }
}
