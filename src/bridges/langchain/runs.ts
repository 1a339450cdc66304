// LangChain runs → llm-otel runs. The bridge's callback handler sees every chain, graph and tool
// run start and end (with its parent run id); what becomes an llm-otel run:
//   - a LangGraph graph (createAgent's agent, a hand-built StateGraph, a subgraph, an agent called
//     from a tool): an agent run named after the graph (createAgent's `name`);
//   - a tool: a tool run with the model's tool call id;
//   - a chain the app invokes itself (no LangChain parent: `prompt.pipe(model).invoke()`): a
//     workflow run;
//   - everything else (a graph's nodes — "model_request", "tools", `__start__`, routing —, the
//     sequences and lambdas inside them): no run of its own; what runs inside belongs to the
//     nearest recorded run.
// LLM calls are not recorded here: ChatOpenAI calls the `openai` package, which llm-otel records
// already, once. They find their parent through a context source: LangChain keeps its current run in
// its own AsyncLocalStorage (the OTel context there is still its caller's), so activeContext() maps
// that run id to the llm-otel context of the run recorded for it (context/sources.ts).

import { AsyncLocalStorage } from 'node:async_hooks';
import { type Context, context, createContextKey } from '@opentelemetry/api';
import { type RunKind, type RunOptions, type StartedRun, startRun } from '../../api/runs.js';
import { activeContext, addContextSource } from '../../context/sources.js';

/** On the contexts the bridge hands out: the LangChain run id they belong to. */
const LC_RUN = createContextKey('llm-otel.langchain-run');
/** LangChain's own AsyncLocalStorage (@langchain/core singletons) and the key of a run's child config in its store. */
const ALS_KEY = Symbol.for('ls:tracing_async_local_storage');
const CHILD_CONFIG = Symbol.for('lc:child_config');
/** Runs whose end LangChain never reported are forgotten past this many (their spans end at exit). */
const MAX_OPEN = 10_000;

interface Entry {
  readonly ctx: Context;
  readonly run?: StartedRun;
}

type Serialized = { id?: unknown; name?: unknown } | undefined;

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The last part of a serialized runnable's id (its class), or its name. */
function className(s: Serialized): string | undefined {
  const id = Array.isArray(s?.id) ? s.id : [];
  return text(id[id.length - 1]) ?? text(s?.name);
}

/** A compiled LangGraph graph (createAgent returns one). */
function isGraph(s: Serialized): boolean {
  const id = Array.isArray(s?.id) ? s.id : [];
  return id[0] === 'langgraph' || /^(CompiledStateGraph|CompiledGraph|Pregel)$/.test(className(s) ?? '');
}

/**
 * How a failed LangChain run ends: LangGraph's control flow (an interrupt waiting for a human, a
 * subgraph's command to its parent) and an abort are not failures.
 */
function endFailed(run: StartedRun, err: unknown): void {
  const e = err as { name?: unknown; message?: unknown } | null;
  const name = e?.name;
  // LangGraph aborts a graph whose stream the app left (break) with a plain Error('Abort').
  const aborted = name === 'AbortError' || (name === 'Error' && e?.message === 'Abort');
  if (name === 'ParentCommand') run.ok();
  else if (aborted || name === 'GraphInterrupt' || name === 'NodeInterrupt') run.cancel();
  else run.fail(err);
}

/** LangChain's AsyncLocalStorage store where the current code runs (undefined outside any runnable). */
function langChainStore(): unknown {
  return (globalThis as Record<symbol, any>)[ALS_KEY]?.getStore?.();
}

/** The parent run id of a callback manager (the run whose children it configures). */
function parentRunOf(manager: any): string | undefined {
  if (!manager || typeof manager !== 'object' || Array.isArray(manager)) return undefined;
  return text(typeof manager.getParentRunId === 'function' ? manager.getParentRunId() : manager._parentRunId);
}

/** The id of the LangChain run a LangChain store belongs to. */
function runOfStore(store: any): string | undefined {
  return parentRunOf(store?.extra?.[CHILD_CONFIG]?.callbacks);
}

/**
 * Where LangChain hands a run's callbacks on explicitly, without entering its AsyncLocalStorage (the
 * steps of a RunnableSequence), the bridge notes the run itself: in its own AsyncLocalStorage,
 * entered when a child configures its callbacks there (so for the rest of that child's async
 * function, e.g. a chat model's call), together with LangChain's store of that moment — once
 * LangChain enters a deeper store, LangChain's is the one that counts.
 */
interface StepStore {
  readonly runId: string;
  readonly lcStore: unknown;
}
let stepStorage: AsyncLocalStorage<StepStore> | undefined;

export class LangChainRuns {
  private readonly entries = new Map<string, Entry>();
  private removeSource: (() => void) | undefined;
  /** The LangChain callback handler (duck-typed: what @langchain/core's isBaseCallbackHandler checks). */
  readonly handler: Record<string, unknown>;

