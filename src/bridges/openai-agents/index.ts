// The OpenAI Agents SDK bridge: when the app loads `@openai/agents-core` (directly or through
// `@openai/agents`), a TracingProcessor of llm-otel's joins the SDK's processors (its own exporter
// stays), and LLM calls look up the SDK's current span to find the run they belong to. When it
// loads `@openai/agents-openai`, requests over its WebSocket transport become calls (ws-model.ts).
// Hooked by require-in-the-middle (CJS) and import-in-the-middle (ESM; `register`'s loader hook
// includes these packages by name). Everything is duck-typed: nothing here loads the SDK.

import { InstrumentationBase, InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import { addContextSource } from '../../context/sources.js';
import { INSTRUMENTATION_SCOPE } from '../../core/semconv.js';
import { VERSION } from '../../core/version.js';
import { warnOnce } from '../../core/warn.js';
import { AgentsBridgeProcessor, type AgentsSpan, type AgentsTrace } from './processor.js';
import { AGENTS_OPENAI_MODULE, bridgeAgentsOpenAI } from './ws-model.js';

export { AGENTS_OPENAI_MODULE } from './ws-model.js';

/** The package the bridge hooks (the ESM loader hook must include it by name). */
export const AGENTS_CORE_MODULE = '@openai/agents-core';

interface AgentsCore {
  getGlobalTraceProvider(): TraceProviderLike;
  getCurrentSpan?(): AgentsSpan | null;
  getCurrentTrace?(): AgentsTrace | null;
}
interface TraceProviderLike {
  registerProcessor(p: unknown): void;
  setProcessors(list: unknown[]): void;
}

// One bridge per process, whichever copy of llm-otel (ESM/CJS) or of the SDK loads first: both SDK
// copies share one provider and one current-span storage (the SDK keeps them on Symbol.for slots).
const STATE_KEY = Symbol.for('llm-otel.openai-agents-bridge');
interface BridgeState {
  processor: AgentsBridgeProcessor;
  providers: WeakSet<object>;
  sdk?: AgentsCore;
  removeResolver?: () => void;
}
const g = globalThis as unknown as Record<symbol, BridgeState | undefined>;

function state(): BridgeState {
  return (g[STATE_KEY] ??= { processor: new AgentsBridgeProcessor(), providers: new WeakSet() });
}

/**
 * Adds llm-otel's processor to the SDK's global trace provider, first in its list, and keeps it
 * there when the app or the SDK replaces the list (`@openai/agents` does so as it loads, to install
 * its default exporter): the SDK's processors are kept as given, only ours is put in front. First,
 * because the SDK calls its processors one after another, awaiting each: the first one sees a span
 * start synchronously, before the step it opens makes any call.
 */
export function bridgeAgentsCore(mod: unknown): void {
  const sdk = mod as AgentsCore;
  if (!sdk || typeof sdk.getGlobalTraceProvider !== 'function') {
    warnOnce('openai-agents:shape', `${AGENTS_CORE_MODULE} has no getGlobalTraceProvider(); agent runs are not bridged`);
    return;
  }
  const st = state();
  st.sdk ??= sdk;
  const provider = sdk.getGlobalTraceProvider();
  if (!provider || typeof provider !== 'object' || st.providers.has(provider)) return;
  if (typeof provider.registerProcessor !== 'function' || typeof provider.setProcessors !== 'function') {
    warnOnce('openai-agents:provider', `${AGENTS_CORE_MODULE}'s trace provider has an unknown shape; agent runs are not bridged`);
    return;
  }
  st.providers.add(provider);
  const ours = st.processor;
  const setProcessors = provider.setProcessors;
  provider.setProcessors = function setProcessorsKeepingLlmOtel(this: unknown, list: unknown[]) {
    const theirs = Array.isArray(list) ? list.filter((p) => p !== ours) : list;
    return setProcessors.call(this, Array.isArray(theirs) ? [ours, ...theirs] : theirs);
  };
  provider.registerProcessor(ours);
  st.removeResolver ??= addContextSource((active) => {
    const s = st.sdk;
    if (!s) return undefined;
    const current = s.getCurrentSpan?.() ?? null;
    return st.processor.contextFor(active, current, current ? null : (s.getCurrentTrace?.() ?? null));
  });
}

/**
 * The bridge as an OpenTelemetry instrumentation (`register` enables it). Runs are created through
 * llm-otel's runtime (the tracer the `openai` patch uses), so it does nothing without one.
 */
export class OpenAIAgentsBridge extends InstrumentationBase {
  constructor() {
    super(`${INSTRUMENTATION_SCOPE}/openai-agents`, VERSION, { enabled: false });
  }

  protected init() {
    return [
      new InstrumentationNodeModuleDefinition(AGENTS_CORE_MODULE, ['*'], (mod) => {
        try {
          bridgeAgentsCore(mod);
        } catch {
          /* the app's import never fails because of llm-otel */
        }
        return mod;
      }),
      // Its Responses-over-WebSocket model, whose requests never reach the `openai` package.
      new InstrumentationNodeModuleDefinition(AGENTS_OPENAI_MODULE, ['*'], (mod) => {
        try {
          bridgeAgentsOpenAI(mod);
        } catch {
          /* the app's import never fails because of llm-otel */
        }
        return mod;
      }),
    ];
  }
}
