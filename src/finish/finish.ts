// Finishing an LLM call: from what was captured while it ran (a CallRecord: plain, cloneable data)
// to its end attributes and its span. The same code runs on the app's thread (after the app's
// continuation, see deferred.ts) or on llm-otel's background thread (src/pipeline/job.ts), so both ways
// give identical spans and rows.

import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { chatAdapter } from '../adapters/chat.js';
import { completionsAdapter } from '../adapters/completions.js';
import { embeddingsAdapter } from '../adapters/embeddings.js';
import type { ErrorInfo } from '../adapters/errors.js';
import { MAX_RESULT_DEPTH, withinDepth } from '../adapters/limits.js';
import type { ServerInfo } from '../adapters/provider.js';
import { responsesAdapter } from '../adapters/responses.js';
import type { ApiAdapter, ResponseSummary, Usage } from '../adapters/types.js';
import { type ContentOptions, callContentBudget, capField, cleanText } from '../content/index.js';
import type { LlmContext } from '../context/context.js';
import * as S from '../core/semconv.js';
import { errorMessage, warnOnce } from '../core/warn.js';
import { addContextAttributes } from './context-attributes.js';
import type { TokenEstimator } from './estimate.js';
import type { ReservedIdGenerator } from './ids.js';

const MAX_ERROR_MESSAGE = 1000;

export const ADAPTERS: Record<ApiAdapter['api'], ApiAdapter> = {
  'chat.completions': chatAdapter,
  responses: responsesAdapter,
  completions: completionsAdapter,
  embeddings: embeddingsAdapter,
};

/** The parent span as plain data (a TraceState object cannot cross threads; its header form can). */
export interface ParentRef {
  traceId: string;
  spanId: string;
  traceFlags: number;
  isRemote?: boolean;
  traceState?: string;
}

/** Everything a finished call needs for its span. Times are epoch milliseconds. */
export interface CallRecord {
  /** Marks a record among the span data sent to the writer thread. */
  rec: 1;
  api: ApiAdapter['api'];
  /** Where the client sends requests (provider name, server address and port). */
  server: ServerInfo;
  /** The llm context (session, user, agent, tags, metadata) the call ran in. */
  llm: LlmContext;
  parentCallId?: string;
  traceId: string;
  spanId: string;
  parent?: ParentRef;
  started: number;
  ended: number;
  firstChunkAt?: number;
  status: S.LlmStatus;
  /** The parsed response, or a stream's accumulated result (adapter `result()`)... */
  result?: unknown;
  /** ...or its JSON (what crosses to the writer thread: cheaper to make than a structured clone). */
  resultJson?: string;
  hasResult: boolean;
  error?: ErrorInfo;
  attempts: number;
  requestId?: string;
  httpStatus?: number;
  /**
   * The request: the JSON the SDK sent (immutable, and exactly what went out — the app may change
   * its `messages` array meanwhile), or the request object where no JSON was seen.
   */
  bodyJson?: string;
  body?: Record<string, any>;
  model?: string;
  /**
   * Not sampled: no span, no row; only its metrics are recorded (metrics count every call). Sent
   * without the request and the context.
   */
  unsampled?: 1;
}

/** Where a finished call's metrics go (src/metrics/). `attrs` holds at least its end attributes. */
export interface CallMetrics {
  record(rec: CallRecord, attrs: Attributes): void;
}

/**
 * Readies a record to cross to the writer thread: the response as JSON (cheaper to make than a
 * structured clone of the object), and for embeddings without the vectors, which are never
 * recorded (100 inputs are ~1 MB of floats). Mutates and returns `rec`.
 */
export function forTransfer(rec: CallRecord): CallRecord {
  if (rec.hasResult && rec.result !== undefined) {
    let r = rec.result;
    if (rec.api === 'embeddings' && r && typeof r === 'object') {
      const { object, model, usage } = r as Record<string, unknown>;
      r = { object, model, usage };
    }
    let json: string | undefined;
    try {
      json = JSON.stringify(r);
    } catch {
      // Nested too deep for JSON (and for a structured clone): cut at a depth no recorded content
      // reaches, rather than lose the call.
      try {
        json = JSON.stringify(withinDepth(r, MAX_RESULT_DEPTH));
      } catch {
        /* cloned as it is */
      }
    }
    if (json !== undefined) {
      rec.resultJson = json;
      rec.result = undefined;
    }
  }
  return rec;
}