  constructor() {
    const guard =
      <A extends unknown[]>(f: (...a: A) => void) =>
      (...a: A): void => {
        try {
          f(...a);
        } catch {
          /* never into LangChain's run */
        }
      };
    this.handler = {
      name: 'llm_otel',
      // Called inline, before the run's work starts, so its context exists when its first call does.
      awaitHandlers: true,
      raiseError: false,
      ignoreLLM: true,
      ignoreRetriever: true,
      ignoreCustomEvent: true,
      copy() {
        return this;
      },
      // The order @langchain/core's CallbackManager calls these with (its .d.ts says otherwise).
      handleChainStart: guard(
        (
          chain: Serialized,
          _inputs: unknown,
          runId: unknown,
          parentRunId: unknown,
          _tags: unknown,
          _metadata: unknown,
          _runType: unknown,
          runName: unknown,
        ) => this.chainStart(chain, text(runId), text(parentRunId), text(runName)),
      ),
      handleChainEnd: guard((_outputs: unknown, runId: unknown) => this.end(text(runId))),
      handleChainError: guard((err: unknown, runId: unknown) => this.end(text(runId), err)),
      handleToolStart: guard(
        (
          tool: Serialized,
          _input: unknown,
          runId: unknown,
          parentRunId: unknown,
          _tags: unknown,
          _metadata: unknown,
          runName: unknown,
          toolCallId: unknown,
        ) => this.toolStart(tool, text(runId), text(parentRunId), text(runName), text(toolCallId)),
      ),
      handleToolEnd: guard((_output: unknown, runId: unknown) => this.end(text(runId))),
      handleToolError: guard((err: unknown, runId: unknown) => this.end(text(runId), err)),
    };
  }

  enable(): void {
    this.removeSource ??= addContextSource((active) => this.contextFor(active));
  }

  disable(): void {
    this.removeSource?.();
    this.removeSource = undefined;
  }

  get enabled(): boolean {
    return this.removeSource !== undefined;
  }

  /** Runs LangChain has not reported ended (for tests). */
  get openRuns(): number {
    return this.entries.size;
  }

  /**
   * Adds the handler to a callback manager `_configureSync` built (inheritable, so child runs get it
   * too), or to a new one of class `cls` when there was none (no callbacks configured at all).
   */
  attach(manager: unknown, cls: unknown): unknown {
    if (!this.enabled) return manager;
    let m = manager as { handlers?: unknown[]; addHandler?: (h: unknown, inherit: boolean) => void } | undefined;
    if (!m) {
      if (typeof cls !== 'function') return manager;
      m = new (cls as new () => typeof m)();
    }
    if (!m || !Array.isArray(m.handlers) || typeof m.addHandler !== 'function') return manager;
    if (!m.handlers.includes(this.handler)) m.addHandler(this.handler, true);
    this.noteConfigured(m);
    return m;
  }

  /** A child configuring its callbacks beneath a run LangChain's own context does not name (StepStore). */
  private noteConfigured(manager: unknown): void {
    const runId = parentRunOf(manager);
    if (!runId || !this.entries.has(runId)) return;
    const lcStore = langChainStore();
    if (runOfStore(lcStore) === runId) return;
    const mine = stepStorage?.getStore();
    if (mine?.runId === runId && mine.lcStore === lcStore) return;
    stepStorage ??= new AsyncLocalStorage<StepStore>();
    stepStorage.enterWith({ runId, lcStore });
  }

  /**
   * The parent of a run LangChain starts beneath `parentRunId`: the app's own scope if it entered
   * one inside that run (a withTool in a tool function), else that run's context; for a run with no
   * known parent, the active context.
   */
  private parentFor(parentRunId: string | undefined): { parent?: Entry; ctx: Context } {
    const parent = parentRunId ? this.entries.get(parentRunId) : undefined;
    if (!parent) return { ctx: activeContext() };
    const active = context.active();
    return { parent, ctx: active.getValue(LC_RUN) === parentRunId ? active : parent.ctx };
  }

  private chainStart(chain: Serialized, runId: string | undefined, parentRunId: string | undefined, runName: string | undefined): void {
    if (!runId) return;
    const { parent, ctx } = this.parentFor(parentRunId);
    const graph = isGraph(chain);
    if (graph || !parent) this.open(runId, graph ? 'agent' : 'workflow', runName ?? className(chain) ?? 'chain', {}, ctx);
    else this.remember(runId, { ctx: ctx.setValue(LC_RUN, runId) });
  }

  private toolStart(
    tool: Serialized,
    runId: string | undefined,
    parentRunId: string | undefined,
    runName: string | undefined,
    toolCallId: string | undefined,
  ): void {
    if (!runId) return;
    const { ctx } = this.parentFor(parentRunId);
    this.open(runId, 'tool', runName ?? text(tool?.name) ?? className(tool) ?? 'tool', toolCallId ? { toolCallId } : {}, ctx);
  }

  private open(runId: string, kind: RunKind, name: string, opts: RunOptions, parent: Context): void {
    const run = startRun(kind, name, opts, parent);
    this.remember(runId, { ctx: (run?.ctx ?? parent).setValue(LC_RUN, runId), run });
  }

  private remember(runId: string, entry: Entry): void {
    this.entries.set(runId, entry);
    if (this.entries.size > MAX_OPEN) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  private end(runId: string | undefined, err?: unknown): void {
    if (!runId) return;
    const entry = this.entries.get(runId);
    if (!entry) return;
    this.entries.delete(runId);
    if (!entry.run) return;
    if (err === undefined) entry.run.ok();
    else endFailed(entry.run, err);
  }

  /** The context source: inside a LangChain run, the context of the run recorded for it. */
  private contextFor(active: Context): Context | undefined {
    if (this.entries.size === 0) return undefined;
    const lcStore = langChainStore();
    let id = runOfStore(lcStore);
    const step = stepStorage?.getStore();
    if (step && step.lcStore === lcStore && this.entries.has(step.runId)) id = step.runId;
    if (!id || active.getValue(LC_RUN) === id) return undefined;
    return this.entries.get(id)?.ctx;
  }
}

const KEY = Symbol.for('llm-otel.langchain-runs');
const g = globalThis as unknown as Record<symbol, LangChainRuns | undefined>;

/** One per process, whichever copy of llm-otel (ESM or CJS) hooks which copy of @langchain/core. */
export function langChainRuns(): LangChainRuns {
  g[KEY] ??= new LangChainRuns();
  return g[KEY];
}
