// The writer thread. It owns the SQLite connection, so the app's event loop never waits on a
// transaction, a lock, or the disk. Spans (plain data) and LLM call records (finished here, see
// src/sdk/offload.ts) arrive in batches, one message per 25 ms or 256 items; control
// messages ask for a flush and are acknowledged through shared memory, so the app's thread can
// wait for them synchronously (process 'exit', signal handlers).

import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { getPriority, setPriority } from 'node:os';
import { CallLogSink, type CallLogSinkOptions } from './sink.js';
import type { Warner } from './writer.js';
import { toSpanData, type SpanData } from './rows.js';
import { itemUnits, type QueueItem } from './items.js';
import type { CallRecord } from '../src/instrumentation/finish.js';
import type { Finisher, FinisherInit } from '../src/sdk/offload.js';
import { setWarnSink } from '../src/util/warn.js';

export const WORKER_MARK = 'llmOtelCallLogWriter';
/** Int32 slots of the shared counters. */
export const CONSUMED = 0; // spans taken in by the worker (wraps around; compare differences)
export const DONE = 1; // generation of the last finished flush / close
export const PENDING = 2; // items queued in the worker, as of its last message or flush
export const DROPPED = 3; // items the worker's queue dropped (full), since start
export const CONSUMED_UNITS = 4; // estimated size (64-byte units) of the spans taken in; wraps
export const COUNTER_SLOTS = 5;

export interface WorkerInit {
  [WORKER_MARK]: true;
  options: CallLogSinkOptions;
  shared: SharedArrayBuffer;
  events: MessagePort;
  /** Set when this thread also finishes LLM calls (records from instrumentation/finish.ts). */
  finisher?: FinisherInit;
}

export type Control = { ctl: 'flush'; gen: number; exit: boolean } | { ctl: 'close'; gen: number } | { ctl: 'export'; gen: number };
export type WorkerEvent = { w: 'warn'; key: string; message: string } | { w: 'reset'; key: string } | { w: 'exported'; gen: number };

async function loadFinisher(init: FinisherInit, onSpan: (s: SpanData) => void): Promise<Finisher> {
  // Loaded only when asked for: a writer without it starts as light as before.
  const { createFinisher } = await import('../src/sdk/offload.js');
  return createFinisher(init, (span) => { const d = toSpanData(span); if (d) onSpan(d); });
}

async function run(init: WorkerInit, port: NonNullable<typeof parentPort>): Promise<void> {
  lowerOwnPriority();
  const counters = new Int32Array(init.shared);
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
  const sink = new CallLogSink({
    ...init.options, warner, drainOnExit: false,
    onFlushed: (pending) => Atomics.store(counters, PENDING, pending),
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
    try { finisher = await loadFinisher(init.finisher, keepRows ? push : () => undefined); } catch (e) {
      warner.warn('offload:load', `the writer thread cannot finish LLM calls (${(e as Error)?.message}); they are not recorded`);
    }
  }
  const done = (gen: number): void => {
    Atomics.store(counters, PENDING, sink.pending);
    Atomics.store(counters, DONE, gen);
    Atomics.notify(counters, DONE);
  };
  port.on('message', (msg: QueueItem[] | Control) => {
    if (Array.isArray(msg)) {
      let units = 0;
      for (const item of msg) {
        units += itemUnits(item);
        if ((item as CallRecord).rec === 1) finisher?.finish(item as CallRecord);
        else push(item as SpanData);
      }
      Atomics.add(counters, CONSUMED_UNITS, units);
      Atomics.add(counters, CONSUMED, msg.length);
      Atomics.store(counters, PENDING, sink.pending);
      return;
    }
    if (msg.ctl === 'flush') {
      if (msg.exit) sink.drainOnExit(); else sink.flushSync();
      done(msg.gen);
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
