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
