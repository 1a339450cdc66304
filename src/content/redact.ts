// Masks personal data and credentials in free text before it is put on a span.
// Runs on every captured string, so each masker is one precompiled regex with a cheap pre-check
// that skips strings which cannot contain a match. Patterns are bounded (no unbounded nested
// quantifiers) so a hostile megabyte of digits or letters stays linear.

export type MaskerName = 'email' | 'phone' | 'api_key' | 'card';
export interface RedactOptions { mode: 'default' | 'off' | string[]; patterns?: RegExp[] }
export type Redactor = (text: string) => string;

export const EMAIL_MASK = '[EMAIL]';
export const PHONE_MASK = '[PHONE]';
export const API_KEY_MASK = '[API_KEY]';
export const CARD_MASK = '[CARD]';
export const CUSTOM_MASK = '[REDACTED]';

type Mask = (text: string) => string;

// ---------------------------------------------------------------------------------------------
// email: local part capped at 64 chars (RFC 5321) so a long run without '@' cannot go quadratic.
const EMAIL_RE = /[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])/g;

function maskEmail(text: string): string {
  if (text.indexOf('@') === -1) return text;
  EMAIL_RE.lastIndex = 0;
  return text.replace(EMAIL_RE, EMAIL_MASK);
}

// ---------------------------------------------------------------------------------------------
// api_key: three regexes, most specific last so an `Authorization: Bearer sk-…` header is masked
// as a whole by the first one.
// 1. credential-named fields: headers, JSON keys, `key=value` (quotes/escaped quotes allowed).
const CREDENTIAL_NAMES = 'authorization|proxy-authorization|x-api-key|x-goog-api-key|api[-_]?key|access[-_]token|auth[-_]token|refresh[-_]token|id[-_]token|client[-_]secret|secret[-_]key|private[-_]key|password|passwd';
const KEY_VALUE_RE = new RegExp(`\\b(${CREDENTIAL_NAMES})(\\\\?["']?[ \\t]*[:=][ \\t]*\\\\?["']?)((?:(?:bearer|basic|token|digest)[ \\t]+)?[^\\s"'\\\\&,;<>]+)`, 'gi');
/** A JSON key / header name that holds a credential (used for parsed tool arguments). */
export const CREDENTIAL_KEY_RE = new RegExp(`^(?:${CREDENTIAL_NAMES})$`, 'i');
// 2. secrets in URL query strings (Azure SAS `sig=`, `?token=`, `?key=`).
const QUERY_RE = /([?&](?:token|key|sig|signature|secret|code|auth)=)([^&#\s"'<>]{4,})/gi;
// 3. `Bearer <token>` anywhere.
const BEARER_RE = /\b(bearer[ \t]+)([A-Za-z0-9\-._~+/]{8,}=*)/gi;
// 4. provider key shapes (OpenAI/DeepSeek/Anthropic sk-, Google AIza, Groq gsk_, xAI, GitHub,
//    Slack, AWS access key ids, Stripe, Hugging Face, Perplexity, Replicate, GitLab, JWTs).
const PREFIXED_KEY_RE = new RegExp(
  '(?<![A-Za-z0-9])(?:' + [
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
  ].join('|') + ')', 'g');
// Cheap gate: every api_key pattern above needs one of these substrings.
const API_KEY_HINT_RE = /sk-|sk_|rk_|AIza|gsk_|xai-|gh[pousr]_|github_pat_|xox|AKIA|ASIA|hf_|pplx-|r8_|glpat-|eyJ|bearer|authorization|api[-_]?key|token|secret|passw|private[-_]key|[?&](?:sig|key|code|auth)=/i;

const isMask = (v: string): boolean => v.charCodeAt(0) === 91 /* [ */ && v.endsWith(']');

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

function maskApiKey(text: string): string {
  if (!API_KEY_HINT_RE.test(text)) return text;
  let t = text;
  KEY_VALUE_RE.lastIndex = 0;
  t = t.replace(KEY_VALUE_RE, keyValueReplacer);
  if (t.indexOf('=') !== -1) { QUERY_RE.lastIndex = 0; t = t.replace(QUERY_RE, queryReplacer); }
  BEARER_RE.lastIndex = 0;
  t = t.replace(BEARER_RE, bearerReplacer);
  PREFIXED_KEY_RE.lastIndex = 0;
  return t.replace(PREFIXED_KEY_RE, prefixedReplacer);
}

// ---------------------------------------------------------------------------------------------
// card: 13–19 digits, optionally grouped by one kind of separator, issuer prefix 2–6 (Visa,
// Mastercard, Amex, Diners, JCB, Discover, UnionPay, Maestro; ms timestamps start with 1),
// and a valid Luhn checksum.
const CARD_RE = /(?<![\w.\-+])[2-6](?:[ -]?\d){12,18}(?![\w]|[.-]\d)/g;

function luhn(digits: string): boolean {
  let sum = 0;
  let dbl = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (dbl) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

function cardReplacer(m: string): string {
  const sep = m.indexOf(' ') !== -1 ? ' ' : m.indexOf('-') !== -1 ? '-' : '';
  let digits = m;
  if (sep) {
    const groups = m.split(sep);
    // Grouped like a card (4-4-4-4, 4-6-5, 4-4-4-4-3), never mixed separators.
    if (groups[0]!.length !== 4) return m;
    for (const g of groups) if (g.length < 3 || g.length > 6 || !/^\d+$/.test(g)) return m;
    digits = groups.join('');
  }
  return luhn(digits) ? CARD_MASK : m;
}

function maskCard(text: string): string {
  CARD_RE.lastIndex = 0;
  return text.replace(CARD_RE, cardReplacer);
}

// ---------------------------------------------------------------------------------------------
// phone: explicit shapes rather than "any digit run", so years, counts, prices, dates, times,
// versions, IPs and ids are left alone.
//   intl       +44 20 7946 0958 · +1 (415) 555-0132 · +8613812345678 · 0044 20 7946 0958
//   CN mobile  13812345678 · 138-1234-5678 · 138 1234 5678
//   NANP       415-555-0132 · 415.555.0132 · (415) 555-0132   (bare "415 555 0132" is too close
//              to a list of numbers such as "256 512 1024" and is not masked without +1)
//   national   020 7946 0958 · 010-12345678 · 01 23 45 67 89
const PHONE_RE = new RegExp(
  '(?<![\\w+.\\-])(?:' + [
    '(?:\\+|00)[1-9]\\d{0,2}(?:[ .\\-]?(?:\\(\\d{1,4}\\)|\\d{1,5})){1,6}',
    '1[3-9]\\d(?:[ \\-]?\\d{4}){2}',
    '(?:\\([2-9]\\d{2}\\)[ .\\-]?|[2-9]\\d{2}[.\\-])\\d{3}[ .\\-]\\d{4}',
    '0[1-9]\\d{0,3}[ \\-]\\d{3,4}[ \\-]?\\d{3,4}',
    '0[1-9](?:[ .\\-]\\d{2}){4}',
  ].join('|') + ')(?![\\w]|[.\\-]\\d)', 'g');
const PHONE_HINT_RE = /\d\d/;

function countDigits(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) { const c = s.charCodeAt(i); if (c >= 48 && c <= 57) n++; }
  return n;
}

function phoneReplacer(m: string): string {
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
  const n = countDigits(m);
  if (c0 === 48 /* 0: national trunk prefix */) return n >= 9 && n <= 12 ? PHONE_MASK : m;
  return PHONE_MASK;
}

function maskPhone(text: string): string {
  if (!PHONE_HINT_RE.test(text)) return text;
  PHONE_RE.lastIndex = 0;
  return text.replace(PHONE_RE, phoneReplacer);
}

// ---------------------------------------------------------------------------------------------
const MASKERS: Record<MaskerName, Mask> = {
  api_key: maskApiKey,
  email: maskEmail,
  card: maskCard,
  phone: maskPhone,
};
// Order matters: credentials before emails (user:pass@host), cards before phones (a card's
// digit groups must not be half-eaten as a phone number).
const ORDER: readonly MaskerName[] = ['api_key', 'email', 'card', 'phone'];
// Nothing a built-in masker matches is shorter than this ("a@b.co").
const MIN_BUILTIN_LEN = 6;

function toGlobal(re: RegExp): RegExp | undefined {
  try {
    // Sticky would stop at the first non-match; global is needed for replace-all.
    return new RegExp(re.source, re.flags.replace(/[gy]/g, '') + 'g');
  } catch { return undefined; }
}

/**
 * Build a redactor. `mode: 'default'` = all four maskers, `'off'` = none, or a list of names
 * (unknown names are ignored; config validates them). Extra `patterns` are always applied, first,
 * so they see the original text; their matches become `[REDACTED]`.
 * A redactor never throws: if a pattern blows up it returns `[REDACTED]` (fail closed).
 */
export function createRedactor(opts: RedactOptions): Redactor {
  const mode = opts?.mode ?? 'default';
  const enabled: Mask[] = [];
  for (const name of ORDER) {
    if (mode === 'default' || (Array.isArray(mode) && mode.includes(name))) enabled.push(MASKERS[name]);
  }
  const custom: RegExp[] = [];
  for (const p of opts?.patterns ?? []) {
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
