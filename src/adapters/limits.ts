// Limits on what a provider's response may cost us. Provider data is untrusted: its indices key
// maps (never arrays), its counts are checked before they become tokens and cost, and what it
// sends is kept to a bounded size, so a hostile or broken server costs at most linear work in its
// bytes and never changes what the app sees.

import { warnOnce } from '../core/warn.js';
import type { Usage } from './types.js';

/** Distinct choices per stream, and distinct tool calls per choice, that a stream accumulates. */
export const MAX_STREAM_ENTRIES = 1024;

export function tooManyEntries(what: string): void {
  warnOnce(
    'provider:stream-entries',
    `a streamed response has more than ${MAX_STREAM_ENTRIES} distinct ${what}; the rest are not recorded (the app's stream is unaffected)`,
  );
}

/** No real call comes near this many tokens; a count above it is a provider bug, not usage. */
export const MAX_USAGE_TOKENS = 1_000_000_000;

/** One reported token count: absent (undefined/null), a valid count, or not a count at all. */
function tokenCount(v: unknown): number | undefined | null {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_USAGE_TOKENS ? v : null;
}

/**
 * Provider usage from its token-count fields, or undefined when it reported none. A usage object
 * with any count that is not an integer in 0…MAX_USAGE_TOKENS is not recorded as provider usage
 * at all (one bogus count makes the others suspect): the call falls back to an offline estimate,
 * as when no usage is sent, and one warning says so.
 */
export function usageFrom(input: unknown, output: unknown, cached: unknown, reasoning: unknown): Usage | undefined {
  const counts = [tokenCount(input), tokenCount(output), tokenCount(cached), tokenCount(reasoning)];
  if (counts.includes(null)) {
    warnOnce(
      'provider:usage',
      `the provider reported token usage that is not a count (${describe([input, output, cached, reasoning])}); it is not recorded, the call's usage is estimated instead (llm_otel.usage_source = estimated, or none)`,
    );
    return undefined;
  }
  const [inputTokens, outputTokens, cachedInputTokens, reasoningTokens] = counts as (number | undefined)[];
  if (inputTokens === undefined && outputTokens === undefined) return undefined;
  const usage: Usage = {};
  if (inputTokens !== undefined) usage.inputTokens = inputTokens;
  if (outputTokens !== undefined) usage.outputTokens = outputTokens;
  if (cachedInputTokens !== undefined) usage.cachedInputTokens = cachedInputTokens;
  if (reasoningTokens !== undefined) usage.reasoningTokens = reasoningTokens;
  return usage;
}

/** Whether a usage object carries token counts at all (a stream keeps the last one that does). */
export function hasTokenCounts(u: any): boolean {
  if (!u || typeof u !== 'object') return false;
  const present = (v: unknown) => v !== undefined && v !== null;
  return present(u.prompt_tokens) || present(u.completion_tokens) || present(u.input_tokens) || present(u.output_tokens);
}

function describe(values: unknown[]): string {
  const bad = values.find((v) => tokenCount(v) === null);
  let text: string;
  try {
    text = typeof bad === 'string' ? JSON.stringify(bad) : String(bad);
  } catch {
    text = typeof bad;
  }
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** Nesting kept of a response that JSON cannot write whole (content is read to depth ~30). */
export const MAX_RESULT_DEPTH = 64;

/** A copy of JSON-like data cut at `depth` levels ('[…]' below), iterating no deeper than that. */
export function withinDepth(v: unknown, depth: number): unknown {
  if (typeof v === 'bigint') return String(v);
  if (v === null || typeof v !== 'object') return v;
  if (depth <= 0) return '[…]';
  if (Array.isArray(v)) return v.map((x) => withinDepth(x, depth - 1));
  // Null prototype: a "__proto__" key (JSON.parse makes it an own key) stays a plain key.
  const out: Record<string, unknown> = Object.create(null);
  for (const k of Object.keys(v)) out[k] = withinDepth((v as Record<string, unknown>)[k], depth - 1);
  return out;
}