/** Turns the JSON forms back into objects (on whichever thread finishes the call). */
function materialize(rec: CallRecord): CallRecord & { body: Record<string, any> } {
  if (rec.body === undefined) {
    let body: unknown;
    try {
      body = rec.bodyJson === undefined ? undefined : JSON.parse(rec.bodyJson);
    } catch {
      body = undefined;
    }
    rec.body = body && typeof body === 'object' ? (body as Record<string, any>) : {};
  }
  if (rec.hasResult && rec.result === undefined && rec.resultJson !== undefined) {
    try {
      rec.result = JSON.parse(rec.resultJson);
    } catch {
      rec.result = undefined;
    }
  }
  return rec as CallRecord & { body: Record<string, any> };
}

export interface FinishEnv {
  tracer(): Tracer;
  /** Set when spans are created at the end with ids drawn at the start. */
  reservedIds?: ReservedIdGenerator;
  captureContent: boolean;
  content: ContentOptions;
  estimator?: TokenEstimator;
  /**
   * The cost attributes of an inference span, from all its other attributes (set by an
   * OpenAIInstrumentation in someone's own pipeline; where llm-otel's provider runs, its cost
   * processor prices instead). Never throws.
   */
  costOf?: (attrs: Attributes, startedMs: number) => Attributes | null;
  /** GenAI client metrics, recorded as each call is finished (none: not recorded). */
  metrics?: CallMetrics;
  /**
   * Told each message list put in a content attribute (its name, the JSON text made of it, the
   * list): the call log on the same thread then reads the list instead of parsing the text back.
   */
  contentJson?: (attribute: string, text: string, value: unknown) => void;
}

export type CallStartFields = Pick<CallRecord, 'api' | 'server' | 'llm' | 'parentCallId' | 'model'> & { body: Record<string, any> };

export function spanName(rec: Pick<CallRecord, 'api' | 'model'>): string {
  const op = ADAPTERS[rec.api].operation;
  return rec.model ? `${op} ${capField(rec.model)}` : op;
}

/**
 * What is known when the call starts: operation, provider, server, request parameters, context.
 * `content` redacts the context fields (none without it).
 */
export function startAttributes(rec: CallStartFields, content?: ContentOptions): Attributes {
  const adapter = ADAPTERS[rec.api];
  const { server, body, llm } = rec;
  const attrs: Attributes = {
    [S.GEN_AI_OPERATION_NAME]: adapter.operation,
    [S.GEN_AI_PROVIDER_NAME]: server.provider,
    [S.LLM_OTEL_API]: adapter.api,
  };
  if (rec.model) attrs[S.GEN_AI_REQUEST_MODEL] = capField(rec.model);
  if (server.address) attrs[S.SERVER_ADDRESS] = server.address;
  if (server.port !== undefined) attrs[S.SERVER_PORT] = server.port;
  if (adapter.apiType) attrs[S.OPENAI_API_TYPE] = adapter.apiType;
  try {
    // Like every gen_ai.request.* attribute: set only when the request says it.
    if (adapter.operation !== 'embeddings' && typeof body.stream === 'boolean') attrs[S.GEN_AI_REQUEST_STREAM] = body.stream;
    Object.assign(attrs, adapter.requestAttributes(body));
  } catch (e) {
    warnOnce(
      'instrumentation:request',
      `could not read an openai request's parameters (${errorMessage(e)}); the call is recorded without them`,
    );
  }
  try {
    const conv = llm.conversationId ?? conversationFromBody(body);
    addContextAttributes(attrs, llm, content, conv === undefined ? undefined : capField(conv));
  } catch (e) {
    // The context is plain data by construction (context/values.ts); this only guards the record.
    warnOnce('instrumentation:context', `could not record an LLM call's context (${errorMessage(e)}); the call is recorded without it`);
  }
  if (rec.parentCallId) attrs[S.LLM_OTEL_PARENT_CALL_ID] = rec.parentCallId;
  return attrs;
}

function conversationFromBody(body: Record<string, any>): string | undefined {
  const c = body.conversation;
  if (typeof c === 'string' && c) return c;
  if (c && typeof c === 'object' && typeof c.id === 'string') return c.id;
  return undefined;
}

