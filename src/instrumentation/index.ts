// OpenAIInstrumentation: a standard OpenTelemetry instrumentation (usable in anyone's NodeSDK) that
// hooks the `openai` module through require-in-the-middle (CJS) and import-in-the-middle (ESM;
// needs its loader hook: `llm-otel/register` installs it, docs/nodesdk.md shows it for an app's own
// SDK), plus instrumentOpenAI() for bundlers.

import { type Meter, metrics, type Tracer, type TracerProvider, trace } from '@opentelemetry/api';
import { InstrumentationBase, type InstrumentationConfig, InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import { createRedactor, type RedactOptions } from '../content/index.js';
import { INSTRUMENTATION_SCOPE } from '../core/semconv.js';
import { VERSION } from '../core/version.js';
import { errorMessage, warnOnce } from '../core/warn.js';
import { costAttributesOrNone, createPriceSource, type PriceSource, readPriceFile } from '../cost/index.js';
import { tokenEstimator } from '../finish/estimate.js';
import type { FinishEnv } from '../finish/finish.js';
import { MeterMetrics } from '../metrics/genai.js';
import { openAIClass, patchOpenAIModule, unpatchOpenAIModule } from './patch.js';
import { drainBeforeFlush, drainGlobalProvider } from './provider-flush.js';
import { getRuntime, type InstrumentationRuntime, setRuntime, type TokenEstimator } from './runtime.js';

export interface OpenAIInstrumentationConfig extends InstrumentationConfig {
  /** Put prompts/responses on spans (redacted, truncated). Default false: content is opt-in. */
  captureContent?: boolean;
  /** Longer message content is truncated (default 4096). */
  maxContentChars?: number;
  /** Redaction (default: all built-in maskers); also applied to the context (session, user, tags, metadata). */
  redact?: RedactOptions;
  /** Context fields stored unredacted: `session_id`, `user_id`, `conversation_id`, `tags`, `metadata`, `metadata.<key>`. */
  keepContext?: string[];
  /** 'inject' adds stream_options.include_usage to OpenAI streams that did not choose. */
  streamUsage?: 'off' | 'inject';
  /** Offline token estimation when the provider reports no usage (default: the built-in tokenizer, as `register`). */
  estimator?: TokenEstimator;
  /**
   * `llm_otel.cost` on inference spans (default true: the built-in price table). `db`: the call
   * log whose `model_prices` to use (your rows, and price ids in `llm_calls`, as `register`);
   * `file`: price rows in the LLM_OTEL_PRICES format. false: no cost.
   */
  prices?: boolean | { db?: string | null; file?: string | null };
  /**
   * GenAI client metrics (`gen_ai.client.token.usage`, `gen_ai.client.operation.duration`,
   * `gen_ai.client.operation.time_to_first_chunk`) through the meter provider NodeSDK gives this
   * instrumentation (or the global one). Default true; `register` records its own instead.
   */
  metrics?: boolean;
}

export function buildRuntime(config: OpenAIInstrumentationConfig, tracer: () => Tracer, meter?: () => Meter): InstrumentationRuntime {
  const redact = createRedactor(config.redact ?? { mode: 'default' });
  const withMetrics = config.metrics !== false && meter !== undefined;
  return {
    enabled: true,
    tracer,
    captureContent: config.captureContent === true,
    content: { redact, maxChars: config.maxContentChars ?? 4096, keepContext: new Set(config.keepContext ?? []) },
    streamUsage: config.streamUsage ?? 'off',
    estimator: config.estimator ?? tokenEstimator,
    costOf: pricer(config.prices),
    metrics: withMetrics ? new MeterMetrics(meter) : undefined,
    recordUnsampled: withMetrics,
    open: getRuntime()?.open ?? new Set(),
  };
}

/** Prices spans from a price source opened with the first priced call (a DB and a file are read then). */
function pricer(prices: OpenAIInstrumentationConfig['prices']): FinishEnv['costOf'] {
  if (prices === false) return undefined;
  const o = typeof prices === 'object' && prices !== null ? prices : {};
  let source: PriceSource | undefined;
  const book = () => {
    if (!source) {
      let overrides = null;
      if (o.file) {
        try {
          overrides = readPriceFile(o.file);
        } catch (e) {
          warnOnce(`prices:file:${o.file}`, `prices: ${errorMessage(e)}; using the built-in prices`);
        }
      }
      source = createPriceSource({ path: o.db ?? null, overrides });
    }
    return source.book();
  };
  return (attrs, startedMs) => {
    const seconds = Math.floor(startedMs / 1000);
    return costAttributesOrNone(book, attrs, [seconds, Math.round((startedMs - seconds * 1000) * 1e6)]);
  };
}

export class OpenAIInstrumentation extends InstrumentationBase<OpenAIInstrumentationConfig> {
  /** Set by setTracerProvider (registerInstrumentations with a tracerProvider, start()); else the global one. */
  private provider: TracerProvider | undefined;

  constructor(config: OpenAIInstrumentationConfig = {}) {
    super(INSTRUMENTATION_SCOPE, VERSION, config);
  }

  override setTracerProvider(provider: TracerProvider): void {
    super.setTracerProvider(provider);
    // The API's proxy (trace.getTracerProvider()) stands for whichever SDK provider registers.
    const proxy = typeof (provider as { getDelegate?: unknown }).getDelegate === 'function';
    this.provider = proxy ? undefined : provider;
    if (!proxy) drainBeforeFlush(provider);
  }

  /** The tracer of a call's span; its provider's flush first ends the calls that finished (provider-flush.ts). */
  private callTracer(): Tracer {
    // The global provider may be registered after enable() (NodeSDK.start() does so): looked up per call.
    if (!this.provider) drainGlobalProvider();
    return this.tracer;
  }

  protected init() {
    return [
      new InstrumentationNodeModuleDefinition(
        'openai',
        ['>=4.0.0 <8'],
        (mod) => {
          patchOpenAIModule(mod);
          return mod;
        },
        (mod) => {
          if (mod) unpatchOpenAIModule(mod);
        },
      ),
    ];
  }

  override enable(): void {
    super.enable();
    setRuntime(
      buildRuntime(
        this.getConfig(),
        () => this.callTracer(),
        () => this.meter,
      ),
    );
  }

  override disable(): void {
    super.disable();
    const rt = getRuntime();
    if (rt) rt.enabled = false;
  }

  override setConfig(config: OpenAIInstrumentationConfig = {}): void {
    super.setConfig(config);
    const rt = getRuntime();
    if (rt) setRuntime({ ...buildRuntime(config, rt.tracer, () => this.meter), enabled: rt.enabled });
  }
}

/**
 * Patches an openai module you hold (bundlers, or when the app imports openai before llm-otel
 * starts), or the module behind a client instance. Safe to call more than once.
 */
export function instrumentOpenAI(moduleOrClient: unknown, config?: OpenAIInstrumentationConfig): void {
  let mod: any = moduleOrClient;
  if (mod && typeof mod === 'object' && !openAIClass(mod) && mod.chat?.completions) {
    // A client instance: its class (or a superclass) carries the resource classes as statics.
    for (let c = mod.constructor; c && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
      if (c.Chat) {
        mod = c;
        break;
      }
    }
  }
  patchOpenAIModule(mod);
  if (!getRuntime())
    setRuntime(
      buildRuntime(
        config ?? {},
        () => {
          drainGlobalProvider();
          return trace.getTracer(INSTRUMENTATION_SCOPE, VERSION);
        },
        () => metrics.getMeter(INSTRUMENTATION_SCOPE, VERSION),
      ),
    );
}
