// Contexts that live outside OpenTelemetry's. A framework may run the app's code in its own async
// context (LangChain keeps the current run in its own AsyncLocalStorage, and the OTel context seen
// there is the one its caller had): a bridge registers a source that maps that framework's current
// run to the llm-otel context of the run it recorded. Calls and runs starting there take their
// parent from activeContext(). Kept on a process-global slot (Symbol.for): the openai patch may come
// from the other (ESM/CJS) copy of llm-otel than the bridge.

import { type Context, context } from '@opentelemetry/api';

/** Returns the context to use instead of `active`, or undefined to keep it. Must be cheap: it runs per call. */
export type ContextSource = (active: Context) => Context | undefined;

const KEY = Symbol.for('llm-otel.context-sources');
const g = globalThis as unknown as Record<symbol, ContextSource[] | undefined>;

/** Adds a source; returns its removal. */
export function addContextSource(source: ContextSource): () => void {
  const list = (g[KEY] ??= []);
  list.push(source);
  return () => {
    const i = list.indexOf(source);
    if (i >= 0) list.splice(i, 1);
  };
}

/** The active OTel context, or what a framework's own context says is current beneath it. */
export function activeContext(): Context {
  const active = context.active();
  const list = g[KEY];
  if (!list || list.length === 0) return active;
  for (const source of list) {
    try {
      const ctx = source(active);
      if (ctx) return ctx;
    } catch {
      /* a source never breaks a call */
    }
  }
  return active;
}
