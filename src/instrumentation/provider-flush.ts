// A call's span is ended after the app's continuation, in a deferred batch (deferred.ts). An app
// that flushes or shuts down its tracer provider right after its last call (`await
// sdk.shutdown()`, a serverless handler's `forceFlush()`) would flush before that span exists. So
// the provider our spans go to runs the batch first: its forceFlush/shutdown are wrapped on the
// instance. OTel JS 2.x cannot add a processor to a built provider, and a processor of the app's
// own list would depend on its place in that list; the wrap works for any provider, once each.

import { type TracerProvider, trace } from '@opentelemetry/api';
import { flushDeferred } from './deferred.js';

const WRAPPED = Symbol.for('llm-otel.drains-before-flush');

type Flushable = Record<string | symbol, unknown>;

/** Makes `provider`'s forceFlush() and shutdown() end the calls that have finished first. */
export function drainBeforeFlush(provider: unknown): void {
  if (!provider || typeof provider !== 'object') return;
  const p = provider as Flushable;
  if (p[WRAPPED]) return;
  try {
    let wrapped = false;
    for (const name of ['forceFlush', 'shutdown']) {
      const original = p[name];
      if (typeof original !== 'function') continue;
      p[name] = function drainedFirst(this: unknown, ...args: unknown[]) {
        try {
          flushDeferred();
        } catch {
          /* never into the app's flush */
        }
        return original.apply(this, args);
      };
      wrapped = true;
    }
    // The no-op provider (no SDK registered yet) has neither: leave it unmarked, it is shared.
    if (wrapped) p[WRAPPED] = true;
  } catch {
    /* a frozen provider: its flush cannot include the last batch, nothing else changes */
  }
}

let lastGlobal: unknown;

/** drainBeforeFlush for the provider registered globally now (looked up on every call: cheap). */
export function drainGlobalProvider(): void {
  const p = trace.getTracerProvider() as TracerProvider & { getDelegate?: () => TracerProvider };
  const provider = typeof p.getDelegate === 'function' ? p.getDelegate() : p; // the SDK's, not the API's proxy
  if (provider === lastGlobal) return;
  lastGlobal = provider;
  drainBeforeFlush(provider);
}