/** Adds the end attributes to `attrs`; returns the span status message for failures. */
export function endAttributes(record: CallRecord, attrs: Attributes, env: FinishEnv): string | undefined {
  const rec = materialize(record);
  const adapter = ADAPTERS[rec.api];
  let spanError: string | undefined;
  try {
    let summary: ResponseSummary | undefined;
    if (rec.hasResult) {
      try {
        summary = adapter.summarize(rec.result);
      } catch (e) {
        warnOnce('instrumentation:result', `could not read an openai result (${errorMessage(e)}); the call itself is unaffected`);
      }
    }
    if (summary) for (const k in summary.attributes) attrs[k] = summary.attributes[k];
    let usage: Usage | undefined = summary?.usage;
    let usageSource: 'provider' | 'estimated' | 'none' = usage ? 'provider' : 'none';
    if (!usage && summary && rec.status !== 'error' && rec.status !== 'timeout' && env.estimator) {
      usage = estimate(rec, adapter, summary, env.estimator);
      if (usage) usageSource = 'estimated';
    }
    if (usage) {
      if (usage.inputTokens !== undefined) attrs[S.GEN_AI_USAGE_INPUT_TOKENS] = usage.inputTokens;
      if (usage.outputTokens !== undefined) attrs[S.GEN_AI_USAGE_OUTPUT_TOKENS] = usage.outputTokens;
      if (usage.cachedInputTokens !== undefined) attrs[S.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = usage.cachedInputTokens;
      if (usage.reasoningTokens !== undefined) attrs[S.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = usage.reasoningTokens;
    }
    attrs[S.LLM_OTEL_USAGE_SOURCE] = usageSource;
    if (rec.firstChunkAt !== undefined) attrs[S.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = (rec.firstChunkAt - rec.started) / 1000;
    if (rec.attempts > 1) attrs[S.HTTP_REQUEST_RESEND_COUNT] = rec.attempts - 1;
    if (rec.requestId) attrs[S.LLM_OTEL_REQUEST_ID] = capField(rec.requestId);
    if (rec.httpStatus !== undefined) attrs[S.HTTP_RESPONSE_STATUS_CODE] = rec.httpStatus;
    attrs[S.LLM_OTEL_STATUS] = rec.status;
    if (env.captureContent) {
      // Each side of the call has its own content budget (content/budget.ts).
      requestContent(rec, attrs, adapter, withBudget(env.content), env.contentJson);
      if (summary?.output) {
        try {
          const out = summary.output(withBudget(env.content));
          if (out.length) setContent(attrs, S.GEN_AI_OUTPUT_MESSAGES, out, env.contentJson);
        } catch (e) {
          warnOnce('content:output', `could not record response content (${errorMessage(e)}); the call itself is unaffected`);
        }
      }
    }
    const error = rec.error;
    if (error) {
      attrs[S.ERROR_TYPE] = capField(error.errorType);
      // A cancellation is the app's choice, not a failure: the span status stays UNSET.
      if (rec.status === 'error' || rec.status === 'timeout') spanError = errorText(error.message, env.content);
    }
  } catch (e) {
    warnOnce('instrumentation:end', `could not finish an LLM span cleanly (${errorMessage(e)})`);
  }
  return spanError;
}

/** Every attribute of a finished call's span, and its status message when it failed. */
export function callAttributes(record: CallRecord, env: FinishEnv): { rec: CallRecord; attrs: Attributes; spanError: string | undefined } {
  const rec = materialize(record);
  let attrs: Attributes;
  try {
    attrs = startAttributes(rec, env.content);
  } catch {
    attrs = {};
  }
  const spanError = endAttributes(rec, attrs, env);
  addCost(attrs, attrs, rec.started, env);
  return { rec, attrs, spanError };
}

function addCost(attrs: Attributes, all: Attributes, startedMs: number, env: FinishEnv): void {
  if (!env.costOf) return;
  const cost = env.costOf(all, startedMs);
  if (cost) for (const k in cost) attrs[k] = cost[k];
}

/** Creates the call's span with its reserved ids, its start time and every attribute, and ends it. */
export function emitSpan(record: CallRecord, env: FinishEnv, parent?: Context): void {
  const { rec, attrs, spanError } = callAttributes(record, env);
  emitWithAttributes(rec, attrs, spanError, env, parent);
}

/** emitSpan's second half: the span through the SDK's Tracer, from attributes already built. */
export function emitWithAttributes(
  rec: CallRecord,
  attrs: Attributes,
  spanError: string | undefined,
  env: FinishEnv,
  parent?: Context,
): void {
  let span: Span;
  const ids = env.reservedIds;
  try {
    ids?.reserve(rec.traceId, rec.spanId);
    try {
      span = env
        .tracer()
        .startSpan(
          spanName(rec),
          { kind: SpanKind.CLIENT, attributes: attrs, startTime: rec.started },
          parent ?? parentContext(rec.parent),
        );
    } finally {
      ids?.release();
    }
    if (spanError !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: spanError });
  } catch (e) {
    warnOnce('instrumentation:span', `could not create an LLM span (${errorMessage(e)})`);
    return;
  }
  span.end(rec.ended);
  recordMetrics(rec, attrs, env);
}

/** The call's metrics from attributes already built (never into the app). */
export function recordMetrics(rec: CallRecord, attrs: Attributes, env: FinishEnv): void {
  if (!env.metrics) return;
  try {
    env.metrics.record(rec, attrs);
  } catch (e) {
    warnOnce('metrics:record', `could not record an LLM call's metrics (${errorMessage(e)})`);
  }
}

/** A call that gets no span (not sampled): only its metrics, from the response's summary. */
export function recordUnsampled(record: CallRecord, env: FinishEnv): void {
  if (!env.metrics) return;
  const rec = materialize(record);
  const attrs: Attributes = {};
  endAttributes(rec, attrs, { ...env, captureContent: false, estimator: undefined });
  recordMetrics(rec, attrs, env);
}

/** Sets the end attributes on a span that exists already (eager mode) and ends it. */
export function endSpan(span: Span, rec: CallRecord, env: FinishEnv): void {
  const attrs: Attributes = {};
  const spanError = endAttributes(rec, attrs, env);
  // The request's attributes are on the span since its start (an SDK span shows them).
  if (env.costOf) addCost(attrs, { ...(span as { attributes?: Attributes }).attributes, ...attrs }, rec.started, env);
  try {
    span.setAttributes(attrs);
    if (spanError !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: spanError });
  } catch (e) {
    warnOnce('instrumentation:span', `could not finish an LLM span (${errorMessage(e)})`);
  }
  span.end(rec.ended);
  recordMetrics(rec, attrs, env);
}

export function parentRef(ctx: Context): ParentRef | undefined {
  const sc = trace.getSpanContext(ctx);
  if (!sc || !trace.isSpanContextValid(sc)) return undefined;
  const ref: ParentRef = { traceId: sc.traceId, spanId: sc.spanId, traceFlags: sc.traceFlags };
  if (sc.isRemote) ref.isRemote = true;
  const ts = sc.traceState?.serialize();
  if (ts) ref.traceState = ts;
  return ref;
}

export function parentContext(ref: ParentRef | undefined): Context {
  if (!ref) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: ref.traceId,
    spanId: ref.spanId,
    traceFlags: ref.traceFlags & TraceFlags.SAMPLED,
    isRemote: ref.isRemote,
    traceState: ref.traceState ? new TraceState(ref.traceState) : undefined,
  });
}

