// What crosses between the app's thread (host.ts) and llm-otel's background thread (worker.ts):
// batches of items and control messages over the worker's port, warnings and answers to
// asynchronous requests over a second port, and a few counters in shared memory — so the app's
// thread can wait for the thread synchronously (Atomics.wait) where its event loop cannot run:
// in process 'exit' and signal handlers (the pino thread-stream idea).

import { isMainThread, type MessagePort, workerData } from 'node:worker_threads';

export const THREAD_MARK = 'llmOtelThread';

/** Int32 slots of the shared counters. Totals wrap around: compare differences. */
export const CONSUMED = 0; // items the thread has taken in
export const DONE = 1; // generation of the last request the thread answered
export const PENDING = 2; // items the job still holds (its own count, as of its last report)
export const DROPPED = 3; // items the job dropped (its queue was full), since start
export const CONSUMED_UNITS = 4; // estimated size of the items taken in (host SIZE_UNIT units)
export const ACTIVITY = 5; // index in the job's activity list of what the thread is doing now
export const TID = 6; // the thread's id in the OS (Linux; 0 if unknown), to tell when it has ended
export const STOP = 7; // set by the app's thread: stop at the next safe point, and wait there
export const COUNTER_SLOTS = 8;

/** The activities every thread has; a job adds its own (JobSpec.activities). */
export const BASE_ACTIVITIES = ['idle', 'starting', 'stopped'] as const;

/**
 * A job: the module the thread runs (`file`, exporting `createJob`), and what it can be busy with —
 * for the warning when it stops answering, and `native`: the activities inside a native library
 * where terminating the thread is unsafe (better-sqlite3 aborts the process).
 */
export interface JobSpec {
  file: string;
  activities: readonly string[];
  native: readonly string[];
}

export interface ThreadInit {
  [THREAD_MARK]: true;
  /** The job module (absolute path). */
  job: string;
  /** BASE_ACTIVITIES then the job's own; the ACTIVITY counter indexes this list. */
  activities: readonly string[];
  /** The job's options (cloneable data). */
  options: unknown;
  shared: SharedArrayBuffer;
  events: MessagePort;
}

/**
 * `flush`: `deadline` is the epoch ms by which the thread must answer (the app's thread is
 * waiting); `exit`: the process is ending; `rows: false`: answer once everything sent before was
 * taken in, without writing now. `call`: a job's own asynchronous request (answered by an event).
 * `park`: stop for good, at a safe point.
 */
export type Control =
  | { ctl: 'flush'; gen: number; exit: boolean; deadline: number; rows?: false }
  | { ctl: 'close'; gen: number }
  | { ctl: 'call'; gen: number; name: string }
  | { ctl: 'park' };

export type ThreadEvent = { w: 'warn'; key: string; message: string } | { w: 'reset'; key: string } | { w: 'answered'; gen: number };

/** True inside one of llm-otel's background threads (where `register` must do nothing). */
export function inLlmOtelThread(): boolean {
  const d = workerData as Partial<ThreadInit> | null | undefined;
  return !isMainThread && typeof d === 'object' && d !== null && d[THREAD_MARK] === true;
}
