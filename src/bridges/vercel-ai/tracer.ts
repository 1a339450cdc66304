// The OpenTelemetry Tracer the Vercel AI SDK gets when an app turns on `experimental_telemetry`.
// Its `ai.*` spans are not exported as they are: each becomes what llm-otel records for its own
// calls and runs.
//   ai.<fn>.doGenerate / .doStream / .doEmbed → an LLM call: a CallRecord finished by the same code
//                                              as an `openai` call (finish/, the writer thread)
//   ai.generateText, ai.streamText, ai.embed … → an `invoke_workflow` run (llm_runs)
//   ai.toolCall                                → an `execute_tool` run with gen_ai.tool.call.id
// Spans of other shapes are not recorded; their children attach to the nearest recorded ancestor.
// The SDK's own attributes (which hold prompts and outputs) never reach a span or a row as they
// are: content goes through llm-otel's policy (capture, redaction, truncation) like any call's.

import {
  type Attributes,
  type Context,
  context,
  type Exception,
  INVALID_SPAN_CONTEXT,
  type Link,
  type Span,
  type SpanAttributes,
  type SpanAttributeValue,
  type SpanContext,
  SpanKind,
  type SpanOptions,
  type SpanStatus,
  SpanStatusCode,
  type TimeInput,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { classifyError, type ErrorInfo } from '../../adapters/errors.js';
import type { ApiAdapter } from '../../adapters/types.js';
import { cleanText } from '../../content/index.js';
import { getLlmContext, getParentCallId, type LlmContext, mergeLlmContext, setLlmContext, setLlmScope } from '../../context/context.js';
import { contextText } from '../../context/values.js';
import * as S from '../../core/semconv.js';
import { addContextAttributes } from '../../finish/context-attributes.js';
import { defer } from '../../instrumentation/deferred.js';
import type { InstrumentationRuntime } from '../../instrumentation/runtime.js';
import { BridgeCall } from '../call-record.js';
import {
  apiOf,
  chatRequestFromAttributes,
  embeddingsRequestFromAttributes,
  inputsRecorded,
  outputsRecorded,
  providerName,
  requestIdOf,
  responseFromAttributes,
  responsesRequestFromChat,
  wireRequest,
  wireResponse,
} from './map.js';

type Kind = 'call' | 'workflow' | 'tool' | 'other';

/** What an `ai.*` span is, by its name (stable since ai 3.3: `ai.<fn>` and `ai.<fn>.do<Step>`). */
export function kindOf(name: string): Kind {
  if (name === 'ai.toolCall') return 'tool';
  if (/^ai\.\w+\.(doGenerate|doStream|doEmbed)$/.test(name)) return 'call';
  if (/^ai\.\w+$/.test(name)) return 'workflow';
  return 'other';
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * A span as the AI SDK sees it: it keeps what the SDK sets on it (attributes, status, the first
 * chunk's time) and, when the SDK ends it, turns that into llm-otel's record.
 */
export abstract class AiSpan implements Span {
  readonly attrs: Record<string, unknown>;
  protected status: SpanStatus = { code: SpanStatusCode.UNSET };
  protected exception: { name?: string; message?: string } | undefined;
  protected firstChunkAt: number | undefined;
  /** What the SDK's span callback returned or threw (the model's result, with its wire bodies). */
  protected outcome: { value?: unknown; error?: unknown; failed: boolean } | undefined;
  protected ended = false;

  constructor(
    protected readonly rt: InstrumentationRuntime,
    readonly name: string,
    attributes: SpanAttributes | undefined,
  ) {
    this.attrs = { ...(attributes ?? {}) };
    rt.open.add(this);
  }

  abstract spanContext(): SpanContext;
  /** The context the SDK's code for this span runs in. */
  childContext(parent: Context): Context {
    return this.scopeContext(trace.setSpan(parent, this));
  }
  /** `ctx` with this span as llm-otel's scope (parent call id, llm context), its active span left as it is. */
  abstract scopeContext(ctx: Context): Context;
  protected abstract done(cancelled: boolean): void;

  setAttribute(key: string, value: SpanAttributeValue): this {
    if (!this.ended) this.attrs[key] = value;
    return this;
  }
  setAttributes(attributes: SpanAttributes): this {
    if (!this.ended && attributes && typeof attributes === 'object') Object.assign(this.attrs, attributes);
    return this;
  }
  addEvent(name: string, _a?: unknown, _t?: TimeInput): this {
    if (name === 'ai.stream.firstChunk' && this.firstChunkAt === undefined) this.firstChunkAt = performance.now();
    return this;
  }
  addLink(_link: Link): this {
    return this;
  }
  addLinks(_links: Link[]): this {
    return this;
  }
  setStatus(status: SpanStatus): this {
    if (!this.ended && status && typeof status === 'object') this.status = { code: status.code, message: status.message };
    return this;
  }
  updateName(_name: string): this {
    return this;
  }
  isRecording(): boolean {
    return !this.ended;
  }
  recordException(exception: Exception, _time?: TimeInput): void {
    if (exception && typeof exception === 'object') this.exception = { name: str(exception.name), message: str(exception.message) };
    else if (typeof exception === 'string') this.exception = { message: exception };
  }

  /** The outcome of the SDK's callback for this span (it settles just after the span ends). */
  settle(outcome: { value?: unknown; error?: unknown; failed: boolean }): void {
    this.outcome ??= outcome;
  }

  end(_endTime?: TimeInput): void {
    if (this.ended) return;
    this.ended = true;
    this.rt.open.delete(this);
    try {
      this.done(false);
    } catch {
      /* never into the app */
    }
  }

  /** Ends a span whose end will never come (exit, shutdown): recorded as cancelled. */
  abandon(_reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.rt.open.delete(this);
    try {
      this.done(true);
    } catch {
      /* never at exit */
    }
  }
}

/** ai.generateText / ai.streamText / … (workflow) and ai.toolCall (tool): a run, as withWorkflow/withTool make. */
class RunSpan extends AiSpan {
  private readonly span: Span;
  private readonly llm: LlmContext;

  constructor(
    rt: InstrumentationRuntime,
    name: string,
    attributes: SpanAttributes | undefined,
    parent: Context,
    kind: 'workflow' | 'tool',
  ) {
    super(rt, name, attributes);
    const a = this.attrs;
    const outer = getLlmContext(parent);
    // experimental_telemetry.metadata: the run's (and its calls') metadata, as withLlmContext's.
    const metadata: Record<string, unknown> = {};
    let any = false;
    for (const k in a) {
      if (k.startsWith('ai.telemetry.metadata.')) {
        metadata[k.slice('ai.telemetry.metadata.'.length)] = a[k];
        any = true;
      }
    }
    this.llm = any ? mergeLlmContext(outer, { metadata: metadata as LlmContext['metadata'] }) : outer;
    const attrs: Attributes = {};
    let label: string;
    if (kind === 'tool') {
      label = contextText(a['ai.toolCall.name']) ?? 'tool';
      attrs[S.GEN_AI_OPERATION_NAME] = 'execute_tool';
      attrs[S.GEN_AI_TOOL_NAME] = label;
      const id = contextText(a['ai.toolCall.id']);
      if (id) attrs[S.GEN_AI_TOOL_CALL_ID] = id;
    } else {
      // The app's experimental_telemetry.functionId names it; else the SDK function (generateText).
      label = contextText(a['ai.telemetry.functionId']) ?? name.slice(3);
      attrs[S.GEN_AI_OPERATION_NAME] = 'invoke_workflow';
      attrs[S.GEN_AI_WORKFLOW_NAME] = label;
    }
    attrs['ai.operationId'] = name;
    addContextAttributes(attrs, this.llm, rt.content);
    const parentCallId = getParentCallId(parent);
    if (parentCallId) attrs[S.LLM_OTEL_PARENT_CALL_ID] = parentCallId;
    this.span = rt.tracer().startSpan(`${attrs[S.GEN_AI_OPERATION_NAME]} ${label}`, { kind: SpanKind.INTERNAL, attributes: attrs }, parent);
  }

  spanContext(): SpanContext {
    return this.span.spanContext();
  }

  scopeContext(ctx: Context): Context {
    return setLlmScope(setLlmContext(ctx, this.llm), { spanId: this.span.spanContext().spanId });
  }

  protected done(cancelled: boolean): void {
    const span = this.span;
    if (cancelled) {
      span.setAttribute(S.LLM_OTEL_STATUS, 'cancelled');
    } else if (this.status.code === SpanStatusCode.ERROR) {
      const message = this.status.message ?? this.exception?.message ?? '';
      // The SDK records the error's `name` (AI_APICallError); its class name is what calls carry.
      const type = this.exception?.name?.replace(/^AI_/, '') ?? '_OTHER';
      span.setAttributes({ [S.ERROR_TYPE]: type, [S.LLM_OTEL_STATUS]: 'error' });
      span.setStatus({ code: SpanStatusCode.ERROR, message: cleanText(message, { ...this.rt.content, maxChars: 1000 }) });
    } else {
      span.setAttribute(S.LLM_OTEL_STATUS, 'ok');
    }
    span.end();
  }
}

/** ai.*.doGenerate / doStream / doEmbed: one model call, recorded like an `openai` call. */
class CallSpan extends AiSpan {
  private readonly call: BridgeCall;
  private readonly api: ApiAdapter['api'];
  private readonly model: string | undefined;
  private endedAt = 0;

  constructor(rt: InstrumentationRuntime, name: string, attributes: SpanAttributes | undefined, parent: Context) {
    super(rt, name, attributes);
    const a = this.attrs;
    const aiProvider = str(a['ai.model.provider']) ?? str(a['gen_ai.system']);
    this.api = apiOf(name, aiProvider);
    this.model = str(a['gen_ai.request.model']) ?? str(a['ai.model.id']);
    this.call = new BridgeCall(rt, { api: this.api, server: { provider: providerName(aiProvider) }, model: this.model, parent });
  }

  spanContext(): SpanContext {
    return this.call.spanContext();
  }

  scopeContext(ctx: Context): Context {
    return setLlmScope(ctx, { spanId: this.call.spanContext().spanId });
  }

  protected done(cancelled: boolean): void {
    this.endedAt = performance.now();
    // The SDK ends the span, then its callback settles with the model's result (or error): read
    // them in the deferred batch, after the app's continuation (exit paths drain it).
    if (cancelled) this.record('cancelled');
    else defer(() => this.record(undefined));
  }

  private record(forced: 'cancelled' | undefined): void {
    if (!this.call.wanted) return;
    const a = this.attrs;
    const value = this.outcome?.failed ? undefined : this.outcome?.value;
    let status: S.LlmStatus = 'ok';
    let error: ErrorInfo | undefined;
    if (forced) status = forced;
    else if (this.outcome?.failed || this.status.code === SpanStatusCode.ERROR) {
      error = errorInfo(this.outcome?.error, this.exception, this.status.message);
      status = error.status;
    }
    // The request: the wire JSON the provider sent, else built from the span's attributes.
    let api = this.api;
    let body = api === 'embeddings' ? undefined : wireRequest(api, value);
    if (!body) {
      if (api === 'embeddings') body = embeddingsRequestFromAttributes(a, this.model);
      else {
        const chat = chatRequestFromAttributes(a, this.model, this.name.endsWith('.doStream'));
        if (api === 'responses') body = responsesRequestFromChat(chat);
        else {
          body = chat;
          api = 'chat.completions';
        }
      }
    }
    // The SDK hands back the body without the `stream: true` it adds when sending.
    if (this.name.endsWith('.doStream') && body.stream === undefined) body = { ...body, stream: true };
    if (!inputsRecorded(a)) body = withoutContent(body);
    // The response: the wire JSON of a non-streamed call, else built from the attributes.
    let result: unknown;
    if (status === 'ok') {
      result =
        outputsRecorded(a) || api === 'embeddings'
          ? (wireResponse(api, value) ?? responseFromAttributes(api, a))
          : responseFromAttributes(api, a);
    }
    this.call.record({
      api,
      status,
      error,
      result,
      body,
      endedAt: this.endedAt || performance.now(),
      firstChunkAt: this.firstChunkAt,
      requestId: error?.requestId ?? requestIdOf(value),
      httpStatus: error?.httpStatus,
    });
  }
}

/** A request without its content (the app told the SDK `recordInputs: false`). */
function withoutContent(body: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = { ...body };
  if (Array.isArray(out.messages)) out.messages = [];
  if (out.input !== undefined) out.input = Array.isArray(out.input) ? [] : '';
  delete out.instructions;
  delete out.tools;
  return out;
}

/** A failed call's status and error attributes: from the error the SDK threw (APICallError …). */
function errorInfo(err: unknown, exception: { name?: string; message?: string } | undefined, statusMessage: string | undefined): ErrorInfo {
  if (err !== undefined) {
    const info = classifyError(err);
    const e = err as Record<string, unknown>;
    // The AI SDK's APICallError: `statusCode`, `responseHeaders` (a plain record).
    if (info.httpStatus === undefined && typeof e?.statusCode === 'number') info.httpStatus = e.statusCode;
    if (!info.requestId) {
      const h = e?.responseHeaders as Record<string, unknown> | undefined;
      const id = h && typeof h === 'object' ? h['x-request-id'] : undefined;
      if (typeof id === 'string' && id) info.requestId = id;
    }
    if (e?.name === 'TimeoutError') info.status = 'timeout';
    return info;
  }
  return { status: 'error', errorType: exception?.name ?? '_OTHER', message: statusMessage ?? exception?.message ?? '' };
}

/** Spans the bridge does not record: they carry their parent's context, so children attach above. */
function passThrough(parent: Context): Span {
  return trace.wrapSpanContext(trace.getSpanContext(parent) ?? INVALID_SPAN_CONTEXT);
}

/** llm-otel's record of one `ai.*` span (undefined for shapes it does not record). */
export function openAiSpan(
  rt: InstrumentationRuntime,
  name: string,
  options: SpanOptions | undefined,
  parent: Context,
): AiSpan | undefined {
  const kind = typeof name === 'string' ? kindOf(name) : 'other';
  if (kind === 'other') return undefined;
  const attributes = options?.attributes;
  return kind === 'call' ? new CallSpan(rt, name, attributes, parent) : new RunSpan(rt, name, attributes, parent, kind);
}

function open(
  rt: InstrumentationRuntime | undefined,
  name: string,
  options: SpanOptions | undefined,
  parent: Context,
): { span: Span; ctx: Context } {
  const span = rt?.enabled ? openAiSpan(rt, name, options, parent) : undefined;
  if (!span) return { span: passThrough(parent), ctx: parent };
  return { span, ctx: span.childContext(parent) };
}

/**
 * The Tracer handed to the AI SDK. `runtime` is read at each span: after shutdown (no runtime, or
 * disabled) spans pass through unrecorded.
 */
export class VercelAiTracer implements Tracer {
  constructor(readonly runtime: () => InstrumentationRuntime | undefined) {}

  private open(name: string, options: SpanOptions | undefined, parent: Context): { span: Span; ctx: Context } {
    try {
      return open(this.runtime(), name, options, parent);
    } catch {
      return { span: passThrough(parent), ctx: parent }; // tracing trouble never stops the SDK's work
    }
  }

  startSpan(name: string, options?: SpanOptions, ctx?: Context): Span {
    return this.open(name, options, ctx ?? context.active()).span;
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...args: unknown[]): ReturnType<F> {
    const fn = args[args.length - 1] as (span: Span) => unknown;
    const options = (args.length >= 2 ? args[0] : undefined) as SpanOptions | undefined;
    const parent = (args.length >= 3 ? args[1] : undefined) as Context | undefined;
    const { span, ctx } = this.open(name, options, parent ?? context.active());
    const r = context.with(ctx, fn, undefined, span);
    // The SDK's callback returns the model's result (with the wire bodies) or throws its error:
    // observed on a native promise only, without changing what the SDK awaits.
    if (span instanceof AiSpan && r instanceof Promise) {
      r.then(
        (value: unknown) => span.settle({ value, failed: false }),
        (error: unknown) => span.settle({ error, failed: true }),
      );
    }
    return r as ReturnType<F>;
  }
}
