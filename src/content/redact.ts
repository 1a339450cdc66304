// Masks personal data and credentials in free text before it is put on a span.
// Runs on every captured string, so the regexes are precompiled and each runs only after a cheap
// scan (indexOf of '@', ':', '=', '-', '_', '-----BEGIN ', a literal-prefix test) found a place
// where it could match; card and phone share one scan. Quantifiers are bounded, so hostile input (a megabyte
// of digits, letters or separators) stays linear. A 2 KB prompt costs a few microseconds.

export type MaskerName = 'email' | 'phone' | 'api_key' | 'card';
export interface RedactOptions {
  mode: 'default' | 'off' | string[];
  patterns?: RegExp[];
}
export type Redactor = (text: string) => string;

export const EMAIL_MASK = '[EMAIL]';
export const PHONE_MASK = '[PHONE]';
export const API_KEY_MASK = '[API_KEY]';
export const CARD_MASK = '[CARD]';
export const PRIVATE_KEY_MASK = '[PRIVATE_KEY]';
export const CUSTOM_MASK = '[REDACTED]';

type Mask = (text: string) => string;

// ---------------------------------------------------------------------------------------------
// email: found from each '@' outwards. (A regex starting with the local-part class would try
// every position of the text and backtrack through each word: ~50x slower on a 2 KB prompt.)
const DOMAIN_RE = /(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])/y;
// Internationalised addresses (user@bücher.de, 用户@例子.中国). Scripts written without spaces (CJK,
// kana, Hangul, full-width forms: "wide") make the address's end ambiguous ("li@example.cn谢谢"),
// so a wide letter belongs to an address only where the address itself is wide next to the '@'.
const WIDE = '\\u2E80-\\u9FFF\\uAC00-\\uD7AF\\uF900-\\uFAFF\\uFF00-\\uFFEF';
const NARROW = `(?:(?![${WIDE}])[\\p{L}\\p{N}])`;
/** A domain with Latin, Cyrillic, Greek… letters; its top-level label may be wide (example.中国). */
const IDN_DOMAIN_RE = new RegExp(
  `(?:${NARROW}(?:(?:${NARROW}|-){0,61}${NARROW})?\\.){1,8}(?:(?:(?![${WIDE}])\\p{L}){2,24}(?!${NARROW}|-)|(?:(?=\\p{L})[${WIDE}]){2,24})`,
  'uy',
);
/** A domain that starts wide (例子.中国): any letters. */
const WIDE_DOMAIN_RE = /(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.){1,8}\p{L}{2,24}(?![\p{L}\p{N}-])/uy;
const LETTER_RE = /[\p{L}\p{N}\p{M}]/u;

const isWide = (c: number): boolean =>
  (c >= 0x2e80 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0xff00 && c <= 0xffef);

