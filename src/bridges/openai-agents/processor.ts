// The bridge's TracingProcessor: the SDK's traces and spans, as they start and end, become llm-otel
// runs (INTERNAL spans and `llm_runs` rows) — a trace an `invoke_workflow` run, an agent span an
// `invoke_agent` run, a function, handoff or guardrail span an `execute_tool` run — and the SDK's
// current span, looked up when an `openai` call starts, names the run that call belongs to.
// The SDK's response / generation spans describe the calls our `openai` patch records: they make
// no rows, they only lend their tool call ids to the tool runs that answer them.

import { type Attributes, type Context, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { cleanText } from '../../content/index.js';
import { getLlmContext, getParentCallId, type LlmContext, mergeLlmContext, setLlmContext, setLlmScope } from '../../context/context.js';
import { contextText } from '../../context/values.js';
import * as S from '../../core/semconv.js';
import { addContextAttributes } from '../../finish/context-attributes.js';
import { getRuntime } from '../../instrumentation/runtime.js';
import { maskKnownSecrets } from '../../instrumentation/secret.js';
import { type ToolCallSeen, takeToolCall, toolCallsOf } from './tool-calls.js';

/** The SDK's span and trace, as far as the bridge reads them (duck-typed: no compile-time dependency). */
export interface AgentsSpan {
  readonly spanId: string;
  readonly traceId: string;
  readonly parentId: string | null;
  readonly spanData: Record<string, any>;
  readonly error: { message?: unknown; data?: unknown } | null;
}
export interface AgentsTrace {
  readonly traceId: string;
  readonly name: string;
  readonly groupId?: string | null;
  readonly metadata?: Record<string, unknown>;
}

/** Attribute naming the SDK span type a run stands for (`agent`, `function`, `handoff`, `guardrail`, `trace`). */
export const SPAN_TYPE_ATTR = 'openai_agents.span.type';
export const TRACE_ID_ATTR = 'openai_agents.trace_id';

type Kind = 'agent' | 'tool' | 'workflow';
const OPERATION: Record<Kind, string> = { agent: 'invoke_agent', tool: 'execute_tool', workflow: 'invoke_workflow' };
const RUN_TYPES: Record<string, Kind> = { agent: 'agent', function: 'tool', handoff: 'tool', guardrail: 'tool' };

interface Run {
  kind: Kind;
  span: Span;
  /** The context of the run's LLM calls and child runs: its span, llm context and scope. */
  ctx: Context;
  /** The llm-otel scope active when it started: a call in a newer scope (withAgent inside a tool) keeps its own. */
  outer: string | undefined;
  /** Agent runs: the model's tool calls not yet matched to a tool run, and the SDK span data (tool names). */
  pending?: ToolCallSeen[];
  data?: Record<string, any>;
  entry: { abandon(reason: string): void };
  ended: boolean;
}

interface Node {
  parentId: string | null;
  traceId: string;
  run?: Run;
}

// Bounds on what is held for spans the SDK never ends (an abandoned stream): the oldest go first.
const MAX_OPEN = 10_000;
const MAX_PENDING = 256;
const MAX_HOPS = 64;

function errorMessage(err: { message?: unknown; data?: unknown }): string {
  const m = typeof err.message === 'string' ? err.message : 'error';
  const detail = (err.data as { error?: unknown } | undefined)?.error;
  return typeof detail === 'string' && detail !== '' && detail !== m ? `${m}: ${detail}` : m;
}

export class AgentsBridgeProcessor {
  private readonly nodes = new Map<string, Node>();
  private readonly traces = new Map<string, Run>();

  // ── the SDK's TracingProcessor interface ──────────────────────────────────────────────────────
  // Each method works synchronously and answers with a settled promise: the SDK awaits processors
  // in turn, and its own exporter after us must not wait on llm-otel.

  onTraceStart(t: AgentsTrace): Promise<void> {
    try {
      if (t && typeof t.traceId === 'string' && !this.traces.has(t.traceId)) {
        const fromSdk = mergeLlmContext(undefined, { sessionId: t.groupId ?? undefined, metadata: t.metadata as LlmContext['metadata'] });
        const run = this.start('workflow', 'trace', contextText(t.name) ?? 'Agent workflow', undefined, fromSdk);
        if (run) {
          run.span.setAttribute(TRACE_ID_ATTR, t.traceId);
          this.traces.set(t.traceId, run);
          this.bound(this.traces);
        }
      }
    } catch {
      /* never into the SDK */
    }
    return Promise.resolve();
  }

  onTraceEnd(t: AgentsTrace): Promise<void> {
    try {
      const run = this.traces.get(t?.traceId);
      if (run) {
        // (Ended already if a run in it failed; end() is once.)
        this.traces.delete(t.traceId);
        this.end(run, null);
      }
    } catch {
      /* never into the SDK */
    }
    return Promise.resolve();
  }

  onSpanStart(s: AgentsSpan): Promise<void> {
    try {
      if (!s || typeof s.spanId !== 'string' || this.nodes.has(s.spanId)) return Promise.resolve();
      const node: Node = { parentId: s.parentId ?? null, traceId: s.traceId };
      const data = s.spanData ?? {};
      const kind = RUN_TYPES[data.type];
      if (kind) {
        const name = contextText(data.name) ?? (data.type === 'handoff' ? 'handoff' : data.type);
        const run = this.start(kind, data.type, name, this.runAbove(node), undefined);
        if (run) {
          if (kind === 'agent') {
            run.pending = [];
            run.data = data;
          }
          node.run = run;
        }
      }
      this.nodes.set(s.spanId, node);
      this.bound(this.nodes);
    } catch {
      /* never into the SDK */
    }
    return Promise.resolve();
  }

  onSpanEnd(s: AgentsSpan): Promise<void> {
    try {
      const node = this.nodes.get(s?.spanId);
      const data = s?.spanData ?? {};
      if (data.type === 'response' || data.type === 'generation') {
        const calls = toolCallsOf(data);
        if (calls.length > 0) {
          const agent = this.runAbove(node ?? { parentId: s.parentId, traceId: s.traceId }, 'agent');
          if (agent?.pending) {
            agent.pending.push(...calls);
            if (agent.pending.length > MAX_PENDING) agent.pending.splice(0, agent.pending.length - MAX_PENDING);
          }
        }
      }
      if (node?.run) this.finishRun(node, data, s.error ?? null);
      else if (data.type === 'task' && s.error) {
        // A failed run: the SDK ends no trace after a run that threw (only after one that returned),
        // so its workflow ends here, with the run's error. It stays the parent of anything later in
        // that trace (an app that catches the error inside withTrace and goes on).
        const wf = this.traces.get(s.traceId);
        if (wf) this.end(wf, s.error);
      }
      this.nodes.delete(s?.spanId);
    } catch {
      /* never into the SDK */
    }
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    // The SDK shuts processors down when its list is replaced and at exit; llm-otel's runs end
    // through its own exit path (the runtime's open set), so there is nothing to do here.
    return Promise.resolve();
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  // ── the call-time lookup ─────────────────────────────────────────────────────────────────────────

  /**
   * The context of the run the SDK's current span (or trace) sits in, for a call starting now
   * with `active` as its OTel context; undefined when the SDK has no current step, or the call runs
   * in a newer llm-otel scope than that run did (the app's own `withAgent` inside a tool).
   */
  contextFor(active: Context, current: AgentsSpan | null | undefined, currentTrace: AgentsTrace | null | undefined): Context | undefined {
    let run: Run | undefined;
    if (current && typeof current.spanId === 'string') {
      const node = this.nodes.get(current.spanId) ?? { parentId: current.parentId ?? null, traceId: current.traceId };
      run = node.run ?? this.runAbove(node);
    } else if (currentTrace) {
      run = this.traces.get(currentTrace.traceId);
    }
    if (!run || run.outer !== getParentCallId(active)) return undefined;
    return run.ctx;
  }

  // ── runs ─────────────────────────────────────────────────────────────────────────────────────────

  /** The nearest run above `node` (of `kind`, if given): an ancestor span's, else its trace's. */
  private runAbove(node: Node, kind?: Kind): Run | undefined {
    let id = node.parentId;
    for (let hops = 0; id && hops < MAX_HOPS; hops++) {
      const up = this.nodes.get(id);
      if (!up) break;
      if (up.run && (kind === undefined || up.run.kind === kind)) return up.run;
      id = up.parentId;
    }
    if (kind !== undefined && kind !== 'workflow') return undefined;
    return this.traces.get(node.traceId);
  }

  private start(kind: Kind, sdkType: string, name: string, above: Run | undefined, extra: LlmContext | undefined): Run | undefined {
    const rt = getRuntime();
    if (!rt?.enabled) return undefined;
    const active = context.active();
    const outer = getParentCallId(active);
    // Under the run above when nothing newer of llm-otel's is active (the SDK keeps its own
    // current span; the OTel context is the app's where the SDK started this step).
    const parent = above && above.outer === outer ? above.ctx : active;
    let llm = getLlmContext(parent);
    if (extra) llm = mergeLlmContext(extra, llm); // the app's own context wins over the SDK's group id
    if (kind === 'agent') llm = { ...llm, agentName: name };
    const attrs: Attributes = { [S.GEN_AI_OPERATION_NAME]: OPERATION[kind], [SPAN_TYPE_ATTR]: sdkType };
    if (kind === 'tool') attrs[S.GEN_AI_TOOL_NAME] = name;
    if (kind === 'workflow') attrs[S.GEN_AI_WORKFLOW_NAME] = name;
    addContextAttributes(attrs, llm, rt.content);
    const parentCallId = getParentCallId(parent);
    if (parentCallId) attrs[S.LLM_OTEL_PARENT_CALL_ID] = parentCallId;
    const span = rt.tracer().startSpan(`${OPERATION[kind]} ${name}`, { kind: SpanKind.INTERNAL, attributes: attrs }, parent);
    const ctx = setLlmScope(setLlmContext(trace.setSpan(parent, span), llm), { spanId: span.spanContext().spanId });
    const run: Run = {
      kind,
      span,
      ctx,
      outer,
      ended: false,
      entry: {
        abandon: () => {
          if (run.ended) return;
          run.ended = true;
          getRuntime()?.open.delete(run.entry);
          span.setAttribute(S.LLM_OTEL_STATUS, 'cancelled');
          span.end();
        },
      },
    };
    rt.open.add(run.entry);
    return run;
  }

  /** What the span's data says once it ended (tool call id, handoff target, guardrail verdict), then the end. */
  private finishRun(node: Node, data: Record<string, any>, error: AgentsSpan['error']): void {
    const run = node.run!;
    if (run.ended) return;
    if (data.type === 'function' || data.type === 'handoff') {
      const agent = this.runAbove(node, 'agent');
      if (agent?.pending) {
        const tools = Array.isArray(agent.data?.tools)
          ? new Set<string>(agent.data.tools.filter((t: unknown) => typeof t === 'string'))
          : undefined;
        const call =
          data.type === 'function'
            ? takeToolCall(agent.pending, contextText(data.name), typeof data.input === 'string' ? data.input : undefined)
            : takeToolCall(agent.pending, undefined, undefined, tools ?? new Set());
        if (call) {
          run.span.setAttribute(S.GEN_AI_TOOL_CALL_ID, call.id);
          const toolName = data.type === 'handoff' ? contextText(call.name) : undefined;
          if (toolName) {
            run.span.setAttribute(S.GEN_AI_TOOL_NAME, toolName);
            run.span.updateName(`execute_tool ${toolName}`);
          }
        }
      }
      if (data.type === 'handoff') {
        const from = contextText(data.from_agent);
        const to = contextText(data.to_agent);
        if (from) run.span.setAttribute('openai_agents.handoff.from_agent', from);
        if (to) run.span.setAttribute('openai_agents.handoff.to_agent', to);
      }
    } else if (data.type === 'guardrail' && typeof data.triggered === 'boolean') {
      run.span.setAttribute('openai_agents.guardrail.triggered', data.triggered);
    }
    this.end(run, error);
  }

  private end(run: Run, error: AgentsSpan['error']): void {
    if (run.ended) return;
    run.ended = true;
    const rt = getRuntime();
    rt?.open.delete(run.entry);
    const { span } = run;
    if (error) {
      try {
        let message = maskKnownSecrets(errorMessage(error));
        if (rt) message = cleanText(message, { ...rt.content, maxChars: 1000 });
        span.setAttributes({ [S.ERROR_TYPE]: '_OTHER', [S.LLM_OTEL_STATUS]: 'error' });
        span.setStatus({ code: SpanStatusCode.ERROR, message });
      } catch {
        /* the end still happens */
      }
    } else {
      span.setAttribute(S.LLM_OTEL_STATUS, 'ok');
    }
    span.end();
  }

  private bound(map: Map<string, unknown>): void {
    while (map.size > MAX_OPEN) {
      const oldest = map.keys().next().value as string;
      const v = map.get(oldest) as Node | Run | undefined;
      const run = v && 'span' in v ? v : (v as Node | undefined)?.run;
      if (run) run.entry.abandon('too many open OpenAI Agents spans');
      map.delete(oldest);
    }
  }
}
