// Who an LLM call runs for (session / user / agent …) and which llm-otel span caused it, carried on
// the OpenTelemetry context (AsyncLocalStorage under `register`), so the values survive `await`,
// timers, Promise.all, event emitters and streams consumed later, and never leak across requests.
// Keys come from Symbol.for (via createContextKey) so the ESM and CJS copies of this package share
// them in one process.

import { type Context, context, createContextKey, propagation } from '@opentelemetry/api';
import { contextMetadata, contextTags, contextText, readField } from './values.js';

export interface LlmContext {
  sessionId?: string;
  userId?: string;
  agentName?: string;
  conversationId?: string;
  tags?: string[];
  metadata?: Record<string, string | number | boolean>;
}

export interface WithLlmContextOptions extends LlmContext {
  /** Also write session.id / user.id into W3C baggage so downstream services receive them. */
  propagate?: boolean;
}

const LLM_CONTEXT_KEY = createContextKey('llm-otel.context');
const PARENT_CALL_KEY = createContextKey('llm-otel.parent-call-id');

/**
 * Merges `inner` over `outer`: inner wins per key; tags are united (outer first, no duplicates);
 * metadata merges per key. Undefined values in `inner` never erase outer ones. `inner` is the app's
 * object: each field is read once and made plain and bounded (context/values.ts), so what the scope
 * carries can always be cloned and serialised; a field that throws when read becomes a marker.
 */
export function mergeLlmContext(outer: LlmContext | undefined, inner: LlmContext): LlmContext {
  const out: LlmContext = { ...(outer ?? {}) };
  if (inner === null || (typeof inner !== 'object' && typeof inner !== 'function')) return out;
  for (const k of ['sessionId', 'userId', 'agentName', 'conversationId'] as const) {
    const v = contextText(readField(inner, k));
    if (v !== undefined) out[k] = v;
  }
  const tags = contextTags(out.tags, readField(inner, 'tags'));
  if (tags !== undefined) out.tags = tags;
  const metadata = contextMetadata(readField(inner, 'metadata'));
  if (metadata !== undefined) out.metadata = { ...(out.metadata ?? {}), ...metadata };
  return out;
}

/** The llm context visible in `ctx`, with upstream W3C baggage session.id / user.id as fallback. */
export function getLlmContext(ctx: Context = context.active()): LlmContext {
  const own = ctx.getValue(LLM_CONTEXT_KEY) as LlmContext | undefined;
  const baggage = propagation.getBaggage(ctx);
  if (!baggage) return own ?? {};
  const fromBaggage: LlmContext = {};
  const s = contextText(baggage.getEntry('session.id')?.value);
  const u = contextText(baggage.getEntry('user.id')?.value);
  if (s !== undefined) fromBaggage.sessionId = s;
  if (u !== undefined) fromBaggage.userId = u;
  return own ? mergeLlmContext(fromBaggage, own) : fromBaggage;
}

export function setLlmContext(ctx: Context, value: LlmContext): Context {
  return ctx.setValue(LLM_CONTEXT_KEY, value);
}

/**
 * The nearest enclosing llm-otel span (LLM call, agent, tool or workflow). One context entry per
 * scope: an LLM call stores itself here, so its fetch hook finds it without a second entry
 * (every context entry copies the context's map).
 */
export interface LlmScope {
  readonly spanId: string;
}

export function getLlmScope(ctx: Context = context.active()): LlmScope | undefined {
  return ctx.getValue(PARENT_CALL_KEY) as LlmScope | undefined;
}

/** Span id of the nearest enclosing llm-otel span. */
export function getParentCallId(ctx: Context = context.active()): string | undefined {
  return (ctx.getValue(PARENT_CALL_KEY) as LlmScope | undefined)?.spanId;
}

export function setLlmScope(ctx: Context, scope: LlmScope): Context {
  return ctx.setValue(PARENT_CALL_KEY, scope);
}

/**
 * Runs `fn` (sync or async) with `attrs` merged over the current llm context. Returns what `fn`
 * returns (a promise stays a promise), and rethrows what it throws.
 */
export function withLlmContext<T>(attrs: WithLlmContextOptions, fn: () => T): T {
  let ctx = context.active();
  let merged: LlmContext;
  try {
    merged = mergeLlmContext(getLlmContext(ctx), attrs ?? {});
    ctx = setLlmContext(ctx, merged);
    if (readField(attrs, 'propagate')) {
      let bag = propagation.getBaggage(ctx) ?? propagation.createBaggage();
      if (merged.sessionId !== undefined) bag = bag.setEntry('session.id', { value: merged.sessionId });
      if (merged.userId !== undefined) bag = bag.setEntry('user.id', { value: merged.userId });
      ctx = propagation.setBaggage(ctx, bag);
    }
  } catch {
    // Bad attrs must never stop the user's function from running.
    return fn();
  }
  return context.with(ctx, fn);
}
