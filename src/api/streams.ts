// A run whose function hands back a stream (an async iterable, a Node Readable, a web
// ReadableStream: a framework's streamed agent run) is not over when the stream is returned: its
// work happens while the app reads it. holdOpenWhileConsumed() keeps the run open until the stream
// is read to the end (ok), fails (error) or is abandoned (break / return() / cancel() / destroy():
// cancelled), and makes the run's context the active one while the stream produces.
//
// The app keeps its own object: the methods it reads through are wrapped in place, as own
// properties of that instance (its class, `instanceof`, extra fields such as a result's
// `.completed` promise are untouched). Nothing here holds a handle: a stream never read keeps its
// run open until exit, where the open-runs set (runs.ts track()) ends it as cancelled.

import { type Context, context } from '@opentelemetry/api';

/** How a held run ends (each at most once; the first wins). */
export interface RunEnd {
  ok(): void;
  fail(err: unknown): void;
  cancel(): void;
}

type Fn = (...args: unknown[]) => unknown;
type Obj = Record<PropertyKey, unknown>;

const isFn = (v: unknown): v is Fn => typeof v === 'function';
const isAbort = (e: unknown): boolean => (e as { name?: unknown } | null)?.name === 'AbortError';

/** Replaces a method of this instance by an own property, keeping its name; throws if frozen. */
function replace(obj: Obj, key: PropertyKey, make: (original: Fn) => Fn): void {
  const original = obj[key];
  if (!isFn(original)) return;
  Object.defineProperty(obj, key, { value: make(original), writable: true, configurable: true, enumerable: false });
}

/** A Node.js Readable (or a `readable-stream` one): read through read()/pipe()/events. */
function isNodeReadable(v: Obj): boolean {
  return isFn(v.pipe) && isFn(v.on) && isFn(v.read) && typeof v.readableEnded === 'boolean';
}

/** A WHATWG ReadableStream (Node's global one, a polyfill, a subclass such as LangChain's). */
function isWebReadable(v: Obj): boolean {
  return isFn(v.getReader) && isFn(v.cancel) && isFn(v.pipeTo) && typeof v.locked === 'boolean';
}

/** An openai `Page` is async-iterable for auto-pagination, yet it is a finished result: not held. */
function isOpenAIPage(v: Obj): boolean {
  return isFn(v.getNextPage) && isFn(v.hasNextPage);
}

/**
 * If `value` is a stream, wraps it so `end` is called when it is consumed, failed or abandoned, and
 * returns true; otherwise (or if it cannot be wrapped: frozen, already locked) returns false and
 * the caller ends the run now.
 */
export function holdOpenWhileConsumed(value: unknown, ctx: Context, end: RunEnd): boolean {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  const v = value as Obj;
  try {
    if (isOpenAIPage(v)) return false;
    if (isNodeReadable(v)) return holdNodeReadable(v, ctx, end);
    if (isWebReadable(v)) return holdWebReadable(v, ctx, end, new WeakSet());
    if (isFn(v[Symbol.asyncIterator])) return holdAsyncIterable(v, ctx, end, new WeakSet());
  } catch {
    /* a stream we cannot wrap: the run ends now, as before */
  }
  return false;
}

/** Runs a producer method in the run's context; a synchronous throw fails the run. */
function inRun(ctx: Context, end: RunEnd, original: Fn, self: unknown, args: unknown[]): unknown {
  try {
    return context.with(ctx, () => original.apply(self, args));
  } catch (e) {
    end.fail(e);
    throw e;
  }
}

/**
 * A promise of an iterator/reader result, observed: done → ok, rejection → error. The app gets a
 * promise derived from it, so a rejection nobody awaits is still an unhandled rejection.
 */
function observeStep(p: unknown, end: RunEnd, onDone: () => void): unknown {
  if (!p || !isFn((p as { then?: unknown }).then)) return p;
  return (p as Promise<IteratorResult<unknown>>).then(
    (r) => {
      if (r && typeof r === 'object' && r.done === true) onDone();
      return r;
    },
    (e) => {
      end.fail(e);
      throw e;
    },
  );
}

/** Wraps next/return/throw of one iterator (once per run). */
function watchIterator(it: unknown, ctx: Context, end: RunEnd, seen: WeakSet<object>): unknown {
  if (!it || typeof it !== 'object' || seen.has(it) || !isFn((it as Obj).next)) return it;
  seen.add(it);
  const obj = it as Obj;
  replace(
    obj,
    'next',
    (next) =>
      function next_(this: unknown, ...args: unknown[]) {
        return observeStep(inRun(ctx, end, next, this, args), end, end.ok);
      },
  );
  // return(): the consumer stopped early (break, an exception in its loop body): cancelled. If the
  // stream had already ended, the run did too and this changes nothing.
  replace(
    obj,
    'return',
    (ret) =>
      function return_(this: unknown, ...args: unknown[]) {
        end.cancel();
        return context.with(ctx, () => ret.apply(this, args));
      },
  );
  replace(
    obj,
    'throw',
    (thr) =>
      function throw_(this: unknown, ...args: unknown[]) {
        return observeStep(inRun(ctx, end, thr, this, args), end, end.cancel);
      },
  );
  return it;
}

function holdAsyncIterable(v: Obj, ctx: Context, end: RunEnd, seen: WeakSet<object>): boolean {
  // An async generator (or any iterator that is its own iterable): its methods are the ones read.
  if (isFn(v.next)) watchIterator(v, ctx, end, seen);
  replace(
    v,
    Symbol.asyncIterator,
    (orig) =>
      function asyncIterator(this: unknown, ...args: unknown[]) {
        return watchIterator(orig.apply(this, args), ctx, end, seen);
      },
  );
  // openai's Stream: [Symbol.asyncIterator], tee() and toReadableStream() all read `iterator()`.
  if (isFn(v.iterator) && isFn(v.tee))
    replace(
      v,
      'iterator',
      (orig) =>
        function iterator(this: unknown, ...args: unknown[]) {
          return watchIterator(orig.apply(this, args), ctx, end, seen);
        },
    );
  return true;
}