/** Content options for one side of one call: its own budget (content/budget.ts). */
function withBudget(o: ContentOptions): ContentOptions {
  return { ...o, budget: callContentBudget(o.maxChars) };
}

/** A message list as the JSON text of its attribute (told to `made`, see FinishEnv.contentJson). */
function setContent(attrs: Attributes, key: string, value: unknown, made: FinishEnv['contentJson']): void {
  const text = JSON.stringify(value);
  attrs[key] = text;
  made?.(key, text, value);
}

function requestContent(
  rec: CallRecord & { body: Record<string, any> },
  attrs: Attributes,
  adapter: ApiAdapter,
  o: ContentOptions,
  made: FinishEnv['contentJson'],
): void {
  try {
    const c = adapter.requestContent(rec.body, o);
    if (c.systemInstructions?.length) setContent(attrs, S.GEN_AI_SYSTEM_INSTRUCTIONS, c.systemInstructions, made);
    setContent(attrs, S.GEN_AI_INPUT_MESSAGES, c.inputMessages, made);
    if (c.toolDefinitions?.length) attrs[S.GEN_AI_TOOL_DEFINITIONS] = JSON.stringify(c.toolDefinitions);
  } catch (e) {
    warnOnce('content:input', `could not record request content (${errorMessage(e)}); the call itself is unaffected`);
  }
}

function estimate(
  rec: CallRecord & { body: Record<string, any> },
  adapter: ApiAdapter,
  summary: ResponseSummary,
  est: TokenEstimator,
): Usage | undefined {
  try {
    const input = est.input(adapter, rec.body, rec.model);
    const text = summary.outputText?.();
    const output = adapter.operation === 'embeddings' ? undefined : text !== undefined ? est.output(text, rec.model) : undefined;
    if (input === undefined && output === undefined) return undefined;
    return { inputTokens: input, outputTokens: output };
  } catch {
    return undefined;
  }
}

function errorText(message: string, o: ContentOptions): string {
  return cleanText(message, { ...o, maxChars: Math.min(o.maxChars || MAX_ERROR_MESSAGE, MAX_ERROR_MESSAGE) });
}
