// withAgent / withTool / withWorkflow: INTERNAL spans for the steps of an agent, so the LLM calls
// beneath them form a tree (llm_otel.parent_call_id) in the DB and in the APM.

import { type Attributes, type Context, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { errorClassName } from '../adapters/errors.js';
import { cleanText } from '../content/index.js';
import { getLlmContext, getParentCallId, type LlmContext, mergeLlmContext, setLlmContext, setLlmScope } from '../context/context.js';
import { activeContext } from '../context/sources.js';
import { contextText, readField } from '../context/values.js';
import * as S from '../core/semconv.js';
import { VERSION } from '../core/version.js';
import { addContextAttributes } from '../finish/context-attributes.js';
import { hasResponsePromise, watchResponse } from '../instrumentation/api-promise.js';
import { getRuntime } from '../instrumentation/runtime.js';
import { maskKnownSecrets } from '../instrumentation/secret.js';
import { holdOpenWhileConsumed, type RunEnd } from './streams.js';

export interface RunOptions extends LlmContext {
  /** For tools: the id of the tool call (from the model's output) this run answers. */
  toolCallId?: string;
  /** Extra span attributes. */
  attributes?: Attributes;
}

export type RunKind = 'agent' | 'tool' | 'workflow';
type Kind = RunKind;
const OPERATION: Record<Kind, string> = { agent: 'invoke_agent', tool: 'execute_tool', workflow: 'invoke_workflow' };

function tracer() {
  return getRuntime()?.tracer() ?? trace.getTracer(S.INSTRUMENTATION_SCOPE, VERSION);
}

function endWithError(span: Span, err: unknown): void {
  try {
    const rt = getRuntime();
    // An openai error thrown through the run may echo the client's API key (secret.ts).
    let message = maskKnownSecrets(err instanceof Error ? err.message : String(err));
    if (rt) message = cleanText(message, { ...rt.content, maxChars: 1000 });
    span.setAttributes({ [S.ERROR_TYPE]: errorClassName(err), [S.LLM_OTEL_STATUS]: 'error' });
    span.setStatus({ code: SpanStatusCode.ERROR, message });
  } catch {
    /* never mask the user's error */
  }
  span.end();
}

function endOk(span: Span): void {
  span.setAttribute(S.LLM_OTEL_STATUS, 'ok');
  span.end();
}

type OpenRun = RunEnd;

/**
 * Ends the run's span exactly once. While open, the run sits in the runtime's open set, so a
 * process that exits inside it (`process.exit()` in an agent, a signal, a promise that never
 * settles) still records the run — as `cancelled` — and its calls' parent_call_id is not dangling.
 */
function track(span: Span): OpenRun {
  const open = getRuntime()?.open;
  let ended = false;
  const once = (end: () => void): void => {
    if (ended) return;
    ended = true;
    open?.delete(entry);
    end();
  };
  const cancel = (): void =>
    once(() => {
      span.setAttribute(S.LLM_OTEL_STATUS, 'cancelled');
      span.end();
    });
  const entry = { abandon: cancel };
  open?.add(entry);
  return { ok: () => once(() => endOk(span)), fail: (e) => once(() => endWithError(span, e)), cancel };
}

/** A run started and not yet ended: its context (for what runs beneath it) and its one end. */
export interface StartedRun extends RunEnd {
  readonly ctx: Context;
  readonly spanId: string;
}

/**
 * Starts a run beneath `parent` (default: the active context, or the run a framework holds in its
 * own async context: context/sources.ts). For code that sees a run's start and end as separate
 * events (a framework's callbacks); withAgent / withTool / withWorkflow wrap a function in one.
 * Never throws: undefined if the run could not be started.
 */
export function startRun(kind: Kind, name: string, opts: RunOptions = {}, parent: Context = activeContext()): StartedRun | undefined {
  try {
    const rt = getRuntime();
    // The options are the app's object: each field is read once, plain and bounded (context/values.ts).
    const llm = mergeLlmContext(getLlmContext(parent), opts);
    const label = contextText(name) ?? '';
    if (kind === 'agent' && label) llm.agentName = label;
    const attrs: Attributes = { [S.GEN_AI_OPERATION_NAME]: OPERATION[kind] };
    if (kind === 'tool') {
      attrs[S.GEN_AI_TOOL_NAME] = label;
      const toolCallId = contextText(readField(opts, 'toolCallId'));
      if (toolCallId) attrs[S.GEN_AI_TOOL_CALL_ID] = toolCallId;
    }
    if (kind === 'workflow') attrs[S.GEN_AI_WORKFLOW_NAME] = label;
    addContextAttributes(attrs, llm, rt?.content);
    const parentCallId = getParentCallId(parent);
    if (parentCallId) attrs[S.LLM_OTEL_PARENT_CALL_ID] = parentCallId;
    try {
      Object.assign(attrs, readField(opts, 'attributes') ?? {});
    } catch {
      /* the app's extra attributes are optional */
    }
    const span = tracer().startSpan(`${OPERATION[kind]} ${label}`, { kind: SpanKind.INTERNAL, attributes: attrs }, parent);
    const spanId = span.spanContext().spanId;
    const ctx = setLlmScope(setLlmContext(trace.setSpan(parent, span), llm), { spanId });
    return { ctx, spanId, ...track(span) };
  } catch {
    return undefined;
  }
}

function run<T>(kind: Kind, name: string, fn: () => T, opts: RunOptions = {}): T {
  const started = startRun(kind, name, opts);
  if (!started) return fn(); // tracing trouble never stops the user's function
  const { ctx } = started;
  const open: OpenRun = started;
  let result: T;
  try {
    result = context.with(ctx, fn);
  } catch (e) {
    open.fail(e);
    throw e;
  }
  // A stream (returned, or resolved to) keeps the run open until it is read (streams.ts).
  const settle = (value: unknown): void => {
    if (!holdOpenWhileConsumed(value, ctx, open)) open.ok();
  };
  if (result && typeof (result as any).then === 'function') {
    if (result instanceof Promise && Object.getPrototypeOf(result) === Promise.prototype) {
      return result.then(
        (v) => {
          settle(v);
          return v;
        },
        (e) => {
          open.fail(e);
          throw e;
        },
      ) as T;
    }
    // A promise subclass or thenable: keep the object the user gets. An openai APIPromise must not
    // be `.then()`-ed (that reads the body and breaks `.asResponse()`): the run ends when its HTTP
    // response arrives or fails (its internal responsePromise is a plain promise, safe to observe).
    if (hasResponsePromise(result) && typeof (result as any).asResponse === 'function') {
      if (
        !watchResponse(
          result,
          () => open.ok(),
          (e) => open.fail(e),
        )
      ) {
        (result as any).responsePromise.then(
          () => open.ok(),
          (e: unknown) => open.fail(e),
        );
      }
      return result;
    }
    // Registered before the app's own handlers: a stream it resolves to is wrapped before they see it.
    (result as any).then(settle, (e: unknown) => open.fail(e));
    return result;
  }
  settle(result);
  return result;
}

export function withAgent<T>(name: string, fn: () => T, opts?: RunOptions): T {
  return run('agent', name, fn, opts);
}

export function withTool<T>(name: string, fn: () => T, opts?: RunOptions): T {
  return run('tool', name, fn, opts);
}

export function withWorkflow<T>(name: string, fn: () => T, opts?: RunOptions): T {
  return run('workflow', name, fn, opts);
}
