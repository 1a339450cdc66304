// What PostgreSQL refuses and SQLite stores: U+0000 in text and in jsonb (the `\u0000` escape),
// and in jsonb also escaped lone surrogates (`\ud800`). Both become U+FFFD on the way, so a batch
// is never refused for them. (Lone surrogates in plain text are already U+FFFD in the driver's
// UTF-8 encoding.) The common case — nothing to fix — costs one scan of the string.

const REPLACEMENT = '\uFFFD';

/** Text for a PostgreSQL text column. */
export function pgText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const s = typeof v === 'string' ? v : String(v);
  return s.includes('\u0000') ? s.replaceAll('\u0000', REPLACEMENT) : s;
}

/** JSON that may hold the escapes jsonb refuses (a false alarm, e.g. `\\u0000`, only costs a re-encode). */
const SUSPECT = /\\u(?:0000|d[89a-f])/i;

/**
 * Text for a jsonb column: valid JSON without what jsonb refuses. Text that is not JSON at all
 * (written by someone else's SQL) is stored as a JSON string rather than refused.
 */
export function pgJson(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const s = typeof v === 'string' ? v : String(v);
  let parsed: unknown;
  if (!SUSPECT.test(s)) {
    // The writer stores JSON.stringify output; anything else is checked once here.
    if (looksLikeJson(s)) return s;
  }
  try {
    parsed = JSON.parse(s);
  } catch {
    return JSON.stringify(cleanString(s));
  }
  return JSON.stringify(clean(parsed, 0));
}

function looksLikeJson(s: string): boolean {
  const c = s.charCodeAt(0);
  // Objects, arrays and strings as the writer makes them; a bare number or literal is re-checked.
  if (c !== 0x7b /* { */ && c !== 0x5b /* [ */ && c !== 0x22 /* " */) return false;
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

/** A string PostgreSQL takes anywhere: no U+0000, no lone surrogates. */
export function cleanString(s: string): string {
  const w = LONE_SURROGATE.test(s) ? s.replace(LONE_SURROGATES, REPLACEMENT) : s;
  return w.includes('\u0000') ? w.replaceAll('\u0000', REPLACEMENT) : w;
}

const LONE = '[\\uD800-\\uDBFF](?![\\uDC00-\\uDFFF])|(?<![\\uD800-\\uDBFF])[\\uDC00-\\uDFFF]';
const LONE_SURROGATE = new RegExp(LONE);
const LONE_SURROGATES = new RegExp(LONE, 'g');

function clean(v: unknown, depth: number): unknown {
  if (typeof v === 'string') return cleanString(v);
  if (v === null || typeof v !== 'object' || depth > 256) return v;
  if (Array.isArray(v)) return v.map((x) => clean(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[cleanString(k)] = clean(x, depth + 1);
  return out;
}
