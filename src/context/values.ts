// What an app hands to withLlmContext / withAgent (ids, tags, metadata), made plain and bounded
// once, when the scope is entered. Every LLM call in the scope carries these values in its record,
// which is structured-cloned to the writer thread and turned into attributes there: a circular,
// 100k-deep, Proxy or getter-throwing value must not break that (the call would be lost), and a huge
// one must not be copied on every call. What cannot be read becomes a marker; the call is recorded.
// A small metadata object of strings and numbers costs a loop over its keys.

import { truncateText } from '../content/truncate.js';

export type MetadataValue = string | number | boolean;

/** Replaces a value (or a whole metadata object) that threw when read. */
export const UNREADABLE = '[unreadable]';
/** Replaces a reference back to an enclosing object in metadata JSON. */
export const CIRCULAR = '[circular]';
/** Replaces what lies deeper than MAX_DEPTH in metadata JSON. */
export const TOO_DEEP = '[…]';
/** Longest id, tag, metadata key or value kept (longer ones end in a truncation marker). */
export const MAX_CONTEXT_CHARS = 1024;
export const MAX_TAGS = 256;
export const MAX_METADATA_KEYS = 256;
const MAX_DEPTH = 8;

/** obj[k], or the UNREADABLE marker when the read throws (getter, Proxy trap). */
export function readField(obj: unknown, k: PropertyKey): unknown {
  if (obj === null || obj === undefined) return undefined;
  try {
    return (obj as Record<PropertyKey, unknown>)[k];
  } catch {
    return UNREADABLE;
  }
}

/**
 * An id or a tag as text; undefined for nothing (undefined, null, '', functions, symbols). Objects
 * use their own toString (a database ObjectId, a URL), plain objects and arrays their JSON.
 */
export function contextText(v: unknown): string | undefined {
  let s: string;
  switch (typeof v) {
    case 'string':
      s = v;
      break;
    case 'number':
    case 'boolean':
    case 'bigint':
      s = String(v);
      break;
    case 'object':
      if (v === null) return undefined;
      s = objectText(v);
      break;
    default:
      return undefined;
  }
  return s === '' ? undefined : truncateText(s, MAX_CONTEXT_CHARS);
}

function objectText(v: object): string {
  let s: string;
  try {
    s = String(v);
  } catch {
    return UNREADABLE;
  }
  return s.startsWith('[object ') ? boundedJson(v) : s;
}

/** A metadata value as an attribute value; undefined drops the key (like JSON does). */
export function metadataValue(v: unknown): MetadataValue | undefined {
  switch (typeof v) {
    case 'string':
      return truncateText(v, MAX_CONTEXT_CHARS);
    case 'number':
    case 'boolean':
      return v;
    case 'bigint':
      return String(v);
    case 'object':
      return v === null ? undefined : boundedJson(v);
    default:
      return undefined; // undefined, functions, symbols
  }
}

/**
 * A metadata object as plain { key: string | number | boolean } (objects become their JSON text);
 * undefined when `m` is not an object. Symbol keys are skipped, like JSON does.
 */
export function contextMetadata(m: unknown): Record<string, MetadataValue> | undefined {
  if (m === null || typeof m !== 'object') return undefined;
  const out: Record<string, MetadataValue> = {};
  let keys: string[];
  try {
    keys = Object.keys(m);
  } catch {
    setKey(out, UNREADABLE, true);
    return out;
  }
  let n = 0;
  // Bounded scan, as for tags: keys that are dropped (undefined values) count too.
  const scan = Math.min(keys.length, 4 * MAX_METADATA_KEYS);
  for (let i = 0; i < scan && n < MAX_METADATA_KEYS; i++) {
    const v = metadataValue(readField(m, keys[i]!));
    if (v === undefined) continue;
    setKey(out, truncateText(keys[i]!, MAX_CONTEXT_CHARS), v);
    n++;
  }
  return out;
}

