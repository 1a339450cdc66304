// Where an LLM call looks for the context it runs in, beyond the active OTel context: a framework
// bridge that keeps its own notion of "the current step" (the OpenAI Agents SDK's current span, on
// its own AsyncLocalStorage) answers with the context of the run it started for that step.
// Process-global (Symbol.for), so the ESM and CJS copies of llm-otel consult the same list.

import type { Context } from '@opentelemetry/api';

/** The context an LLM call should run in, given the active one; undefined: no opinion. */
export type CallContextResolver = (active: Context) => Context | undefined;

const KEY = Symbol.for('llm-otel.call-context-resolvers');
const g = globalThis as unknown as Record<symbol, CallContextResolver[] | undefined>;

/** Adds a resolver; returns its removal. */
export function addCallContextResolver(resolver: CallContextResolver): () => void {
  const list = (g[KEY] ??= []);
  list.push(resolver);
  return () => {
    const i = list.indexOf(resolver);
    if (i >= 0) list.splice(i, 1);
  };
}

/** The first resolver's answer, else `active`. Never throws: a failing resolver has no opinion. */
export function resolveCallContext(active: Context): Context {
  const list = g[KEY];
  if (list === undefined || list.length === 0) return active;
  for (const r of list) {
    try {
      const ctx = r(active);
      if (ctx !== undefined) return ctx;
    } catch {
      /* a bridge's trouble never reaches the app's call */
    }
  }
  return active;
}
