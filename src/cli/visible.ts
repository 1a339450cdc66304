// Stored text is untrusted (prompts, model output, error messages, ids from the app): printed raw,
// an escape sequence in it could clear the screen, move the cursor, set the window title or write
// the clipboard (OSC 52), and a bidi override could make a line read differently than it is.
// Human output shows such characters as visible escapes instead; JSON output keeps exact values.

/**
 * Control characters (C0, DEL, C1) and the bidirectional formatting characters (the "Trojan
 * Source" set: ALM, LRM, RLM, LRE…RLO, LRI…PDI).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(c: string): string {
  const code = c.charCodeAt(0);
  if (NAMED[c]) return NAMED[c]!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

export interface VisibleOptions {
  /** Keep line feeds (multi-line text such as a message body); otherwise shown as `\n`. */
  newlines?: boolean;
  /** Keep tabs; otherwise shown as `\t` (a tab breaks table alignment). */
  tabs?: boolean;
}

/**
 * `s` with every control and bidi formatting character replaced by a visible escape: `\x1b`, `\x9b`,
 * `\r`, `\u202e`. Idempotent (escapes are plain ASCII). A literal backslash is left as it is, so
 * the result is for reading, not for parsing back.
 */
export function visible(s: string, o: VisibleOptions = {}): string {
  return s.replace(UNSAFE, (c) => ((c === '\n' && o.newlines) || (c === '\t' && o.tabs) ? c : escapeOne(c)));
}

const JSON_RAW = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/**
 * JSON text with DEL, C1 and bidi formatting characters (and U+2028/9) written as `\uXXXX`
 * escapes: JSON.stringify escapes C0 itself but passes these through raw. The value parsed back is
 * the same; these characters can only occur inside JSON strings, so replacing them is safe.
 */
export function jsonSafe(json: string): string {
  return json.replace(JSON_RAW, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