/**
 * `outer` tags followed by the new ones in `tags` (texts, no duplicates, at most MAX_TAGS);
 * undefined when `tags` adds nothing. Non-arrays are ignored.
 */
export function contextTags(outer: readonly string[] | undefined, tags: unknown): string[] | undefined {
  try {
    if (!Array.isArray(tags) || tags.length === 0) return undefined;
    const out = outer ? [...outer] : [];
    const seen = new Set(out);
    // Bounded scan: a million copies of one tag must not cost a million steps per scope.
    const n = Math.min(tags.length, 4 * MAX_TAGS);
    for (let i = 0; i < n && out.length < MAX_TAGS; i++) {
      const s = contextText(readField(tags, i));
      if (s !== undefined && !seen.has(s)) {
        seen.add(s);
        out.push(s);
      }
    }
    return out;
  } catch {
    // A revoked Proxy (Array.isArray and length throw).
    return outer?.includes(UNREADABLE) ? [...outer] : [...(outer ?? []), UNREADABLE];
  }
}

/** obj[k] = v, also for k === '__proto__' (which would otherwise set the prototype). */
function setKey(obj: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
  else obj[k] = v;
}

/**
 * JSON.stringify's text for ordinary values, but never throwing and bounded: stops after
 * MAX_CONTEXT_CHARS, MAX_DEPTH levels, a cycle or an unreadable property each become a marker,
 * BigInt becomes a string.
 */
export function boundedJson(root: unknown): string {
  const limit = MAX_CONTEXT_CHARS;
  let out = '';
  const ancestors: object[] = [];
  const full = (): boolean => out.length > limit;
  // Writes `v`; false when it has no JSON form (undefined, a function, a symbol) and wrote nothing.
  const write = (v: unknown, depth: number): boolean => {
    switch (typeof v) {
      case 'string':
        out += JSON.stringify(v.length > limit ? v.slice(0, limit + 1) : v);
        return true;
      case 'number':
        out += Number.isFinite(v) ? String(v) : 'null';
        return true;
      case 'boolean':
        out += v ? 'true' : 'false';
        return true;
      case 'bigint':
        out += `"${String(v)}"`;
        return true;
      case 'object':
        break;
      default:
        return false;
    }
    if (v === null) {
      out += 'null';
      return true;
    }
    if (ancestors.includes(v)) {
      out += `"${CIRCULAR}"`;
      return true;
    }
    if (depth >= MAX_DEPTH) {
      out += `"${TOO_DEEP}"`;
      return true;
    }
    const toJSON = readField(v, 'toJSON');
    if (typeof toJSON === 'function') {
      let j: unknown;
      try {
        j = toJSON.call(v, '');
      } catch {
        j = UNREADABLE;
      }
      return write(j, depth + 1);
    }
    let keys: string[] | null = null;
    let length = 0;
    try {
      if (Array.isArray(v)) length = v.length;
      else keys = Object.keys(v);
    } catch {
      out += `"${UNREADABLE}"`;
      return true;
    }
    ancestors.push(v);
    if (keys === null) {
      out += '[';
      for (let i = 0; i < length && !full(); i++) {
        if (i > 0) out += ',';
        if (!write(readField(v, i), depth + 1)) out += 'null';
      }
      out += ']';
    } else {
      out += '{';
      let first = true;
      // Each kept key writes a few chars, so `limit` keys fill the budget; dropped ones do not.
      const scan = Math.min(keys.length, limit);
      for (let i = 0; i < scan && !full(); i++) {
        const mark = out.length;
        out += (first ? '' : ',') + JSON.stringify(keys[i]) + ':';
        if (write(readField(v, keys[i]!), depth + 1)) first = false;
        else out = out.slice(0, mark);
      }
      out += '}';
    }
    ancestors.pop();
    return true;
  };
  if (!write(root, 0)) return '';
  if (out === `"${UNREADABLE}"`) return UNREADABLE; // the value itself, not something inside it
  return full() ? `${out.slice(0, limit)}…[truncated]` : out;
}
