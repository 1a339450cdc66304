// Deep copy of JSON-like values (tool arguments, tool outputs, unknown item types) with every
// string leaf redacted and truncated and every base64 payload replaced by a placeholder.

import { charge, eachWithin, omissionMarker } from './budget.js';
import { base64Placeholder, dataUrlInfo, isDataUrl, looksLikeBase64 } from './media.js';
import { type ContentOptions, cleanText } from './options.js';
import { CREDENTIAL_KEY_RE } from './redact.js';
import { MAX_FIELD_CHARS, truncateText } from './truncate.js';

const MAX_DEPTH = 24;
/** Opaque blobs that carry nothing readable (reasoning state). */
const DROP_KEYS = new Set(['encrypted_content']);

/** obj[k] = v, also for k === '__proto__' (JSON.parse makes it an own key; assigning would not). */
export function setKey(obj: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
  else obj[k] = v;
}

/** A string leaf: data URL / raw base64 → placeholder, else redact + truncate. */
export function cleanLeaf(s: string, o: ContentOptions): string {
  if (isDataUrl(s)) return dataUrlInfo(s).placeholder;
  if (looksLikeBase64(s)) return base64Placeholder(s);
  return cleanText(s, o);
}

/**
 * A value under a credential-named key ({"api_key": "…"}). Parsed JSON has lost the `key: value`
 * context the api_key masker looks for, so give it back and let the redactor decide (it keeps
 * the value when that masker is off).
 */
function credentialLeaf(key: string, value: string, o: ContentOptions): string {
  const prefix = `${key}: `;
  const r = o.redact(prefix + value);
  if (!r.startsWith(prefix)) return cleanLeaf(value, o);
  const out = truncateText(r.slice(prefix.length), o.maxChars);
  charge(o.budget, out.length);
  return out;
}

export function sanitizeValue(v: unknown, o: ContentOptions, depth = 0): unknown {
  switch (typeof v) {
    case 'string':
      return cleanLeaf(v, o);
    case 'number':
      return Number.isFinite(v) ? v : String(v);
    case 'boolean':
      return v;
    case 'bigint':
      return String(v);
    case 'object':
      break;
    default:
      return undefined; // functions, symbols, undefined
  }
  if (v === null) return null;
  if (depth >= MAX_DEPTH) return '[…]';
  const b = o.budget;
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    eachWithin(
      v,
      b,
      (item) => {
        const x = sanitizeValue(item, o, depth + 1);
        out.push(x === undefined ? null : x);
      },
      (left) => {
        out.push(omissionMarker(left, 'items'));
      },
    );
    return out;
  }
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  const out: Record<string, unknown> = {};
  eachWithin(
    Object.keys(v as object),
    b,
    (k) => {
      if (DROP_KEYS.has(k)) return;
      const raw = (v as Record<string, unknown>)[k];
      const x =
        (typeof raw === 'string' || typeof raw === 'number') && CREDENTIAL_KEY_RE.test(k)
          ? credentialLeaf(k, String(raw), o)
          : sanitizeValue(raw, o, depth + 1);
      if (x === undefined) return;
      const key = cleanKey(k, o);
      charge(b, key.length);
      setKey(out, key, x);
    },
    (left) => {
      setKey(out, '…', omissionMarker(left, 'keys'));
    },
  );
  return out;
}

/** An object key: redacted like text, and cut like an identifier (a key is not content). */
function cleanKey(k: string, o: ContentOptions): string {
  return k.length > MAX_FIELD_CHARS ? cleanText(k, { redact: o.redact, maxChars: MAX_FIELD_CHARS }) : o.redact(k);
}

/**
 * Tool-call arguments: a JSON object/array string is parsed and its leaves cleaned (semconv wants
 * the structured value); anything else (partial stream JSON, free text) stays a cleaned string.
 */
export function toolArguments(args: unknown, o: ContentOptions): unknown {
  if (args == null) return args === null ? null : undefined;
  if (typeof args !== 'string') return sanitizeValue(args, o);
  const parsed = parseJsonContainer(args);
  return parsed === undefined ? cleanText(args, o) : sanitizeValue(parsed, o);
}

/** JSON.parse for objects and arrays only; undefined when the text is not one. */
export function parseJsonContainer(s: string): object | undefined {
  let i = 0;
  while (i < s.length && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 10 || s.charCodeAt(i) === 13 || s.charCodeAt(i) === 9)) i++;
  const c = s.charCodeAt(i);
  if (c !== 123 /* { */ && c !== 91 /* [ */) return undefined;
  try {
    const v: unknown = JSON.parse(s);
    return v !== null && typeof v === 'object' ? v : undefined;
  } catch {
    return undefined;
  }
}
