// llm-otel's background thread. It knows nothing of what it runs: it loads the job module it was
// given (thread-stream's idea), hands it the items of each batch, and answers the app's thread —
// synchronous requests through the shared counters (protocol.ts), asynchronous ones and warnings
// through the events port. A stop request is honoured at the next safe point, where the thread then
// waits for the process to end (Node can end a thread there; not inside a native library).

import { pbkdf2Sync } from 'node:crypto';
import { openSync, readlinkSync, readSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { basename } from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { errorMessage, setWarnSink, type Warner } from '../core/warn.js';
import type { CreateJob, JobContext, ThreadJob } from './job.js';
import {
  ACTIVITY,
  CONSUMED,
  CONSUMED_UNITS,
  type Control,
  DONE,
  DROPPED,
  PENDING,
  STOP,
  THREAD_MARK,
  type ThreadEvent,
  type ThreadInit,
  TID,
} from './protocol.js';

/** The size of each item as the app's side counted it arrives alongside the batch. */
export interface Batch {
  items: unknown[];
  units: number;
}

async function run(init: ThreadInit, port: NonNullable<typeof parentPort>): Promise<void> {
  const counters = new Int32Array(init.shared);
  Atomics.store(counters, TID, ownThreadId());
  lowerOwnPriority();
  const events = init.events;
  // Dedupe here as well so a flood of identical warnings never crosses the thread boundary.
  const sent = new Set<string>();
  const warner: Warner = {
    warn(key, message) {
      if (sent.has(key)) return;
      sent.add(key);
      events.postMessage({ w: 'warn', key, message } satisfies ThreadEvent);
    },
    reset(key) {
      sent.delete(key);
      events.postMessage({ w: 'reset', key } satisfies ThreadEvent);
    },
  };
  // Warnings of the shared modules (content, cost, OTLP) reach the app's stderr once, via the app
  // thread, under their own key (the same problem seen by both threads is one line).
  setWarnSink(
    (message, key) => warner.warn(key, message),
    (key) => warner.reset(key),
  );

  const index = new Map(init.activities.map((a, i) => [a, i]));
  const fault = testFault();
  if (fault?.at === 'start') fault.hang();
  const setActivity = (a: string): void => {
    Atomics.store(counters, ACTIVITY, index.get(a) ?? 0);
    if (fault?.at === 'write' && a === 'writing') fault.hang();
  };
  const stopHere = (): never => {
    setActivity('stopped');
    Atomics.notify(counters, ACTIVITY);
    const still = new Int32Array(new SharedArrayBuffer(4));
    for (;;) Atomics.wait(still, 0, 0);
  };
  const stopIfAsked = (): void => {
    if (Atomics.load(counters, STOP) !== 0) stopHere();
  };
  stopIfAsked();
  const context: JobContext = {
    options: init.options,
    warner,
    setActivity,
    activity: () => init.activities[Atomics.load(counters, ACTIVITY)] ?? 'idle',
    stopIfAsked,
    report(pending, dropped) {
      Atomics.store(counters, PENDING, pending);
      Atomics.store(counters, DROPPED, dropped);
    },
  };
  let job: ThreadJob;
  try {
    // A plain path: in the CommonJS build TypeScript turns import() into require(), which takes no URL.
    const mod = (await import(init.job)) as { createJob?: CreateJob };
    if (typeof mod.createJob !== 'function') throw new Error(`${init.job} has no createJob()`);
    job = await mod.createJob(context);
  } catch (e) {
    warner.warn('thread:job', `llm-otel's background thread cannot run its job (${errorMessage(e)}); nothing it was given is recorded`);
    job = { take() {}, flush() {}, close() {} };
  }
  stopIfAsked();
  setActivity('idle');
  Atomics.notify(counters, ACTIVITY); // the app's thread may be waiting for the start to end

  const answer = (gen: number): void => {
    // Never backwards: an asynchronous flush answered late must not undo a later answer.
    if (((gen - Atomics.load(counters, DONE)) | 0) <= 0) return;
    Atomics.store(counters, DONE, gen);
    Atomics.notify(counters, DONE);
  };
  port.on('message', (msg: Batch | Control) => {
    stopIfAsked();
    if ('items' in msg) {
      for (const item of msg.items) {
        stopIfAsked();
        try {
          job.take(item);
        } catch (e) {
          warner.warn('thread:take', `llm-otel's background thread could not handle an item (${errorMessage(e)})`);
        }
      }
      setActivity('idle');
      Atomics.add(counters, CONSUMED_UNITS, msg.units);
      Atomics.add(counters, CONSUMED, msg.items.length);
      return;
    }
    if (msg.ctl === 'flush') {
      let pending: Promise<void> | null = null;
      try {
        pending = job.flush({ exit: msg.exit, rows: msg.rows !== false, deadline: msg.deadline }) ?? null;
      } catch (e) {
        warner.warn('thread:flush', `llm-otel's background thread could not flush (${errorMessage(e)})`);
      }
      if (pending && typeof pending.then === 'function') {
        // Answered by the deadline at the latest: the app's thread is waiting (bounded) for it.
        const gen = msg.gen;
        const bound = setTimeout(() => answer(gen), Math.max(0, msg.deadline - Date.now()));
        void pending.then(
          () => {
            clearTimeout(bound);
            answer(gen);
          },
          () => {
            clearTimeout(bound);
            answer(gen);
          },
        );
      } else answer(msg.gen);
    } else if (msg.ctl === 'park') {
      stopHere();
    } else if (msg.ctl === 'call') {
      const gen = msg.gen;
      const done = (): void => {
        events.postMessage({ w: 'answered', gen } satisfies ThreadEvent);
      };
      void Promise.resolve()
        .then(() => job.call?.(msg.name))
        .catch(() => undefined)
        .then(done);
    } else {
      // The synchronous part of closing (the call log's last writes) happens before the answer:
      // the app's thread ends this thread once answered.
      try {
        const closing = job.close();
        if (closing) void closing.catch(() => undefined);
      } catch (e) {
        warner.warn('thread:close', `llm-otel's background thread could not close cleanly (${errorMessage(e)})`);
      }
      answer(msg.gen);
      port.close();
      events.close();
    }
  });
}

/** This thread's id in the OS (/proc/thread-self names it on Linux); 0 elsewhere. */
function ownThreadId(): number {
  try {
    const tid = Number(basename(readlinkSync('/proc/thread-self')));
    return Number.isSafeInteger(tid) && tid > 0 && tid <= 0x7fffffff ? tid : 0;
  } catch {
    return 0;
  }
}

/**
 * Fault injection for the test suite only (the one environment variable read outside config.ts):
 * `spin-start`, `spin-write` — a native loop that never returns (CPU busy); `block-start:<fifo>`,
 * `block-write:<fifo>` — a read() that never returns (from a FIFO nobody writes to);
 * `slow-start:<ms>` — busy for that long at start, then working normally (a loaded machine).
 */
function testFault(): { at: 'start' | 'write'; hang: () => void } | undefined {
  const m = /^(spin|block|slow)-(start|write)(?::(.+))?$/.exec(process.env.LLM_OTEL_TEST_FAULT ?? '');
  if (!m) return undefined;
  if (m[1] === 'slow') {
    const ms = Number(m[3]);
    return {
      at: m[2] as 'start' | 'write',
      hang: () => {
        const until = Date.now() + (Number.isFinite(ms) ? ms : 0);
        while (Date.now() < until) pbkdf2Sync('slow', 'salt', 1000, 64, 'sha512');
      },
    };
  }
  const fifo = m[3];
  const hang =
    m[1] === 'spin' || !fifo
      ? () => {
          for (;;) pbkdf2Sync('spin', 'salt', 2 ** 31 - 1, 64, 'sha512');
        }
      : () => {
          const fd = openSync(fifo, 'r+');
          for (;;) readSync(fd, Buffer.alloc(1));
        };
  return { at: m[2] as 'start' | 'write', hang };
}

/**
 * On Linux, nice values are per thread and setpriority(PRIO_PROCESS, 0) means "this thread", so
 * the background thread yields the CPU to the app's thread when they compete (elsewhere it would
 * renice the whole process, so we do not).
 */
function lowerOwnPriority(): void {
  if (process.platform !== 'linux') return;
  try {
    setPriority(0, Math.min(19, getPriority(0) + 5));
  } catch {
    /* not allowed: keep the default */
  }
}

const init = workerData as ThreadInit | undefined;
if (!isMainThread && parentPort && init && init[THREAD_MARK] === true) void run(init, parentPort);
