// Observing an openai `Stream` without changing it. The SDK's Stream keeps its source in the
// instance property `iterator`; `[Symbol.asyncIterator]`, `tee()` and `toReadableStream()` all call
// it, so replacing that one property sees every chunk exactly once whichever way the app reads.
// The span ends exactly once: on completion, early `break` (return()), error, abort, or — for a
// stream never read — at shutdown or when the stream is garbage-collected (see call.ts).

import type { LlmCall } from './call.js';

export function isSdkStream(v: unknown): boolean {
  return !!v && typeof v === 'object' && typeof (v as any).iterator === 'function' && typeof (v as any)[Symbol.asyncIterator] === 'function';
}

export function wrapStream(stream: any, call: LlmCall): void {
  const original = stream.iterator;
  stream.iterator = function iteratorObserved(this: unknown, ...args: unknown[]) {
    // Throws synchronously on a second iteration, exactly like the original.
    const it = original.apply(this, args);
    return observeIterator(it, call, signal);
  };
  // No 'abort' listener (EventTarget listeners cost ~4 µs per stream): an abort during reads ends
  // the iteration and is seen there (signal.aborted); a stream aborted and never read ends at
  // shutdown/beforeExit or when collected, as cancelled either way.
  const signal: AbortSignal | undefined = stream.controller?.signal;
}

function observeIterator(it: AsyncIterator<unknown>, call: LlmCall, signal: AbortSignal | undefined): AsyncIterableIterator<unknown> {
  const wrapped: AsyncIterableIterator<unknown> = {
    // An async method: `await` on the SDK's native promise is cheaper than a `.then` closure pair.
    async next(...args: [] | [unknown]) {
      let r: IteratorResult<unknown>;
      try {
        r = await it.next(...args);
      } catch (err) {
        call.onStreamEnd('ok', err);
        throw err;
      }
      // The SDK ends an aborted stream quietly (done, no error): the abort makes it cancelled.
      if (r.done) call.onStreamEnd(signal?.aborted ? 'cancelled' : 'ok');
      else call.onChunk(r.value);
      return r;
    },
    return(value?: unknown) {
      // The consumer stopped early (break, or an exception in its loop body).
      call.onStreamEnd('cancelled');
      return it.return ? it.return(value) : Promise.resolve({ done: true as const, value });
    },
    throw(err?: unknown) {
      call.onStreamEnd('ok', err);
      return it.throw ? it.throw(err) : Promise.reject(err);
    },
    [Symbol.asyncIterator]() {
      return wrapped;
    },
  };
  return wrapped;
}
