// Bounds what one token count costs, whatever the text.
//
// gpt-tokenizer splits text into pieces (a run of letters, of punctuation, of whitespace, a few
// digits) and merges each piece's bytes with a loop quadratic in the piece's length. Thai or Chinese
// without spaces, one character repeated, a wall of punctuation: each is one piece, and counting it
// took seconds. So:
//  - no run of one character class longer than RUN_LIMIT reaches the tokenizer: such runs are cut
//    there and the parts counted separately (a cut costs a token or two of accuracy). No piece the
//    tokenizer sees is then longer than about 2 × RUN_LIMIT, and the cost is linear in the text.
//    Text without such runs (prose, code, JSON) is never cut: its count is exactly the tokenizer's.
//  - one estimate (a call's prompt, one message) hands at most CALL_BUDGET characters to the
//    tokenizer: a text beyond what is left of it is counted on evenly spread windows (at least
//    MIN_SAMPLE characters' worth) and scaled to its length.

/** Longest run of one character class handed to the tokenizer uncut (code points). */
export const RUN_LIMIT = 256;
/** Most text (UTF-16 code units) one estimate hands to the tokenizer; beyond it, texts are sampled. */
export const CALL_BUDGET = 64 * 1024;
/** Smallest sample of a text once the budget is spent. */
export const MIN_SAMPLE = 4 * 1024;
/** Size of one sample window (code units). */
export const WINDOW = 1024;
/** How far a window edge may move to reach a space. */
const EDGE_SEEK = 32;

// The tokenizers' pre-token pieces (cl100k_base and o200k_base split patterns) are each made of at
// most: one leading character, a run of one of these classes, a contraction suffix, and (after
// punctuation) a run of LINE. Digits come in pieces of at most 3 and belong to no class.
const LETTER = 1; // \p{L} or \p{M}: letters and their combining marks
const SYMBOL = 2; // neither whitespace, letter nor digit: punctuation, symbols, marks, emoji, controls
const LINE = 4; // \r \n /: may trail a punctuation piece
const SPACE = 8; // \s
const KNOWN = 128;

const IS_LETTER = /[\p{L}\p{M}]/u;
const IS_ALPHA = /\p{L}/u;
const IS_DIGIT = /\p{N}/u;
const IS_SPACE = /\s/u;

// Class of every code point seen so far (KNOWN set once computed); allocated on first use.
let classes: Uint8Array | null = null;

function classOf(cp: number): number {
  const table = (classes ??= new Uint8Array(0x110000));
  const known = table[cp]!;
  if (known !== 0) return known & ~KNOWN;
  const ch = String.fromCodePoint(cp);
  const space = IS_SPACE.test(ch);
  let c = 0;
  if (IS_LETTER.test(ch)) c |= LETTER;
  if (!space && !IS_ALPHA.test(ch) && !IS_DIGIT.test(ch)) c |= SYMBOL;
  if (cp === 0x0a || cp === 0x0d || cp === 0x2f) c |= LINE;
  if (space) c |= SPACE;
  table[cp] = c | KNOWN;
  return c;
}

const isHigh = (u: number): boolean => u >= 0xd800 && u <= 0xdbff;
const isLow = (u: number): boolean => u >= 0xdc00 && u <= 0xdfff;

/**
 * Tokens of text[from, to) through `exact`, cutting every run of one class at RUN_LIMIT code
 * points (never inside a surrogate pair). One pass; each character is looked at once.
 */
function countCut(text: string, from: number, to: number, exact: (s: string) => number): number {
  if (to - from <= RUN_LIMIT) return exact(from === 0 && to === text.length ? text : text.slice(from, to));
  let tokens = 0;
  let start = from;
  let letters = 0,
    symbols = 0,
    lines = 0,
    spaces = 0;
  for (let i = from; i < to; i++) {
    const at = i;
    let cp = text.charCodeAt(i);
    if (isHigh(cp) && i + 1 < to && isLow(text.charCodeAt(i + 1))) {
      cp = text.codePointAt(i)!;
      i++;
    }
    const c = classOf(cp);
    letters = c & LETTER ? letters + 1 : 0;
    symbols = c & SYMBOL ? symbols + 1 : 0;
    lines = c & LINE ? lines + 1 : 0;
    spaces = c & SPACE ? spaces + 1 : 0;
    if (letters > RUN_LIMIT || symbols > RUN_LIMIT || lines > RUN_LIMIT || spaces > RUN_LIMIT) {
      tokens += exact(text.slice(start, at));
      start = at;
      letters = c & LETTER ? 1 : 0;
      symbols = c & SYMBOL ? 1 : 0;
      lines = c & LINE ? 1 : 0;
      spaces = c & SPACE ? 1 : 0;
    }
  }
  if (start === 0 && to === text.length) return exact(text);
  return tokens + exact(text.slice(start, to));
}

/**
 * A window edge at or after `i`: on the next space or line break if one is near (a word cut in two
 * costs an extra token), and never on the second half of a surrogate pair.
 */
function edge(text: string, i: number): number {
  const end = Math.min(text.length, i + EDGE_SEEK);
  for (let j = i; j < end; j++) {
    const u = text.charCodeAt(j);
    if (u === 0x20 || u === 0x0a) return j;
  }
  return i > 0 && i < text.length && isLow(text.charCodeAt(i)) && isHigh(text.charCodeAt(i - 1)) ? i + 1 : i;
}

/**
 * Token count of `text` by the tokenizer behind `exact`, handing it at most `limit` code units (at
 * least MIN_SAMPLE): the whole text with long runs cut, or evenly spread windows scaled to its length.
 */
export function countBounded(text: string, exact: (s: string) => number, limit = CALL_BUDGET): number {
  const n = text.length;
  const budget = Math.max(MIN_SAMPLE, limit);
  if (n <= budget) return countCut(text, 0, n, exact);
  const windows = Math.floor(budget / WINDOW);
  const step = (n - WINDOW) / (windows - 1);
  let tokens = 0;
  let counted = 0;
  for (let w = 0; w < windows; w++) {
    const at = Math.round(w * step);
    const a = edge(text, at);
    const b = edge(text, Math.min(n, at + WINDOW));
    tokens += countCut(text, a, b, exact);
    counted += b - a;
  }
  return Math.round((tokens * n) / counted);
}
