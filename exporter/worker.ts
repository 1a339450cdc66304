// The writer thread. It owns the SQLite connection, so the app's event loop never waits on a
// transaction, a lock, or the disk. Spans (plain data) and LLM call records (finished here, see
// src/pipeline/finisher.ts) arrive in batches, one message per 25 ms or 256 items; control
// messages ask for a flush and are acknowledged through shared memory, so the app's thread can
// wait for them synchronously (process 'exit', signal handlers).

import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { getPriority, setPriority } from 'node:os';
import { pbkdf2Sync } from 'node:crypto';
import { openSync, readlinkSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { CallLogSink, type CallLogSinkOptions } from './sink.js';
import type { Warner } from './writer.js';
import { toSpanData, type SpanData } from './rows.js';
import { itemUnits, type QueueItem } from './items.js';
import type { CallRecord } from '../src/finish/finish.js';
import type { Finisher, FinisherInit } from '../src/pipeline/finisher.js';
import { setWarnSink, errorMessage } from '../src/core/warn.js';
import { estimateTextTokens } from '../src/tokens/index.js';

export const WORKER_MARK = 'llmOtelCallLogWriter';
/** Int32 slots of the shared counters. */
export const CONSUMED = 0; // spans taken in by the worker (wraps around; compare differences)
export const DONE = 1; // generation of the last finished flush / close
export const PENDING = 2; // items queued in the worker, as of its last message or flush
export const DROPPED = 3; // items the worker's queue dropped (full), since start
export const CONSUMED_UNITS = 4; // estimated size (64-byte units) of the spans taken in; wraps
export const ACTIVITY = 5; // index in ACTIVITIES of what the thread is doing now
export const TID = 6; // the thread's id in the OS (Linux; 0 if unknown), to tell when it has ended
export const STOP = 7; // set by the app's thread: stop at the next safe point, and wait there for the end
export const COUNTER_SLOTS = 8;

/** What the thread can be busy with, for the warning if it stops answering (slot ACTIVITY). */
export const ACTIVITIES = ['idle', 'starting', 'opening', 'writing', 'checkpointing', 'closing', 'appending to the JSONL file', 'finishing calls', 'preparing rows', 'stopped'] as const;
export type Activity = (typeof ACTIVITIES)[number];
const activityIndex = new Map<string, number>(ACTIVITIES.map((a, i) => [a, i]));

export interface WorkerInit {
  [WORKER_MARK]: true;
  options: CallLogSinkOptions;
  shared: SharedArrayBuffer;
  events: MessagePort;
  /** Set when this thread also finishes LLM calls (records from src/finish/). */
  finisher?: FinisherInit;
}

/**
 * `deadline`: epoch ms by which a flush must have answered (the app's thread is waiting). `exit`:
 * the process is ending (write what can be written, then only on request). `rows: false`: only
 * answer once everything sent before was taken in (calls finished, spans handed to OTLP), without
 * writing now. `park`: stop for good.
 */
export type Control = { ctl: 'flush'; gen: number; exit: boolean; deadline: number; rows?: false } | { ctl: 'park' } | { ctl: 'close'; gen: number } | { ctl: 'export'; gen: number };
export type WorkerEvent = { w: 'warn'; key: string; message: string } | { w: 'reset'; key: string } | { w: 'exported'; gen: number };

async function loadFinisher(init: FinisherInit, onSpan: (s: SpanData) => void, inDb: <T>(step: () => T) => T): Promise<Finisher> {
  // Loaded only when asked for: a writer without it starts as light as before.
  const { createFinisher } = await import('../src/pipeline/finisher.js');
  return createFinisher(init, (span) => { const d = toSpanData(span); if (d) onSpan(d); }, inDb);
}

async function run(init: WorkerInit, port: NonNullable<typeof parentPort>): Promise<void> {
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
      events.postMessage({ w: 'warn', key, message } satisfies WorkerEvent);
    },
    reset(key) {
      sent.delete(key);
      events.postMessage({ w: 'reset', key } satisfies WorkerEvent);
    },
  };
  const fault = testFault();
  if (fault?.at === 'start') fault.hang();
  const setActivity = (a: Activity): void => {
    Atomics.store(counters, ACTIVITY, activityIndex.get(a) ?? 0);
    if (fault?.at === 'write' && a === 'writing') fault.hang();
  };
  /**
   * Stops this thread for good, outside any SQLite call: it waits in Atomics.wait, which Node's
   * own exit can interrupt (terminating a thread inside better-sqlite3 aborts the process).
   */
  const stopHere = (): never => {
    setActivity('stopped');
    Atomics.notify(counters, ACTIVITY);
    const still = new Int32Array(new SharedArrayBuffer(4));
    for (;;) Atomics.wait(still, 0, 0);
  };
  const stopIfAsked = (): void => { if (Atomics.load(counters, STOP) !== 0) stopHere(); };
  /** Marks a step that uses SQLite outside the writer (the price book), restoring the activity after. */
  const inDb = <T>(step: () => T): T => {
    const before = ACTIVITIES[Atomics.load(counters, ACTIVITY)] ?? 'idle';
    setActivity('opening');
    try { return step(); } finally { setActivity(before); }
  };
  stopIfAsked();
  const sink = new CallLogSink({
    ...init.options, warner, drainOnExit: false,
    onFlushed: (pending) => Atomics.store(counters, PENDING, pending),
    onActivity: setActivity,
    betweenTransactions: stopIfAsked,
  });
  // Warnings of the shared modules (content, cost, OTLP) reach the app's stderr once, via the app
  // thread, under their own key: the app thread's copy of the same problem (e.g. OTLP to the same
  // endpoint from both threads) is then one warning, and a recovery here re-arms it there.
  setWarnSink((message, key) => warner.warn(key, message), (key) => warner.reset(key));
  const push = (span: SpanData): void => {
    if (!sink.push(span)) Atomics.store(counters, DROPPED, sink.dropped);
  };
  let finisher: Finisher | undefined;
  if (init.finisher) {
    // No DB and no JSONL (a thread that only exports over OTLP): no rows to map.
    const keepRows = !!(init.options.path || init.options.jsonl);
    try { finisher = await loadFinisher(init.finisher, keepRows ? push : () => undefined, inDb); } catch (e) {
      warner.warn('offload:load', `the writer thread cannot finish LLM calls (${errorMessage(e)}); they are not recorded`);
    }
  }
  // The tokenizer's tables take a while to load: while starting (an exit waits for a start), not
  // inside the first write, which an exit drain must finish within its deadline.
  if (init.options.estimateTokens === 'builtin') {
    try { estimateTextTokens('warm up', 'gpt-4o-mini'); } catch { /* estimates are optional */ }
  }
  stopIfAsked();
  setActivity('idle');
  Atomics.notify(counters, ACTIVITY); // the app's thread may be waiting for the start to end (exit)
  const done = (gen: number): void => {
    Atomics.store(counters, PENDING, sink.pending);
    Atomics.store(counters, DONE, gen);
    Atomics.notify(counters, DONE);
  };
  port.on('message', (msg: QueueItem[] | Control) => {
    stopIfAsked();
    if (Array.isArray(msg)) {
      let units = 0;
      setActivity('finishing calls');
      for (const item of msg) {
        stopIfAsked();
        units += itemUnits(item);
        if ((item as CallRecord).rec === 1) finisher?.finish(item as CallRecord);
        else push(item as SpanData);
      }
      setActivity('idle');
      Atomics.add(counters, CONSUMED_UNITS, units);
      Atomics.add(counters, CONSUMED, msg.length);
      Atomics.store(counters, PENDING, sink.pending);
      return;
    }
    if (msg.ctl === 'flush') {
      const budget = Math.max(0, msg.deadline - Date.now());
      if (msg.exit) {
        sink.drainWithin(budget);
        // From now on the thread writes only when asked: at the process's end Node terminates it,
        // which must not happen inside a SQLite call.
        sink.quiet();
      } else if (msg.rows !== false) {
        sink.flush(true, budget, msg.deadline);
      }
      done(msg.gen);
    } else if (msg.ctl === 'park') {
      stopHere();
    } else if (msg.ctl === 'export') {
      // Asynchronous (OTLP over HTTP from this thread): answered with an event, not the counters.
      const gen = msg.gen;
      void (finisher ? finisher.flush() : Promise.resolve()).then(() => events.postMessage({ w: 'exported', gen } satisfies WorkerEvent));
    } else {
      void finisher?.shutdown();
      sink.shutdown();
      done(msg.gen);
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
 * `block-write:<fifo>` — a read() that never returns (from a FIFO nobody writes to).
 */
function testFault(): { at: 'start' | 'write'; hang: () => void } | undefined {
  const m = /^(spin|block)-(start|write)(?::(.+))?$/.exec(process.env.LLM_OTEL_TEST_FAULT ?? '');
  if (!m) return undefined;
  const fifo = m[3];
  const hang = m[1] === 'spin' || !fifo
    ? () => { for (;;) pbkdf2Sync('spin', 'salt', 2 ** 31 - 1, 64, 'sha512'); }
    : () => { const fd = openSync(fifo, 'r+'); for (;;) readSync(fd, Buffer.alloc(1)); };
  return { at: m[2] as 'start' | 'write', hang };
}

/**
 * On Linux, nice values are per thread and setpriority(PRIO_PROCESS, 0) means "this thread", so
 * the writer yields the CPU to the app's thread when they compete (elsewhere it would renice the
 * whole process, so we do not).
 */
function lowerOwnPriority(): void {
  if (process.platform !== 'linux') return;
  try { setPriority(0, Math.min(19, getPriority(0) + 5)); } catch { /* not allowed: keep the default */ }
}

/** True inside llm-otel's call-log writer thread (where `register` must do nothing). */
export function isCallLogWriterThread(): boolean {
  const d = workerData as Partial<WorkerInit> | null | undefined;
  return !isMainThread && typeof d === 'object' && d !== null && d[WORKER_MARK] === true;
}

const init = workerData as WorkerInit | undefined;
if (!isMainThread && parentPort && init && init[WORKER_MARK] === true) void run(init, parentPort);
