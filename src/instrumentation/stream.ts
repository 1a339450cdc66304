// Observing an openai `Stream` without changing it. The SDK's Stream keeps its source in the
// instance property `iterator`; `[Symbol.asyncIterator]`, `tee()` and `toReadableStream()` all call
// it, so replacing that one property sees every chunk exactly once whichever way the app reads.
// The span ends exactly once: on completion, early `break` (return()), error, abort, or — for a
// stream never read — at shutdown or when the stream is garbage-collected (see call.ts).

import type { LlmCall } from './call.js';
import { defer } from './deferred.js';

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
  const signal: AbortSignal | undefined = stream.controller?.signal;
  if (signal && typeof signal.addEventListener === 'function') {
    // An abort before or between reads. The SDK also aborts its controller itself when a read
    // fails or the consumer stops; that error reaches our next() handler a few microtasks later,
    // so decide only after it had its chance (an error beats the cancellation it caused).
    signal.addEventListener('abort', () => defer(() => call.onStreamEnd('cancelled')), { once: true });
  }
}

function observeIterator(it: AsyncIterator<unknown>, call: LlmCall, signal: AbortSignal | undefined): AsyncIterableIterator<unknown> {
  const wrapped: AsyncIterableIterator<unknown> = {
    next(...args: [] | [unknown]) {
      return it.next(...args).then(
        (r) => {
          // The SDK ends an aborted stream quietly (done, no error): the abort makes it cancelled.
          if (r.done) call.onStreamEnd(signal?.aborted ? 'cancelled' : 'ok');
          else call.onChunk(r.value);
          return r;
        },
        (err) => {
          call.onStreamEnd('ok', err);
          throw err;
        },
      );
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