/**
 * A Node Readable: its producer (`_read`) runs in the run's context whoever pulls (for await,
 * pipe(), 'data' listeners all go through read() → _read()). The end is seen through 'end' and
 * 'close' only: an 'error' listener of ours would turn an error the app does not handle (a crash)
 * into a silent one; the error is read from `errored` at 'close' (autoDestroy, the default).
 */
function holdNodeReadable(v: Obj, ctx: Context, end: RunEnd): boolean {
  if (v.readableEnded === true) return false;
  if (v.destroyed === true) {
    if (v.errored && !isAbort(v.errored)) end.fail(v.errored);
    else end.cancel();
    return true;
  }
  replace(
    v,
    '_read',
    (orig) =>
      function _read(this: unknown, ...args: unknown[]) {
        return context.with(ctx, () => orig.apply(this, args));
      },
  );
  const on = v.on as (event: string, fn: () => void) => unknown;
  on.call(v, 'end', () => end.ok());
  // Breaking out of `for await` destroys the stream with an AbortError: that is the consumer's choice.
  on.call(v, 'close', () => {
    if (v.readableEnded === true) end.ok();
    else if (v.errored && !isAbort(v.errored)) end.fail(v.errored);
    else end.cancel();
  });
  return true;
}

/**
 * A web ReadableStream, read through its public methods: getReader() (the reader's read/cancel),
 * values() / [Symbol.asyncIterator] (the iterator's), pipeTo(), pipeThrough() (the derived stream
 * is held in its place), tee() (ends when both branches have), cancel(). A subclass that is its own
 * async iterator (LangChain's IterableReadableStream) has its next/return/throw wrapped as well.
 * A stream locked before it is returned is not held (it is read through a reader we never saw).
 */
function holdWebReadable(v: Obj, ctx: Context, end: RunEnd, seen: WeakSet<object>): boolean {
  if (v.locked === true || seen.has(v)) return false;
  seen.add(v);
  replace(
    v,
    'getReader',
    (orig) =>
      function getReader(this: unknown, ...args: unknown[]) {
        const reader = orig.apply(this, args) as Obj;
        if (reader && typeof reader === 'object' && !seen.has(reader)) {
          seen.add(reader);
          replace(
            reader,
            'read',
            (read) =>
              function read_(this: unknown, ...a: unknown[]) {
                return observeStep(inRun(ctx, end, read, this, a), end, end.ok);
              },
          );
          replace(
            reader,
            'cancel',
            (cancel) =>
              function cancel_(this: unknown, ...a: unknown[]) {
                end.cancel();
                return cancel.apply(this, a);
              },
          );
        }
        return reader;
      },
  );
  for (const key of ['values', Symbol.asyncIterator] as PropertyKey[]) {
    replace(
      v,
      key,
      (orig) =>
        function values(this: unknown, ...args: unknown[]) {
          return watchIterator(orig.apply(this, args), ctx, end, seen);
        },
    );
  }
  if (isFn(v.next)) watchIterator(v, ctx, end, seen);
  replace(
    v,
    'cancel',
    (cancel) =>
      function cancel_(this: unknown, ...args: unknown[]) {
        end.cancel();
        return cancel.apply(this, args);
      },
  );
  replace(
    v,
    'pipeTo',
    (pipeTo) =>
      function pipeTo_(this: unknown, ...args: unknown[]) {
        const p = inRun(ctx, end, pipeTo, this, args) as Promise<unknown>;
        // The app's promise, returned as is: a rejection it ignores stays unhandled. Ours is a branch.
        p.then(
          () => end.ok(),
          (e: unknown) => (isAbort(e) ? end.cancel() : end.fail(e)),
        );
        return p;
      },
  );
  replace(
    v,
    'pipeThrough',
    (pipeThrough) =>
      function pipeThrough_(this: unknown, ...args: unknown[]) {
        const out = inRun(ctx, end, pipeThrough, this, args);
        // The transform's output is what is read now: the run ends with it.
        if (!(out && typeof out === 'object' && isWebReadable(out as Obj) && holdWebReadable(out as Obj, ctx, end, seen))) end.ok();
        return out;
      },
  );
  replace(
    v,
    'tee',
    (tee) =>
      function tee_(this: unknown, ...args: unknown[]) {
        const branches = tee.apply(this, args) as unknown[];
        if (!Array.isArray(branches)) return branches;
        const join = joinEnds(branches.length, end);
        branches.forEach((b, i) => {
          if (!(b && typeof b === 'object' && holdWebReadable(b as Obj, ctx, join[i], seen))) join[i].ok();
        });
        return branches;
      },
  );
  return true;
}

/** n ends that end `end` once all have: error if one failed, else ok if one was read to the end, else cancelled. */
function joinEnds(n: number, end: RunEnd): RunEnd[] {
  let left = n;
  let failed: { err: unknown } | undefined;
  let anyOk = false;
  const settle = (): void => {
    if (--left > 0) return;
    if (failed) end.fail(failed.err);
    else if (anyOk) end.ok();
    else end.cancel();
  };
  return Array.from({ length: n }, () => {
    let done = false;
    const once = (f: () => void) => () => {
      if (done) return;
      done = true;
      f();
      settle();
    };
    return {
      ok: once(() => {
        anyOk = true;
      }),
      fail: (e: unknown) =>
        once(() => {
          failed ??= { err: e };
        })(),
      cancel: once(() => {}),
    };
  });
}
