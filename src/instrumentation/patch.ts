// Patches the `create` methods of one loaded openai module (either build: ESM and CJS classes are
// different objects) on their prototypes, so clients created before patching are covered too.
// Patching is idempotent across every copy of llm-otel in the process (marker via Symbol.for).

import { context, trace } from '@opentelemetry/api';
import { chatAdapter } from '../adapters/chat.js';
import { completionsAdapter } from '../adapters/completions.js';
import { embeddingsAdapter } from '../adapters/embeddings.js';
import { responsesAdapter } from '../adapters/responses.js';
import type { ApiAdapter } from '../adapters/types.js';
import { getLlmScope } from '../context/context.js';
import { errorMessage, warnOnce } from '../core/warn.js';
import { LlmCall } from './call.js';
import { getRuntime, LLM_OTEL_PROVIDER } from './runtime.js';

const ORIGINAL = Symbol.for('llm-otel.original');

type AnyFn = ((...args: any[]) => any) & { [ORIGINAL]?: AnyFn };

function isPatched(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as AnyFn)[ORIGINAL] !== undefined;
}

// ── Which call a request belongs to ──────────────────────────────────────────────────────────────
// A call's attempts (retries) and the JSON it sent are seen in the client's request methods. With
// an OTel context entered around the call they find it through the context; but entering one
// switches on Node's AsyncLocalStorage promise hooks for the whole process (a cost on every
// promise of the app: on Node 20 an uninstrumented openai 6 call with an in-memory fetch became
// markedly slower once any AsyncLocalStorage had run). So we enter a context only when
// something can use it — the app registered its own tracer provider, whose HTTP instrumentation
// would parent its spans to ours — and otherwise hand the call over synchronously: create()
// reaches the client's request() before its first await, and the options object it resolves to
// then names the call for buildRequest() on every attempt. request(), not makeRequest(): openai 7
// with an X.509 workload identity reaches makeRequest() only after an await.

/** What the request hooks update on a call (duck-typed: the call may come from the other ESM/CJS copy). */
interface AttemptSink {
  attempts: number;
  sentBody?: string;
}

/** Keeps the JSON the SDK serialized for `call` (`req` is the fetch init: `{ body, … }`). */
function keepSentBody(call: AttemptSink, req: unknown): void {
  const body = (req as { body?: unknown } | undefined)?.body;
  if (typeof body === 'string') call.sentBody = body;
}

interface Handoff {
  call: AttemptSink | undefined;
  byOptions: WeakMap<object, AttemptSink>;
}
const HANDOFF_KEY = Symbol.for('llm-otel.request-handoff');
const gh = globalThis as unknown as Record<symbol, Handoff | undefined>;
const handoff: Handoff = (gh[HANDOFF_KEY] ??= { call: undefined, byOptions: new WeakMap() });

/** True when the app registered a tracer provider of its own (its instrumentations read context). */
function appHasTracing(): boolean {
  const p = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const d = typeof p.getDelegate === 'function' ? p.getDelegate() : p;
  if (!d || (d as Record<symbol, unknown>)[LLM_OTEL_PROVIDER]) return false;
  return (d as { constructor?: { name?: string } }).constructor?.name !== 'NoopTracerProvider';
}

/** request(options, retries) or makeRequest(options, retries), whichever a create() reaches first. */
function wrapFirstRequest(original: AnyFn): AnyFn {
  const patched: AnyFn = function requestObserved(this: unknown, ...args: unknown[]) {
    const call = handoff.call;
    // First attempt (retries null), reached synchronously from a create() we observe.
    if (call && args[1] == null) {
      handoff.call = undefined;
      try {
        const input = args[0] as any;
        if (input && typeof input.then === 'function') {
          // Registered before the SDK's own `await`/`then` on it, so it runs first: no tick is added.
          input.then(
            (o: unknown) => {
              if (o && typeof o === 'object') handoff.byOptions.set(o, call);
            },
            () => undefined,
          );
        } else if (input && typeof input === 'object') {
          handoff.byOptions.set(input, call);
        }
      } catch {
        /* observation is best-effort; the request goes on untouched */
      }
    }
    return original.apply(this, args);
  };
  patched[ORIGINAL] = original;
  return patched;
}

/** Called once per attempt with the call's options: counts it and keeps the JSON body it builds. */
function wrapBuildRequest(original: AnyFn): AnyFn {
  const patched: AnyFn = function buildRequestObserved(this: unknown, ...args: unknown[]) {
    const r = original.apply(this, args);
    try {
      const opts = args[0];
      const call = opts && typeof opts === 'object' ? handoff.byOptions.get(opts) : undefined;
      if (call) {
        call.attempts++;
        // buildRequest returns { req, url, timeout } (a promise of it in openai ≥ 5).
        const keep = (built: any): void => keepSentBody(call, built?.req);
        if (r && typeof (r as any).then === 'function') (r as Promise<unknown>).then(keep, () => undefined);
        else keep(r);
      }
    } catch {
      /* observation is best-effort */
    }
    return r;
  };
  patched[ORIGINAL] = original;
  return patched;
}

