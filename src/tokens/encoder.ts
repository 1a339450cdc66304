// Lazy, synchronous access to gpt-tokenizer's encodings. Loading one takes a noticeable time and
// tens of MB, so nothing is loaded when llm-otel is imported: only the first estimate pays, once per
// encoding.
// Estimates are needed synchronously (at span end), hence require() rather than import(): the CJS
// build has `require`; the ESM build makes one with createRequire from this module's own file.

import { createRequire } from 'node:module';
import { countBounded } from './bounded.js';

export type EncodingName = 'o200k_base' | 'cl100k_base';

export interface Encoder {
  /** Tokens of `text`, handing the tokenizer at most `limit` code units (see bounded.ts). */
  count(text: string, limit?: number): number;
}

interface GptEncodingModule {
  countTokens(text: string, opts?: { disallowedSpecial?: Set<string>; allowedSpecial?: Set<string> }): number;
  clearMergeCache?(): void;
}

declare const require: NodeJS.Require | undefined;

/** File of the caller's module, from V8 call sites (the ESM build has no __filename here). */
function thisFile(): string | undefined {
  const original = Error.prepareStackTrace;
  try {
    Error.prepareStackTrace = (_e, sites) => sites;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, thisFile);
    const sites = holder.stack as NodeJS.CallSite[] | undefined;
    return sites?.[0]?.getFileName() ?? undefined;
  } finally {
    Error.prepareStackTrace = original;
  }
}

let localRequire: NodeJS.Require | undefined;
function req(): NodeJS.Require {
  if (localRequire) return localRequire;
  if (typeof require === 'function') return (localRequire = require);
  const file = thisFile();
  if (!file) throw new Error('cannot locate gpt-tokenizer (no module path)');
  return (localRequire = createRequire(file));
}

const cache = new Map<EncodingName, Encoder | null>();
// Special-token strings in user text ("<|endoftext|>") are counted as text, never rejected.
const AS_TEXT = { disallowedSpecial: new Set<string>() };
// gpt-tokenizer caches pieces keyed by substrings of the texts counted, and a substring keeps its
// whole text alive: emptied after this many characters, so it never holds more texts than that.
const CLEAR_CACHE_AFTER = 2 * 1024 * 1024;

/** The encoder for `name`, loaded on first use; null if gpt-tokenizer cannot be loaded. */
export function getEncoder(name: EncodingName): Encoder | null {
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  let enc: Encoder | null = null;
  try {
    const mod = req()(`gpt-tokenizer/encoding/${name}`) as GptEncodingModule;
    const exact = (text: string): number => mod.countTokens(text, AS_TEXT);
    let sinceClear = 0;
    enc = {
      count(text, limit) {
        try {
          return countBounded(text, exact, limit);
        } finally {
          sinceClear += text.length;
          if (sinceClear > CLEAR_CACHE_AFTER) {
            sinceClear = 0;
            mod.clearMergeCache?.();
          }
        }
      },
    };
  } catch {
    enc = null;
  }
  cache.set(name, enc);
  return enc;
}

/** True once `name` has been loaded (tests check that importing llm-otel loads nothing). */
export function isEncoderLoaded(name: EncodingName): boolean {
  return cache.get(name) != null;
}

/** The encoding OpenAI uses for `model` (o200k for the 4o/4.1/5/o-series generation and unknowns). */
export function encodingForModel(model: string | null | undefined): EncodingName {
  const m = (model ?? '').toLowerCase().replace(/^.*\//, '');
  if (/^(gpt-4o|gpt-4\.[1-9]|gpt-[5-9]|o[1-9]|chatgpt-|gpt-oss|codex|gpt-image|gpt-realtime|gpt-audio|computer-use)/.test(m))
    return 'o200k_base';
  if (/^(gpt-4|gpt-3\.5|gpt-35|text-embedding-|text-davinci-00[23])/.test(m)) return 'cl100k_base';
  return 'o200k_base';
}
