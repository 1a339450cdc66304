// The client's own API key, masked wherever a provider or a proxy echoes it ("Incorrect API key
// provided: …", a proxy's error page, a response that repeats the request). Keys without a known
// shape (32-hex Azure keys, proxy keys) pass the api_key masker, but llm-otel knows the exact string
// the client holds. It is masked on the app's thread, in the call's record, before the record is
// cloned to the writer thread or finished: the key is never in a record, a span, a row or OTLP.
// Only the client's `apiKey` / `adminAPIKey` properties are read (cached per client), never a header.

import type { Attributes } from '@opentelemetry/api';
import { API_KEY_MASK } from '../content/redact.js';
import type { LlmContext } from '../context/context.js';
import { type CallRecord, forTransfer } from '../finish/finish.js';

/** Shorter values are placeholders ("test", "none", "<Missing Key>"): masking them would hit prose. */
const MIN_KEY_CHARS = 16;
/** Keys remembered for errors that leave a call through an agent/tool run (runs.ts). */
const MAX_KNOWN = 16;

export interface ClientSecret {
  /** Each key, and its JSON-escaped form where that differs (a quote or backslash in it). */
  readonly keys: readonly string[];
}

const cache = new WeakMap<object, { apiKey: unknown; adminKey: unknown; secret: ClientSecret | undefined }>();

// Process-wide (Symbol.for), so the ESM and CJS copies of llm-otel know the same keys.
const KNOWN = Symbol.for('llm-otel.client-secrets');
const g = globalThis as unknown as Record<symbol, string[] | undefined>;
const known: string[] = (g[KNOWN] ??= []);

/**
 * The API key(s) of an openai client worth masking: `apiKey` (read when the call ends: a key given
 * as a function is resolved by the SDK on the first request) and openai 7's `adminAPIKey`. Cached
 * per client while they stay the same.
 */
export function clientSecret(client: unknown): ClientSecret | undefined {
  if (!client || typeof client !== 'object') return undefined;
  let apiKey: unknown;
  let adminKey: unknown;
  try {
    apiKey = (client as { apiKey?: unknown }).apiKey;
    adminKey = (client as { adminAPIKey?: unknown }).adminAPIKey;
  } catch {
    return undefined;
  }
  const hit = cache.get(client);
  if (hit && hit.apiKey === apiKey && hit.adminKey === adminKey) return hit.secret;
  const keys: string[] = [];
  for (const k of [apiKey, adminKey]) {
    if (typeof k !== 'string' || k.trim().length < MIN_KEY_CHARS || keys.includes(k)) continue;
    keys.push(k);
    const json = JSON.stringify(k).slice(1, -1);
    if (json !== k) keys.push(json);
  }
  const secret = keys.length > 0 ? { keys } : undefined;
  for (const k of keys) remember(k);
  cache.set(client, { apiKey, adminKey, secret });
  return secret;
}

function remember(key: string): void {
  if (known.includes(key)) return;
  known.push(key);
  if (known.length > MAX_KNOWN) known.shift();
}

/** `text` with every occurrence of a key replaced by [API_KEY]. */
export function maskSecret(text: string, s: ClientSecret): string {
  let t = text;
  for (const k of s.keys) if (t.includes(k)) t = t.split(k).join(API_KEY_MASK);
  return t;
}

/** Every key of a client llm-otel has seen, masked (for errors whose client is unknown). */
export function maskKnownSecrets(text: string): string {
  return known.length === 0 ? text : maskSecret(text, { keys: known });
}

function has(v: unknown, s: ClientSecret): v is string {
  if (typeof v !== 'string') return false;
  for (const k of s.keys) if (v.includes(k)) return true;
  return false;
}

/**
 * Masks the key in every string of a call's record that came from outside: the request as sent,
 * the response (made JSON text first, as for the writer thread), the error, ids and the context.
 * Mutates and returns `rec`; objects shared with other calls (the context) are copied, not changed.
 * A normal call costs a native substring search over its request and response JSON.
 */
export function maskRecordSecret(rec: CallRecord, s: ClientSecret): CallRecord {
  try {
    maskFields(rec, s);
  } catch {
    // Cannot happen with plain data; if it does, record the call without what could hold the key.
    rec.bodyJson = undefined;
    rec.result = rec.resultJson = undefined;
    rec.hasResult = false;
    if (rec.error) rec.error = { ...rec.error, message: '' };
  }
  return rec;
}

function maskFields(rec: CallRecord, s: ClientSecret): void {
  forTransfer(rec);
  if (has(rec.bodyJson, s)) rec.bodyJson = maskSecret(rec.bodyJson, s);
  if (has(rec.resultJson, s)) rec.resultJson = maskSecret(rec.resultJson, s);
  if (rec.error && has(rec.error.message, s)) rec.error = { ...rec.error, message: maskSecret(rec.error.message, s) };
  if (has(rec.requestId, s)) rec.requestId = maskSecret(rec.requestId, s);
  if (has(rec.model, s)) rec.model = maskSecret(rec.model, s);
  const llm = maskContext(rec.llm, s);
  if (llm) rec.llm = llm;
}

/** Masks the key in string (and string array) attribute values, in place. */
export function maskAttributes(attrs: Attributes, s: ClientSecret): void {
  for (const k in attrs) {
    const v = attrs[k];
    if (has(v, s)) attrs[k] = maskSecret(v, s);
    else if (Array.isArray(v) && v.some((x) => has(x, s)))
      attrs[k] = (v as unknown[]).map((x) => (typeof x === 'string' ? maskSecret(x, s) : x)) as typeof v;
  }
}

/** A copy of the context with the key masked, or undefined when it does not contain the key. */
function maskContext(llm: LlmContext, s: ClientSecret): LlmContext | undefined {
  let out: LlmContext | undefined;
  for (const k of ['sessionId', 'userId', 'agentName', 'conversationId'] as const) {
    const v = llm[k];
    if (has(v, s)) (out ??= { ...llm })[k] = maskSecret(v, s);
  }
  if (llm.tags?.some((t) => has(t, s))) (out ??= { ...llm }).tags = llm.tags.map((t) => maskSecret(t, s));
  const m = llm.metadata;
  if (m) {
    for (const k in m) {
      const v = m[k];
      if (has(v, s) || has(k, s)) {
        const copy: Record<string, string | number | boolean> = {};
        for (const key in m) {
          const x = m[key]!;
          // defineProperty: a '__proto__' key stays a key
          Object.defineProperty(copy, maskSecret(key, s), {
            value: typeof x === 'string' ? maskSecret(x, s) : x,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        (out ??= { ...llm }).metadata = copy;
        break;
      }
    }
  }
  return out;
}
