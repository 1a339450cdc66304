// What every converter needs: the redactor and the per-string length limit.

import { type ContentBudget, charge } from './budget.js';
import type { Redactor } from './redact.js';
import { capField, safeCut, truncationMarker } from './truncate.js';

export interface ContentOptions {
  redact: Redactor;
  maxChars: number;
  /** Context fields stored as given, not redacted (LLM_OTEL_KEEP_CONTEXT): `user_id`, `metadata.<key>`, … */
  keepContext?: ReadonlySet<string>;
  /** The call's remaining content budget (budget.ts); without one, only maxChars applies. */
  budget?: ContentBudget;
}

/**
 * Redaction looks this far past the cut. Longer than any built-in secret shape (emails ≤ ~330,
 * cards ≤ 23, keys/JWTs typically < 2 KB), so a secret straddling the cut is matched whole, while
 * the work on a huge string stays bounded by maxChars instead of the string's size.
 */
export const REDACT_LOOKAHEAD = 2048;

/** Any value → text (never throws). */
export function toText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v == null) return '';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  try {
    const s = JSON.stringify(v);
    return typeof s === 'string' ? s : '';
  } catch {
    return '';
  }
}

/** An identifier (id, name, role, type) in recorded content: capped, and drawn from the budget. */
export function cleanField(s: string, o: ContentOptions): string {
  const v = capField(s);
  charge(o.budget, v.length);
  return v;
}

/**
 * Redact, then truncate. Redaction sees the text beyond the cut (REDACT_LOOKAHEAD) so a secret
 * cut in half is still masked. The marker reports the length of the original (unredacted) text;
 * a text whose redacted form fits the limit is not truncated (a mask may make a text a few
 * chars longer than the limit, or a long text short enough).
 */
export function cleanText(s: string, o: ContentOptions): string {
  const b = o.budget;
  if (b === undefined) return cleanWithin(s, o, o.maxChars);
  // The string that crosses the budget is cut where it runs out (marker only once it has).
  const out = cleanWithin(s, o, b.left >= o.maxChars || !(o.maxChars >= 0) ? o.maxChars : Math.max(0, b.left));
  charge(b, out.length);
  return out;
}

function cleanWithin(s: string, o: ContentOptions, max: number): string {
  const text = typeof s === 'string' ? s : toText(s);
  if (!(text.length > max) || !(max >= 0)) return o.redact(text);
  const limit = Math.floor(max);
  const end = safeCut(text, limit + REDACT_LOOKAHEAD);
  const head = o.redact(text.slice(0, end));
  // Masks can shorten a text below the limit: then nothing was cut and there is no marker.
  if (end === text.length && head.length <= limit) return head;
  return head.slice(0, safeCut(head, limit)) + truncationMarker(text.length);
}
