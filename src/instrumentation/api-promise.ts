// Observing an openai APIPromise without consuming it. The APIPromise itself must never be
// `.then()`-ed (that reads the body and breaks `.asResponse()`, `.withResponse()`, `.parse()`); its
// internal `responsePromise` (a plain promise of the HTTP response) can be watched instead.
//
// Watching it with `.then()` would mark its rejection as handled: a failed call the app never
// awaits would no longer crash the app, and its `unhandledRejection` handler (Sentry and the like)
// would never fire. So the SDK's field is replaced by a promise derived from it: we are the only
// consumer of the original, and everything the SDK does later (parse(), asResponse(), derived
// helpers) consumes the derived one — which, like the original, is an unhandled rejection if
// nobody consumes it.

/** True for an object with the SDK's internal response promise. */
export function hasResponsePromise(p: unknown): boolean {
  const rp = (p as { responsePromise?: unknown } | null)?.responsePromise;
  return !!rp && typeof (rp as { then?: unknown }).then === 'function';
}

/**
 * Calls `onResponse` / `onError` when the APIPromise's HTTP response arrives or fails, leaving an
 * unconsumed rejection unhandled. Returns false (observing nothing) if the field cannot be replaced.
 */
export function watchResponse(p: any, onResponse: (props: unknown) => void, onError: (err: unknown) => void): boolean {
  const original: Promise<unknown> = p.responsePromise;
  const derived = original.then(
    (props) => {
      try {
        onResponse(props);
      } catch {
        /* observation never changes the call */
      }
      return props;
    },
    (err) => {
      try {
        onError(err);
      } catch {
        /* observation never changes the call */
      }
      throw err;
    },
  );
  try {
    p.responsePromise = derived;
  } catch {
    /* a frozen or changed SDK: fall through */
  }
  if (p.responsePromise === derived) return true;
  // Not replaced: the derived promise must not become an unhandled rejection of its own.
  derived.catch(() => undefined);
  return false;
}