function wrapCreate(original: AnyFn, adapter: ApiAdapter): AnyFn {
  const patched: AnyFn = function createObserved(this: any, ...args: any[]) {
    const rt = getRuntime();
    const body = args[0];
    if (!rt?.enabled || !body || typeof body !== 'object') return original.apply(this, args);
    let call: LlmCall | undefined;
    try {
      if (
        rt.streamUsage === 'inject' &&
        body.stream === true &&
        adapter.api !== 'responses' &&
        adapter.api !== 'embeddings' &&
        (body.stream_options === undefined || body.stream_options === null || body.stream_options.include_usage === undefined)
      ) {
        // Opt-in only: the extra usage chunk has `choices: []`, which unguarded user code may not expect.
        args = [{ ...body, stream_options: { ...(body.stream_options ?? {}), include_usage: true } }, ...args.slice(1)];
      }
      call = new LlmCall(rt, adapter, this?._client, args[0]);
    } catch (e) {
      warnOnce('instrumentation:start', `could not start an LLM span (${errorMessage(e)}); calls continue untraced`);
      return original.apply(this, args);
    }
    let result: any;
    try {
      if (appHasTracing()) {
        result = context.with(call.ctx, () => original.apply(this, args));
      } else {
        handoff.call = call;
        try {
          result = original.apply(this, args);
        } finally {
          handoff.call = undefined;
        }
      }
    } catch (e) {
      call.fail(e);
      throw e;
    }
    try {
      result = call.observe(result);
    } catch (e) {
      warnOnce('instrumentation:observe', `could not observe an openai call (${errorMessage(e)})`);
    }
    return result;
  };
  patched[ORIGINAL] = original;
  return patched;
}

function patchMethod(proto: any, name: string, make: (orig: AnyFn) => AnyFn): boolean {
  if (!proto || !Object.hasOwn(proto, name)) return false;
  const orig = proto[name];
  if (typeof orig !== 'function' || isPatched(orig)) return false;
  const desc = Object.getOwnPropertyDescriptor(proto, name)!;
  Object.defineProperty(proto, name, { ...desc, value: make(orig) });
  return true;
}

function unpatchMethod(proto: any, name: string): void {
  const fn = proto?.[name];
  if (!proto || !Object.hasOwn(proto, name) || !isPatched(fn)) return;
  const desc = Object.getOwnPropertyDescriptor(proto, name)!;
  Object.defineProperty(proto, name, { ...desc, value: (fn as AnyFn)[ORIGINAL] });
}

/** Every attempt of a request goes through fetchWithTimeout: counting them gives the retries. */
function wrapFetch(original: AnyFn): AnyFn {
  const patched: AnyFn = function fetchWithTimeoutObserved(this: unknown, ...args: unknown[]) {
    try {
      // Duck-typed: the call may come from the other (ESM/CJS) copy of llm-otel.
      const scope = getLlmScope(context.active()) as Partial<AttemptSink> | undefined;
      // fetchWithTimeout(url, init, ms, controller)
      if (scope && typeof scope.attempts === 'number') {
        scope.attempts++;
        keepSentBody(scope as AttemptSink, args[1]);
      }
    } catch {
      /* observation is best-effort */
    }
    return original.apply(this, args);
  };
  patched[ORIGINAL] = original;
  return patched;
}

function findOwner(proto: any, name: string): any {
  for (let p = proto, i = 0; p && p !== Object.prototype && i < 8; p = Object.getPrototypeOf(p), i++) {
    if (Object.hasOwn(p, name)) return p;
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
  const br = findOwner(OpenAI.prototype, 'buildRequest');
  if (br) {
    // makeRequest too, for a client whose request() has another shape.
    for (const name of ['request', 'makeRequest']) {
      const owner = findOwner(OpenAI.prototype, name);
      if (owner && patchMethod(owner, name, wrapFirstRequest)) n++;
    }
    if (patchMethod(br, 'buildRequest', wrapBuildRequest)) n++;
  }
  return n;
}

export function unpatchOpenAIModule(mod: any): void {
  const OpenAI = openAIClass(mod);
  if (!OpenAI) return;
  for (const [proto] of targets(OpenAI)) unpatchMethod(proto, 'create');
  unpatchMethod(findOwner(OpenAI.prototype, 'fetchWithTimeout'), 'fetchWithTimeout');
  unpatchMethod(findOwner(OpenAI.prototype, 'request'), 'request');
  unpatchMethod(findOwner(OpenAI.prototype, 'makeRequest'), 'makeRequest');
  unpatchMethod(findOwner(OpenAI.prototype, 'buildRequest'), 'buildRequest');
}
