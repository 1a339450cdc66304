// How the AI SDK finds llm-otel's tracer without llm-otel registering a global tracer provider.
//
// With `experimental_telemetry: { isEnabled: true }` and no `tracer` of its own, the SDK calls
// `trace.getTracer('ai')` on its copy of @opentelemetry/api. With no global provider registered,
// that API answers from its ProxyTracerProvider, whose delegate is empty until someone registers
// one. llm-otel sets that delegate — not the global registration — to a provider that answers the
// tracer name `ai` only (every other name gets what it got before: a no-op tracer). An app that
// registers its own provider, before or after llm-otel starts, still can (its registration is
// never refused; it replaces the delegate); for that case the API's `getTracer` is wrapped so the
// tracer `ai` is then a tee of the app's tracer and llm-otel's (tee.ts): the app gets its spans as
// it asked, llm-otel records the calls too. Both are done on llm-otel's copy of the API and on the
// one the `ai` package resolves (found from the app's main script, like the registration API in
// start/app-api.ts), since two copies hold two proxies. The package itself is not loaded.

import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { trace as ourTrace, type Tracer } from '@opentelemetry/api';
import { LLM_OTEL_PROVIDER } from '../../instrumentation/runtime.js';
import { TeeTracer } from './tee.js';
import type { VercelAiTracer } from './tracer.js';

/** The global registry key of @opentelemetry/api major 1. */
const REGISTRY = Symbol.for('opentelemetry.js.api.1');

interface ProxyProvider {
  _delegate?: unknown;
  setDelegate(d: unknown): void;
}

/** A copy of the API's `trace` whose proxy provider has no delegate yet, or null. */
function freeProxy(traceApi: unknown): ProxyProvider | null {
  const proxy = (traceApi as { _proxyTracerProvider?: ProxyProvider } | undefined)?._proxyTracerProvider;
  if (!proxy || typeof proxy.setDelegate !== 'function') return null;
  return proxy._delegate === undefined ? proxy : null;
}

/** The `trace` API of the @opentelemetry/api copy the `ai` package resolves from the app, if any. */
function aiSdkTraceApi(mainScript: string | undefined): unknown {
  try {
    const from = mainScript ? resolve(mainScript) : resolve(process.cwd(), 'app.js');
    const aiEntry = createRequire(from).resolve('ai');
    return (createRequire(aiEntry)('@opentelemetry/api') as { trace?: unknown }).trace;
  } catch {
    return undefined; // no AI SDK resolvable from the app: llm-otel's copy is the only candidate
  }
}

/** True when some provider is registered globally (the app's own OpenTelemetry SDK). */
export function globalProviderRegistered(): boolean {
  const registry = (globalThis as Record<symbol, { trace?: unknown } | undefined>)[REGISTRY];
  return registry?.trace !== undefined;
}

interface TraceApi {
  getTracer(name: string, version?: string, options?: unknown): Tracer;
}

/**
 * Wraps `api.getTracer` so that, while some app provider is registered globally, the tracer it
 * answers for `ai` feeds llm-otel too (tee.ts). Decided at each call: the app may register before
 * or after llm-otel starts. Returns the undo, or null (an API build we do not know).
 */
function teeGetTracer(api: unknown, ours: VercelAiTracer): (() => void) | null {
  const target = api as (TraceApi & Record<string, unknown>) | undefined;
  if (!target || typeof target.getTracer !== 'function') return null;
  const original = target.getTracer;
  const wrapper = function (this: TraceApi, name: string, version?: string, options?: unknown): Tracer {
    const tracer = original.call(this, name, version, options);
    if (name !== 'ai') return tracer;
    try {
      if (tracer === ours || tracer instanceof TeeTracer || !globalProviderRegistered()) return tracer;
      return new TeeTracer(tracer, ours.runtime);
    } catch {
      return tracer;
    }
  };
  target.getTracer = wrapper;
  return () => {
    if (target.getTracer === wrapper) target.getTracer = original;
  };
}

/**
 * Makes `trace.getTracer('ai')` return `tracer` while no global provider is registered, and a tee
 * of the app's tracer and `tracer` while one is. Returns a function that undoes it (where nobody
 * replaced the delegate or the method meanwhile), or null when nothing was installed.
 */
export function installAiSdkTracer(tracer: VercelAiTracer, mainScript: string | undefined = process.argv[1]): (() => void) | null {
  const provider = {
    getTracer(name: string): Tracer | undefined {
      // Undefined: the proxy then answers as it would with no delegate (a no-op tracer).
      return name === 'ai' ? tracer : undefined;
    },
    // Code that reaches the proxy's delegate to flush it finds these (there is nothing to flush).
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
    // Not the app's tracing: the openai patch keeps its context-free fast path (patch.ts).
    [LLM_OTEL_PROVIDER]: true,
  };
  const set: ProxyProvider[] = [];
  const undo: (() => void)[] = [];
  const registered = globalProviderRegistered();
  for (const api of new Set([ourTrace, aiSdkTraceApi(mainScript)])) {
    try {
      const restore = teeGetTracer(api, tracer);
      if (restore) undo.push(restore);
      const proxy = registered ? null : freeProxy(api);
      if (!proxy) continue;
      proxy.setDelegate(provider);
      set.push(proxy);
    } catch {
      /* an API build we do not know: the SDK's spans stay where they were going */
    }
  }
  if (set.length === 0 && undo.length === 0) return null;
  return () => {
    for (const restore of undo) restore();
    for (const proxy of set) if (proxy._delegate === provider) proxy._delegate = undefined;
  };
}
