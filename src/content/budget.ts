// A per-call size budget for recorded content. Each string is already cut at maxChars; the budget
// bounds how many of them (messages, parts, tool definitions, JSON keys and items) one call
// records, so 20 tools × 20,000-property schemas or 100,000 streamed tool calls cost a bounded
// attribute — and the work stops there, instead of building the whole copy and cutting it after.

/** Content chars the request side (or the response side) of one call may record, at least. */
export const MIN_CALL_CONTENT_CHARS = 1 << 20;

/** What every part, message, key or item costs beyond its strings (its JSON punctuation and type). */
const ENTRY_CHARS = 32;

export interface ContentBudget {
  left: number;
}

/** The budget for one side of a call: 1 Mi chars, or 64 full-length strings when that is more. */
export function callContentBudget(maxChars: number): ContentBudget {
  return { left: Math.max(MIN_CALL_CONTENT_CHARS, 64 * (Number.isFinite(maxChars) && maxChars > 0 ? maxChars : 0)) };
}

export function budgetSpent(b: ContentBudget | undefined): boolean {
  return b !== undefined && b.left <= 0;
}

export function charge(b: ContentBudget | undefined, chars: number): void {
  if (b !== undefined) b.left -= chars;
}

/** The marker that stands for what was left out: `…[truncated: 17 more messages]`. */
export function omissionMarker(count: number, what: string): string {
  return `…[truncated: ${count} more ${what}]`;
}

/**
 * Calls `fn` for each item while the budget lasts (each item costs ENTRY_CHARS on top of what
 * `fn` records); when it runs out, calls `omit` once with the number of items left out.
 */
export function eachWithin<T>(
  items: readonly T[],
  b: ContentBudget | undefined,
  fn: (item: T) => void,
  omit: (left: number) => void,
): void {
  for (let i = 0; i < items.length; i++) {
    if (budgetSpent(b)) {
      omit(items.length - i);
      return;
    }
    charge(b, ENTRY_CHARS);
    fn(items[i]!);
  }
}
