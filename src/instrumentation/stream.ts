// Observing an openai `Stream` without changing it. The SDK's Stream keeps its source in the
// instance property `iterator`; `[Symbol.asyncIterator]`, `tee()` and `toReadableStream()` all call
// it, so replacing that one property sees every chunk exactly once whichever way the app reads.
// The span ends exactly once: on completion, early `break` (return()), error, abort, or — for a
// stream never read — at shutdown or when the stream is garbage-collected (see call.ts).

/** What a stream reports to its call (call.ts): each chunk, and the one end. */
export interface StreamObserver {
  onChunk(chunk: unknown): void;
  onStreamEnd(status: 'ok' | 'cancelled', err?: unknown): void;
}

export function isSdkStream(v: unknown): boolean {
  return (
    !!v && typeof v === 'object' && typeof (v as any).iterator === 'function' && typeof (v as any)[Symbol.asyncIterator] === 'function'
  );
}

export function wrapStream(stream: any, call: StreamObserver): void {
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

function observeIterator(
  it: AsyncIterator<unknown>,
  call: StreamObserver,
  signal: AbortSignal | undefined,
): AsyncIterableIterator<unknown> {
  // The SDK's own promise goes back to the app; we watch it with one `.then` whose callbacks are
  // made once per stream. Registered before the app's own `await`, ours runs first (TTFT is the
  // chunk's arrival) and the app's continuation is not pushed back by a tick, unlike an async wrapper.
  const onValue = (r: IteratorResult<unknown>): void => {
    // The SDK ends an aborted stream quietly (done, no error): the abort makes it cancelled.
    if (r.done) call.onStreamEnd(signal?.aborted ? 'cancelled' : 'ok');
    else call.onChunk(r.value);
  };
  const onError = (err: unknown): void => {
    call.onStreamEnd('ok', err);
  };
  const wrapped: AsyncIterableIterator<unknown> = {
    next(value?: unknown) {
      // No rest/spread on this per-chunk path; `next()` and `next(v)` stay distinct for the source.
      // biome-ignore lint/complexity/noArguments: next() and next(undefined) must stay distinct for the source
      const p = arguments.length === 0 ? it.next() : it.next(value);
      // The app sees the rejection through `p`; ours is handled here.
      p.then(onValue, onError);
      return p;
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
