// Patches the `create` methods of one loaded openai module (either build: ESM and CJS classes are
// different objects) on their prototypes, so clients created before patching are covered too.
// Patching is idempotent across every copy of llm-otel in the process (marker via Symbol.for).

import { context } from '@opentelemetry/api';
import { warnOnce } from '../util/warn.js';
import { LlmCall } from './call.js';
import { getLlmScope } from '../context.js';
import { getRuntime } from './runtime.js';
import type { ApiAdapter } from './types.js';
import { chatAdapter } from './chat.js';
import { responsesAdapter } from './responses.js';
import { completionsAdapter } from './completions.js';
import { embeddingsAdapter } from './embeddings.js';

const ORIGINAL = Symbol.for('llm-otel.original');

type AnyFn = ((...args: any[]) => any) & { [ORIGINAL]?: AnyFn };

function isPatched(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as AnyFn)[ORIGINAL] !== undefined;
}

function wrapCreate(original: AnyFn, adapter: ApiAdapter): AnyFn {
  const patched: AnyFn = function createObserved(this: any, ...args: any[]) {
    const rt = getRuntime();
    const body = args[0];
    if (!rt || !rt.enabled || !body || typeof body !== 'object') return original.apply(this, args);
    let call: LlmCall | undefined;
    try {
      if (rt.streamUsage === 'inject' && body.stream === true && adapter.api !== 'responses' && adapter.api !== 'embeddings' &&
          (body.stream_options === undefined || body.stream_options === null || body.stream_options.include_usage === undefined)) {
        // Opt-in only: the extra usage chunk has `choices: []`, which unguarded user code may not expect.
        args = [{ ...body, stream_options: { ...(body.stream_options ?? {}), include_usage: true } }, ...args.slice(1)];
      }
      call = new LlmCall(rt, adapter, this?._client, args[0]);
    } catch (e) {
      warnOnce('instrumentation:start', `could not start an LLM span (${(e as Error)?.message}); calls continue untraced`);
      return original.apply(this, args);
    }
    let result: any;
    try {
      result = context.with(call.ctx, () => original.apply(this, args));
    } catch (e) {
      call.fail(e);
      throw e;
    }
    try {
      call.observe(result);
    } catch (e) {
      warnOnce('instrumentation:observe', `could not observe an openai call (${(e as Error)?.message})`);
    }
    return result;
  };
  patched[ORIGINAL] = original;
  return patched;
}

function patchMethod(proto: any, name: string, make: (orig: AnyFn) => AnyFn): boolean {
  if (!proto || !Object.prototype.hasOwnProperty.call(proto, name)) return false;
  const orig = proto[name];
  if (typeof orig !== 'function' || isPatched(orig)) return false;
  const desc = Object.getOwnPropertyDescriptor(proto, name)!;
  Object.defineProperty(proto, name, { ...desc, value: make(orig) });
  return true;
}

function unpatchMethod(proto: any, name: string): void {
  const fn = proto?.[name];
  if (!proto || !Object.prototype.hasOwnProperty.call(proto, name) || !isPatched(fn)) return;
  const desc = Object.getOwnPropertyDescriptor(proto, name)!;
  Object.defineProperty(proto, name, { ...desc, value: (fn as AnyFn)[ORIGINAL] });
}

/** Every attempt of a request goes through fetchWithTimeout: counting them gives the retries. */
function wrapFetch(original: AnyFn): AnyFn {
  const patched: AnyFn = function fetchWithTimeoutObserved(this: unknown, ...args: unknown[]) {
    // Duck-typed: the call may come from the other (ESM/CJS) copy of llm-otel.
    const scope = getLlmScope(context.active()) as { attempts?: number; sentBody?: string } | undefined;
    if (scope && typeof scope.attempts === 'number') {
      scope.attempts++;
      // fetchWithTimeout(url, init, ms, controller): the JSON body the SDK serialized.
      const body = (args[1] as { body?: unknown } | undefined)?.body;
      if (typeof body === 'string') scope.sentBody = body;
    }
    return original.apply(this, args);
  };
  patched[ORIGINAL] = original;
  return patched;
}

function findOwner(proto: any, name: string): any {
  for (let p = proto, i = 0; p && p !== Object.prototype && i < 8; p = Object.getPrototypeOf(p), i++) {
    if (Object.prototype.hasOwnProperty.call(p, name)) return p;
  }
  return undefined;
}

/** The OpenAI client class of an openai module namespace or CJS exports object. */
export function openAIClass(mod: any): any {
  if (!mod) return undefined;
  if (typeof mod === 'function' && mod.Chat) return mod;
  const c = mod.OpenAI ?? mod.default?.OpenAI ?? mod.default;
  return typeof c === 'function' && c.Chat ? c : undefined;
}

function targets(OpenAI: any): Array<[any, ApiAdapter]> {
  return [
    [OpenAI.Chat?.Completions?.prototype, chatAdapter],
    [OpenAI.Responses?.prototype, responsesAdapter],
    [OpenAI.Completions?.prototype, completionsAdapter],
    [OpenAI.Embeddings?.prototype, embeddingsAdapter],
  ];
}

/** Patches one openai module; returns how many methods were newly patched. */
export function patchOpenAIModule(mod: any): number {
  const OpenAI = openAIClass(mod);
  if (!OpenAI) {
    warnOnce('patch:shape', 'the loaded openai module has an unknown shape (no OpenAI class with Chat); it is not instrumented');
    return 0;
  }
  let n = 0;
  for (const [proto, adapter] of targets(OpenAI)) {
    if (patchMethod(proto, 'create', (orig) => wrapCreate(orig, adapter))) n++;
  }
  const owner = findOwner(OpenAI.prototype, 'fetchWithTimeout');
  if (owner && patchMethod(owner, 'fetchWithTimeout', wrapFetch)) n++;
  return n;
}

export function unpatchOpenAIModule(mod: any): void {
  const OpenAI = openAIClass(mod);
  if (!OpenAI) return;
  for (const [proto] of targets(OpenAI)) unpatchMethod(proto, 'create');
  unpatchMethod(findOwner(OpenAI.prototype, 'fetchWithTimeout'), 'fetchWithTimeout');
}