/** RFC 5322 atext subset used in practice (letters, digits, . _ % + -), and non-ASCII letters. */
function isLocalChar(c: number, wide: boolean): boolean {
  if (c < 0x80)
    return (
      (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45
    );
  if (!wide && isWide(c)) return false;
  return LETTER_RE.test(String.fromCharCode(c));
}

/** Length of the domain starting at `from`, or -1. */
function domainAt(text: string, from: number): number {
  const c = text.charCodeAt(from);
  if (c >= 0x80 && isWide(c)) {
    WIDE_DOMAIN_RE.lastIndex = from;
    return WIDE_DOMAIN_RE.exec(text)?.[0].length ?? -1;
  }
  DOMAIN_RE.lastIndex = from;
  const m = DOMAIN_RE.exec(text);
  if (m) return m[0].length;
  IDN_DOMAIN_RE.lastIndex = from;
  return IDN_DOMAIN_RE.exec(text)?.[0].length ?? -1;
}

function maskEmail(text: string): string {
  let at = text.indexOf('@');
  if (at === -1) return text;
  let out = '';
  let last = 0;
  while (at !== -1) {
    let start = at;
    const wide = at > 0 && isWide(text.charCodeAt(at - 1));
    while (start > last && at - start < 64 && isLocalChar(text.charCodeAt(start - 1), wide)) start--;
    if (start < at) {
      const len = domainAt(text, at + 1);
      if (len > 0) {
        out += text.slice(last, start) + EMAIL_MASK;
        last = at + 1 + len;
        at = text.indexOf('@', last);
        continue;
      }
    }
    at = text.indexOf('@', at + 1);
  }
  return last === 0 ? text : out + text.slice(last);
}

// ---------------------------------------------------------------------------------------------
// api_key. The full regexes are slow to scan (case-insensitive alternations), so each runs only
// after a cheap scan found a place where it could match.
// 1. credential-named fields: headers, JSON keys, `key=value` (quotes/escaped quotes allowed).
const CREDENTIAL_NAMES =
  'authorization|proxy-authorization|x-api-key|x-goog-api-key|api[-_]?key|access[-_]token|auth[-_]token|refresh[-_]token|id[-_]token|client[-_]secret|secret[-_]access[-_]key|secret[-_]key|private[-_]key|password|passwd';
// Not after a letter or digit: a prefix joined by '-' or '_' still names a credential
// (openai-api-key, aws_secret_access_key, db_password).
const KEY_VALUE_RE = new RegExp(
  `(?<![A-Za-z0-9])(${CREDENTIAL_NAMES})(\\\\?["']?[ \\t]*[:=][ \\t]*\\\\?["']?)((?:(?:bearer|basic|token|digest)[ \\t]+)?[^\\s"'\\\\&,;<>]+)`,
  'gi',
);
/** A JSON key / header name that holds a credential (used for parsed tool arguments). */
export const CREDENTIAL_KEY_RE = new RegExp(`^(?:${CREDENTIAL_NAMES})$`, 'i');
// The same names, normalised (lower case, '_' → '-'), for the pre-scan.
const CREDENTIAL_SET = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'x-goog-api-key',
  'api-key',
  'apikey',
  'access-token',
  'auth-token',
  'refresh-token',
  'id-token',
  'client-secret',
  'secret-access-key',
  'secret-key',
  'private-key',
  'password',
  'passwd',
]);
// 2. secrets in URL query strings (Azure SAS `sig=`, `?token=`, `?key=`).
const QUERY_RE = /([?&](?:token|key|sig|signature|secret|code|auth)=)([^&#\s"'<>]{4,})/gi;
const QUERY_SET = new Set(['token', 'key', 'sig', 'signature', 'secret', 'code', 'auth']);
// 3. `Bearer <token>` anywhere.
const BEARER_RE = /\b(bearer[ \t]+)([A-Za-z0-9\-._~+/]{8,}=*)/gi;
const BEARER_HINT_RE = /[Bb]earer|BEARER/;
// 4. provider key shapes (OpenAI/DeepSeek/Anthropic sk-, Google AIza, Groq gsk_, xAI, GitHub,
//    Slack, AWS access key ids, Stripe, Hugging Face, Perplexity, Replicate, GitLab, JWTs).
const PREFIXED_KEY_RE = new RegExp(
  '(?<![A-Za-z0-9])(?:' +
    [
      'sk-(?:proj-|svcacct-|admin-|ant-(?:api|admin)\\d\\d-)?[A-Za-z0-9_-]{20,}',
      'AIza[0-9A-Za-z_-]{35}',
      'gsk_[A-Za-z0-9]{20,}',
      'xai-[A-Za-z0-9]{20,}',
      'gh[pousr]_[A-Za-z0-9]{30,}',
      'github_pat_[A-Za-z0-9_]{30,}',
      'xox[abposr]-[A-Za-z0-9-]{10,}',
      '(?:AKIA|ASIA)[0-9A-Z]{16}',
      '(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}',
      'hf_[A-Za-z0-9]{30,}',
      'pplx-[A-Za-z0-9]{30,}',
      'r8_[A-Za-z0-9]{30,}',
      'glpat-[A-Za-z0-9_-]{20,}',
      'eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}',
    ].join('|') +
    ')',
  'g',
);
// Words that precede the first '-' or '_' of a prefixed key, and the keys without one.
const KEY_PREFIX_SET = new Set([
  'sk',
  'rk',
  'pk',
  'gsk',
  'xai',
  'ghp',
  'gho',
  'ghu',
  'ghs',
  'ghr',
  'github',
  'xoxa',
  'xoxb',
  'xoxp',
  'xoxo',
  'xoxs',
  'xoxr',
  'hf',
  'pplx',
  'r8',
  'glpat',
]);
const UNSEPARATED_KEY_HINT_RE = /A(?:Iza|[KS]IA)|eyJ/;

const isMask = (v: string): boolean => v.charCodeAt(0) === 91 /* [ */ && v.endsWith(']');

const isAlnum = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** Does a '-' or '_' in the text follow one of the key prefixes (at a word start)? */
function hasKeyPrefix(text: string, sep: string): boolean {
  for (let i = text.indexOf(sep); i !== -1; i = text.indexOf(sep, i + 1)) {
    let j = i;
    while (j > 0 && i - j < 7 && isAlnum(text.charCodeAt(j - 1))) j--;
    if (j === i || (j > 0 && isAlnum(text.charCodeAt(j - 1)))) continue;
    const c = text.charCodeAt(j); // every prefix starts with g, h, p, r, s or x
    if ((c === 103 || c === 104 || c === 112 || c === 114 || c === 115 || c === 120) && KEY_PREFIX_SET.has(text.slice(j, i))) return true;
  }
  return false;
}

/**
 * Scan every ':' and '=' and look at the name before it. Bit 1: a credential name
 * (KEY_VALUE_RE may match); bit 2: a `?key=` / `&sig=` query parameter (QUERY_RE may match).
 */
function credentialHints(text: string): number {
  let hints = 0;
  for (const sep of [':', '=']) {
    for (let i = text.indexOf(sep); i !== -1; i = text.indexOf(sep, i + 1)) {
      let end = i;
      // skip `"`, `'`, `\` and blanks between the name and the separator
      while (end > 0 && i - end < 4) {
        const c = text.charCodeAt(end - 1);
        if (c === 34 || c === 39 || c === 92 || c === 32 || c === 9) end--;
        else break;
      }
      let start = end;
      while (start > 0 && end - start < 24) {
        const c = text.charCodeAt(start - 1);
        if (isAlnum(c) || c === 45 || c === 95) start--;
        else break;
      }
      if (end - start < 3) continue;
      // Every name ends in one of d e g h n t y: skip "status=", "10:15" without allocating.
      const last = text.charCodeAt(end - 1) | 0x20;
      if (last !== 100 && last !== 101 && last !== 103 && last !== 104 && last !== 110 && last !== 116 && last !== 121) continue;
      const name = text.slice(start, end).toLowerCase().replace(/_/g, '-');
      if (sep === '=' && start > 0 && (text.charCodeAt(start - 1) === 63 || text.charCodeAt(start - 1) === 38) && QUERY_SET.has(name))
        hints |= 2;
      // "openai-api-key:" matches on its "api-key" suffix (KEY_VALUE_RE anchors at \b).
      for (let k = 0; k !== -1; k = name.indexOf('-', k) + 1 || -1) {
        if (CREDENTIAL_SET.has(k === 0 ? name : name.slice(k))) {
          hints |= 1;
          break;
        }
      }
      if (hints === 3) return hints;
    }
  }
  return hints;
}

function keyValueReplacer(m: string, name: string, sep: string, value: string): string {
  // Keep values that are already masked or are empty-ish placeholders.
  const bare = value.replace(/^(?:bearer|basic|token|digest)[ \t]+/i, '');
  if (isMask(bare) || /^(?:null|none|undefined|true|false)$/i.test(bare)) return m;
  return name + sep + API_KEY_MASK;
}

function queryReplacer(m: string, head: string, value: string): string {
  return isMask(value) ? m : head + API_KEY_MASK;
}

function bearerReplacer(m: string, head: string, token: string): string {
  // "Bearer authentication" is prose; a token has a digit, punctuation, or is long.
  if (token.length < 20 && !/[\d\-._~+/]/.test(token)) return m;
  return head + API_KEY_MASK;
}

function prefixedReplacer(m: string): string {
  // `sk-learn-is-a-python-library` is prose: real sk- keys are random and contain digits.
  if (m.charCodeAt(0) === 115 /* s */ && m.charCodeAt(2) === 45 /* - */ && !/\d/.test(m.slice(3))) return m;
  return API_KEY_MASK;
}

// 5. PEM private keys: the whole block, BEGIN to END. Without its END line (the text was cut) the
//    rest of the text is masked: what follows a BEGIN line is the key.
const PEM_BEGIN_RE = /-----BEGIN [A-Z0-9 ]{0,40}?PRIVATE KEY(?: BLOCK)?-----/y;

function maskPem(text: string): string {
  let out = '';
  let last = 0;
  for (let i = text.indexOf('-----BEGIN '); i !== -1; i = text.indexOf('-----BEGIN ', Math.max(i + 1, last))) {
    PEM_BEGIN_RE.lastIndex = i;
    const head = PEM_BEGIN_RE.exec(text);
    if (!head) continue;
    let end = text.length;
    const endLine = text.indexOf('-----END ', i + head[0].length);
    if (endLine !== -1) {
      const close = text.indexOf('-----', endLine + 9);
      if (close !== -1 && close - endLine < 64) end = close + 5;
    }
    out += text.slice(last, i) + PRIVATE_KEY_MASK;
    last = end;
    if (end === text.length) break;
  }
  return last === 0 ? text : out + text.slice(last);
}

function maskApiKey(text: string): string {
  let t = text;
  if (t.indexOf('-----BEGIN ') !== -1) t = maskPem(t);
  if (t.indexOf(':') !== -1 || t.indexOf('=') !== -1) {
    const hints = credentialHints(t);
    if (hints & 1) {
      KEY_VALUE_RE.lastIndex = 0;
      t = t.replace(KEY_VALUE_RE, keyValueReplacer);
    }
    if (hints & 2) {
      QUERY_RE.lastIndex = 0;
      t = t.replace(QUERY_RE, queryReplacer);
    }
  }
  if (BEARER_HINT_RE.test(t)) {
    BEARER_RE.lastIndex = 0;
    t = t.replace(BEARER_RE, bearerReplacer);
  }
  if (hasKeyPrefix(t, '-') || hasKeyPrefix(t, '_') || UNSEPARATED_KEY_HINT_RE.test(t)) {
    PREFIXED_KEY_RE.lastIndex = 0;
    t = t.replace(PREFIXED_KEY_RE, prefixedReplacer);
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// card and phone share one scan (both are digit shapes); the regex is built for the enabled set.
//
// card: 13–19 digits, unseparated or grouped by one kind of separator (4-4-4-4, 4-6-5, 4-4-4-4-3;
// space, '-', '.' or '_'), issuer prefix 2–6 (Visa, Mastercard, Amex, Diners, JCB, Discover,
// UnionPay, Maestro; ms timestamps start with 1), and a valid Luhn checksum.
const CARD_ALT = '([2-6]\\d{12,18}|[2-6]\\d{3}([ ._\\-])\\d{3,6}(?:\\2\\d{3,6}){1,3})';

// phone: explicit shapes rather than "any digit run", so years, counts, prices, dates, times,
// versions, IPs and ids are left alone.
//   intl       +44 20 7946 0958 · +1 (415) 555-0132 · +8613812345678 · 0044 20 7946 0958
//   CN mobile  13812345678 · 138-1234-5678 · 138 1234 5678 · 86-13812345678
//   NANP       415-555-0132 · 415.555.0132 · (415) 555-0132 · 1-415-555-0132   (bare
//              "415 555 0132" is too close to a list of numbers such as "256 512 1024" and is
//              not masked without +1)
//   national   020 7946 0958 · 010-12345678 · 01 23 45 67 89
const PHONE_ALTS = [
  '(?:\\+|00)[1-9]\\d{0,2}(?:[ .\\-]?(?:\\(\\d{1,4}\\)|\\d{1,5})){1,6}',
  '(?:86[ \\-])?1[3-9]\\d(?:[ \\-]?\\d{4}){2}',
  '(?:1[ .\\-])?(?:\\([2-9]\\d{2}\\)[ .\\-]?|[2-9]\\d{2}[.\\-])\\d{3}[ .\\-]\\d{4}',
  '0[1-9]\\d{0,3}[ \\-]\\d{3,4}[ \\-]?\\d{3,4}',
  '0[1-9](?:[ .\\-]\\d{2}){4}',
].join('|');

function digitShapesRe(card: boolean, phone: boolean): RegExp {
  const alts = card && phone ? `${CARD_ALT}|${PHONE_ALTS}` : card ? CARD_ALT : `()()(?:${PHONE_ALTS})`;
  // Not inside a word, a decimal, an id ("chatcmpl-123") or another number; not followed by more.
  return new RegExp(`(?<![\\w+.\\-])(?:${alts})(?![\\w]|[.\\-]\\d)`, 'g');
}
const DIGIT_HINT_RE = /\d\d/;

function luhn(digits: string): boolean {
  let sum = 0;
  let dbl = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

function maskCardMatch(m: string, sep: string | undefined): string {
  const digits = sep ? m.split(sep).join('') : m;
  if (digits.length < 13 || digits.length > 19) return m;
  return luhn(digits) ? CARD_MASK : m;
}

function countDigits(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

function maskPhoneMatch(m: string): string {
  const c0 = m.charCodeAt(0);
  if (c0 === 43 /* + */ || (c0 === 48 && m.charCodeAt(1) === 48) /* 00 */) {
    // International: E.164 allows at most 15 digits; a greedy match may have eaten a following
    // number ("+44 20 7946 0958 2026"), so drop trailing groups until it fits.
    let head = m;
    let rest = '';
    while (countDigits(head) > 15) {
      const cut = Math.max(head.lastIndexOf(' '), head.lastIndexOf('-'), head.lastIndexOf('.'));
      if (cut <= 0) return m;
      rest = head.slice(cut) + rest;
      head = head.slice(0, cut);
    }
    const n = countDigits(head) - (c0 === 48 ? 2 : 0);
    const separated = /[ .\-(]/.test(head);
    // A bare "+15000000" is more likely an amount than a number: require 10+ digits unseparated.
    if (n < (separated ? 8 : 10)) return m;
    return PHONE_MASK + rest;
  }
  if (c0 === 48 /* 0: national trunk prefix */) {
    const n = countDigits(m);
    return n >= 9 && n <= 12 ? PHONE_MASK : m;
  }
  return PHONE_MASK;
}

// Full-width digits and separators (１３８－１２３４－５６７８, common in CJK text) are matched on a copy
// with their ASCII forms: one UTF-16 unit each way, so positions in the copy are positions in the text.
const WIDE_DIGIT_RE = /[\uFF10-\uFF19]/;

/** The text with full-width ( ) + - . digits and the ideographic space as ASCII; same length. */
function narrowCopy(text: string): string {
  const codes = new Uint16Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    codes[i] = c >= 0xff08 && c <= 0xff19 ? c - 0xfee0 : c === 0x3000 ? 32 : c;
  }
  let out = '';
  for (let i = 0; i < codes.length; i += 8192) out += String.fromCharCode.apply(null, codes.subarray(i, i + 8192) as unknown as number[]);
  return out;
}

function digitShapesMasker(card: boolean, phone: boolean): Mask {
  const re = digitShapesRe(card, phone);
  // Phone-only regexes start with two empty groups so the arguments line up; '' is never a card.
  const replacer = (m: string, cardMatch: string | undefined, sep: string | undefined): string =>
    cardMatch ? maskCardMatch(m, sep) : maskPhoneMatch(m);
  return (text) => {
    if (WIDE_DIGIT_RE.test(text)) return maskOnNarrowCopy(text, re, replacer);
    if (!DIGIT_HINT_RE.test(text)) return text;
    re.lastIndex = 0;
    return text.replace(re, replacer);
  };
}

/**
 * Matches on the ASCII copy; each replacement (a mask, then possibly the tail of the match it gave
 * back, see maskPhoneMatch) is spliced into the original text, kept parts stay as written.
 */
function maskOnNarrowCopy(
  text: string,
  re: RegExp,
  replacer: (m: string, card: string | undefined, sep: string | undefined) => string,
): string {
  const copy = narrowCopy(text);
  let out = '';
  let last = 0;
  re.lastIndex = 0;
  for (let m = re.exec(copy); m !== null; m = re.exec(copy)) {
    const r = replacer(m[0], m[1], m[2]);
    if (r === m[0]) continue;
    const end = m.index + m[0].length;
    const mask = r.startsWith(CARD_MASK) ? CARD_MASK : PHONE_MASK;
    const keep = r.length - mask.length;
    out += text.slice(last, m.index) + mask + text.slice(end - keep, end);
    last = end;
  }
  return last === 0 ? text : out + text.slice(last);
}

// Order matters: credentials before emails (user:pass@host); cards before phones (same scan, the
// card alternative comes first).
// Nothing a built-in masker matches is shorter than this ("a@b.co").
const MIN_BUILTIN_LEN = 6;

function toGlobal(re: RegExp): RegExp | undefined {
  try {
    // Sticky would stop at the first non-match; global is needed for replace-all.
    return new RegExp(re.source, re.flags.replace(/[gy]/g, '') + 'g');
  } catch {
    return undefined;
  }
}

/**
 * Build a redactor. `mode: 'default'` = all four maskers, `'off'` = none, or a list of names
 * (unknown names are ignored; config validates them). Extra `patterns` are always applied, first,
 * so they see the original text; their matches become `[REDACTED]`.
 * A redactor never throws: if a pattern blows up it returns `[REDACTED]` (fail closed).
 */
export function createRedactor(opts: RedactOptions): Redactor {
  const mode = opts?.mode ?? 'default';
  const on = (name: MaskerName): boolean => mode === 'default' || (Array.isArray(mode) && mode.includes(name));
  const enabled: Mask[] = [];
  if (on('api_key')) enabled.push(maskApiKey);
  if (on('email')) enabled.push(maskEmail);
  if (on('card') || on('phone')) enabled.push(digitShapesMasker(on('card'), on('phone')));
  const custom: RegExp[] = [];
  for (const p of Array.isArray(opts?.patterns) ? opts.patterns : []) {
    if (!(p instanceof RegExp)) continue;
    const g = toGlobal(p);
    if (g) custom.push(g);
  }
  // An empty match would insert a mask between every character; keep the text instead.
  const customReplacer = (m: string): string => (m === '' ? m : CUSTOM_MASK);

  return function redact(input: string): string {
    let text = typeof input === 'string' ? input : input == null ? '' : String(input);
    try {
      for (let i = 0; i < custom.length; i++) {
        const re = custom[i]!;
        re.lastIndex = 0;
        text = text.replace(re, customReplacer);
      }
      if (text.length < MIN_BUILTIN_LEN) return text;
      for (let i = 0; i < enabled.length; i++) text = enabled[i]!(text);
      return text;
    } catch {
      return CUSTOM_MASK;
    }
  };
}
