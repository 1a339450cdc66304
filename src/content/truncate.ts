// Truncation with a marker that keeps the original length, so the exporter can recover
// content_chars / truncated from the string alone (TEAM.md "TRUNCATION MARKER").

const MARKER_PREFIX = '…[truncated: ';
const MARKER_RE = /…\[truncated: (\d+) chars\]$/;

/** The suffix appended to truncated text; `originalChars` is the length before truncation. */
export function truncationMarker(originalChars: number): string {
  return `${MARKER_PREFIX}${originalChars} chars]`;
}

/** Index at or below `end` that does not split a UTF-16 surrogate pair. */
export function safeCut(text: string, end: number): number {
  if (end <= 0) return 0;
  if (end >= text.length) return text.length;
  const c = text.charCodeAt(end - 1);
  return c >= 0xd800 && c <= 0xdbff ? end - 1 : end;
}

/**
 * Longer than `maxChars` → first `maxChars` chars (one less if that would split a surrogate pair)
 * + `…[truncated: N chars]` with N = text.length. A NaN/negative/Infinity limit never truncates
 * except 0, which keeps only the marker.
 */
export function truncateText(text: string, maxChars: number): string {
  if (typeof text !== 'string') return text;
  if (!(text.length > maxChars) || !(maxChars >= 0)) return text;
  return text.slice(0, safeCut(text, Math.floor(maxChars))) + truncationMarker(text.length);
}

/**
 * Identifiers and names a provider or app sends (ids, model names, request ids, finish reasons,
 * tool names, tool call ids, part types) are kept to this many chars: a real one is far shorter,
 * and a hostile one must not be stored, sent or indexed whole.
 */
export const MAX_FIELD_CHARS = 256;

/**
 * `truncateText(text, MAX_FIELD_CHARS)`, idempotent: a value this function already cut (it may
 * be capped again on another thread) keeps its marker and original length.
 */
export function capField(text: string): string {
  if (typeof text !== 'string' || text.length <= MAX_FIELD_CHARS) return text;
  // A marker is at most 36 chars: only a string that short can be one this function made.
  if (text.length <= MAX_FIELD_CHARS + 36) {
    const t = parseTruncation(text);
    if (t.truncated && text.length - truncationMarker(t.chars).length <= MAX_FIELD_CHARS) return text;
  }
  return truncateText(text, MAX_FIELD_CHARS);
}

/** Inverse of truncateText: original length and whether the text carries the marker. */
export function parseTruncation(text: string): { chars: number; truncated: boolean } {
  if (typeof text !== 'string') return { chars: 0, truncated: false };
  // Fast path: every marker ends with ']'.
  if (text.charCodeAt(text.length - 1) === 93 && text.lastIndexOf(MARKER_PREFIX) !== -1) {
    const m = MARKER_RE.exec(text);
    if (m) {
      const n = Number(m[1]);
      if (Number.isSafeInteger(n)) return { chars: n, truncated: true };
    }
  }
  return { chars: text.length, truncated: false };
}
