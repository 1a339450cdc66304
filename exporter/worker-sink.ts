// WorkerSink: the app-thread half of the writer thread. push() costs one structured clone
// (a few µs); mapping, transactions, lock waits and disk I/O all happen in exporter/worker.ts.
// Synchronous guarantees are kept with shared memory: flushSync()/drainOnExit() post a flush and
// Atomics.wait for the worker's acknowledgement (the pino thread-stream idea), so a call that
// finished before process.exit() is still written. If the worker cannot run (bundled app, crash),
// the sink falls back to writing on this thread.

import { existsSync, readFileSync } from 'node:fs';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { CallLogSink, type CallLogSinkOptions, type SpanSink } from './sink.js';
import { defaultWarner, type Warner } from './writer.js';
import type { SpanData } from './rows.js';
import { itemUnits, SIZE_UNIT, type QueueItem } from './items.js';
import type { CallRecord } from '../src/finish/finish.js';
import type { FinisherInit } from '../src/pipeline/finisher.js';
import { abandonThreadAtExit, drainOnExit } from '../src/thread/exit-guard.js';
import { EXIT_BUSY_TIMEOUT_MS } from './sink.js';
import { exporterFile } from './locate.js';
import { WORKER_MARK, CONSUMED, CONSUMED_UNITS, DONE, PENDING, DROPPED, ACTIVITY, ACTIVITIES, TID, STOP, COUNTER_SLOTS, type Activity, type Control, type WorkerEvent, type WorkerInit } from './worker.js';
import { DropReporter } from './drops.js';
import { errorMessage } from '../src/core/warn.js';

export interface WorkerSinkOptions extends CallLogSinkOptions {
  /**
   * How long flushSync / the exit drain wait for the writer thread to answer (ms, default
   * exitBusyTimeoutMs + 250). A thread that does not answer in time is not waited for again, and
   * at exit the process ends without it.
   */
  flushTimeoutMs?: number;
  /** The writer thread also finishes LLM calls (pushCall), with these settings. */
  finisher?: FinisherInit;
}

/** Options the worker can receive (functions cannot cross threads). */
function cloneableOptions(o: CallLogSinkOptions): CallLogSinkOptions {
  const out: CallLogSinkOptions = { path: o.path };
  const keys = ['sampleRate', 'jsonl', 'busyTimeoutMs', 'pragmas', 'retryMinMs', 'retryMaxMs', 'maxQueueSize',
    'maxQueueBytes', 'maxBatchSize', 'flushIntervalMs', 'exitBusyTimeoutMs', 'lockWarnAfterMs', 'checkpointIntervalMs'] as const;
  if (o.estimateTokens === 'builtin') out.estimateTokens = 'builtin';
  for (const k of keys) if (o[k] !== undefined) (out as unknown as Record<string, unknown>)[k] = o[k];
  // On its own thread a lock wait blocks nobody, so wait longer than on the app's thread before
  // calling the DB "locked" — but not so long that a flush or exit request waits behind it — and
  // clear a backlog in large transactions.
  out.busyTimeoutMs ??= 250;
  out.maxBatchSize ??= 2048;
  out.maxTransactionSize = o.maxTransactionSize ?? Math.max(4096, out.maxBatchSize);
  return out;
}

const OUTBOX_MAX = 256;
/** What the thread does inside better-sqlite3 (see stopThread). */
const IN_SQLITE: ReadonlySet<Activity> = new Set<Activity>(['opening', 'writing', 'checkpointing', 'closing']);
/**
 * How long a flush or an exit waits at most for a thread that is slow but making progress — still
 * starting (loading its code), or finishing calls on a machine whose cores are busy (ms).
 */
const SLOW_ALLOWANCE_MS = 3000;
/** A thread neither runnable nor using CPU for this long is blocked, not slow (ms). */
const STALL_MS = 500;

/**
 * Whether an OS thread of this process is runnable (running, or waiting for a CPU on a busy
 * machine) and the CPU time it has used (clock ticks), from /proc on Linux; null when it cannot be
 * told (another OS, no thread id yet) — then only the time allowance applies.
 */
function threadProgress(tid: number): { runnable: boolean; cpu: number } | null {
  if (tid === 0 || process.platform !== 'linux') return null;
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
    // Fields after the command name (which may hold spaces), from field 3 (state) on: utime is 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { runnable: f[0] === 'R', cpu: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}
const SEND_INTERVAL_MS = 25;

export class WorkerSink implements SpanSink {
  private readonly opts: WorkerSinkOptions;
  private readonly warner: Warner;
  private readonly maxQueue: number;
  private readonly maxUnits: number;
  private readonly flushTimeoutMs: number;
  private readonly exitBusyMs: number;
  private readonly counters: Int32Array;
  private readonly events: MessagePort;
  private readonly drops: DropReporter;
  private worker: Worker | null = null;
  /** Starts the thread (null once started). */
  private spawn: (() => Worker) | null;
  private fallback: CallLogSink | null = null;
  /** Spans and call records not yet posted: sent together at the end of this turn of the event loop. */
  private outbox: QueueItem[] = [];
  private outboxUnits = 0;
  private sendScheduled: NodeJS.Timeout | null = null;
  private sendNow: NodeJS.Immediate | null = null;
  // Sent totals (int32, wrapping like the worker's CONSUMED / CONSUMED_UNITS counters). Spans are
  // not kept after posting: holding them until the worker takes them would age them into the old
  // generation and double the app's heap under load.
  private posted = 0;
  private postedUnits = 0;
  private sentAny = false;
  private gen = 0;
  private cancelExit: (() => void) | null = null;
  private closed = false;
  /** The generation of a request the thread did not answer in time (null: it answers). */
  private unanswered: number | null = null;
  /** The thread was asked to stop (process exit); nothing more is sent to it. */
  private stopping = false;
  /** Call records taken by pushCall (for "anything new to flush?"). */
  callsPushed = 0;
  /**
   * Finishes call records the writer thread will never see (it failed before they were posted)
   * on this thread instead. Set by start().
   */
  onOrphanRecord: ((rec: CallRecord) => void) | null = null;
  private readonly exportWaiters = new Map<number, () => void>();

  constructor(opts: WorkerSinkOptions, workerFile: string) {
    this.opts = opts;
    this.warner = opts.warner ?? defaultWarner;
    // The writer thread bounds its own queue at maxQueueSize / maxQueueBytes; this bound only
    // covers spans in transit (a writer still starting up, or stuck), so it is allowed as much again.
    this.maxQueue = 2 * Math.max(1, opts.maxQueueSize ?? 8192);
    this.maxUnits = Math.ceil(2 * Math.max(1, opts.maxQueueBytes ?? 64 * 1024 * 1024) / SIZE_UNIT);
    this.exitBusyMs = opts.exitBusyTimeoutMs ?? EXIT_BUSY_TIMEOUT_MS;
    // The thread stops writing at the request's deadline (exitBusyMs after it was sent); the rest
    // is for it to notice (a lock wait already under way) and answer.
    this.flushTimeoutMs = opts.flushTimeoutMs ?? this.exitBusyMs + 250;
    this.drops = new DropReporter(this.warner, `${opts.path ?? opts.jsonl ?? ''}:transit`);
    const shared = new SharedArrayBuffer(4 * COUNTER_SLOTS);
    this.counters = new Int32Array(shared);
    Atomics.store(this.counters, ACTIVITY, ACTIVITIES.indexOf('starting'));
    const { port1, port2 } = new MessageChannel();
    this.events = port1;
    port1.on('message', (e: WorkerEvent) => this.onEvent(e));
    port1.unref();
    const init: WorkerInit = { [WORKER_MARK]: true, options: cloneableOptions(opts), shared, events: port2 };
    if (opts.finisher) init.finisher = opts.finisher;
    this.spawn = () => {
      // No execArgv and no NODE_OPTIONS: the app's `--import llm-otel/register` (either way) must
      // not start a second SDK — and a second writer thread — inside the writer thread.
      const env: NodeJS.ProcessEnv = { ...process.env };
      delete env.NODE_OPTIONS;
      const worker = new Worker(workerFile, { workerData: init, transferList: [port2], execArgv: [], env, stdout: false, stderr: false });
      worker.unref();
      worker.on('error', (e) => this.fallBack(`writer thread failed: ${errorMessage(e)}`));
      worker.on('exit', (code) => { if (!this.closed && !this.stopping) this.fallBack(`writer thread exited with code ${code}`); });
      return worker;
    };
    if (opts.drainOnExit !== false) this.cancelExit = drainOnExit(this);
  }

  /**
   * The thread starts with the first call or span, not with the app: an app that never calls
   * pays for no thread, opens no file, and ends at once.
   */
  private ensureThread(): void {
    const spawn = this.spawn;
    if (!spawn || this.closed) return;
    this.spawn = null;
    try {
      this.worker = spawn();
    } catch (e) {
      this.fallBack(`cannot start the writer thread (${errorMessage(e)})`);
    }
  }

  get pending(): number {
    return this.fallback ? this.fallback.pending : this.inFlight() + this.outbox.length + Atomics.load(this.counters, PENDING);
  }
  /** Spans dropped because a queue was full (here or in the writer thread), since start. */
  get dropped(): number {
    return this.drops.count + Atomics.load(this.counters, DROPPED) + (this.fallback?.dropped ?? 0);
  }
  get isShutdown(): boolean { return this.closed; }
  /** True while writes run on the writer thread (false after a fallback). */
  get threaded(): boolean { return this.fallback === null; }

  push(span: SpanData): boolean {
    if (this.closed) return false;
    this.ensureThread();
    if (this.fallback) return this.fallback.push(span);
    return this.enqueue(span);
  }

  /**
   * A finished LLM call for the writer thread to turn into its span, rows and OTLP export. False
   * when it cannot take it (no finisher, fallen back, closed): the caller finishes it itself.
   */
  pushCall(rec: CallRecord): boolean {
    if (this.closed) return false;
    this.ensureThread();
    if (this.fallback || !this.opts.finisher) return false;
    this.callsPushed++;
    this.enqueue(rec); // false: dropped (queue full) and counted — like a span would be
    return true;
  }

  /** True while call records can be handed over (pushCall). */
  get finishesCalls(): boolean {
    return !this.closed && !this.fallback && !!this.opts.finisher;
  }

  /**
   * Asks the writer thread to send what its OTLP exporter holds; resolves when it has (callers
   * cap the wait). Resolves at once without a writer thread.
   */
  flushExport(): Promise<void> {
    if (this.closed || this.fallback || !this.worker || !this.opts.finisher) return Promise.resolve();
    // A thread that left a request unanswered would not answer this one either.
    if (this.unanswered !== null && !this.threadAnswers()) return Promise.resolve();
    this.send();
    const gen = this.nextGen();
    return new Promise<void>((resolve) => {
      this.exportWaiters.set(gen, resolve);
      try { this.worker!.postMessage({ ctl: 'export', gen } satisfies Control); } catch { this.exportWaiters.delete(gen); resolve(); }
    });
  }

  private enqueue(span: QueueItem): boolean {
    const units = itemUnits(span);
    const waiting = this.inFlight() + this.outbox.length;
    const transit = this.transitUnits() + this.outboxUnits;
    if (waiting >= this.maxQueue || (waiting > 0 && transit + units > this.maxUnits)) {
      this.drops.dropped(() => `call-log queue is full (${waiting} calls, ${Math.round(transit * SIZE_UNIT / 1048576)} MB in transit to the writer for ${this.opts.path ?? 'the JSONL file'}); new calls are dropped and counted until it drains`);
      return false;
    }
    this.outbox.push(span);
    this.outboxUnits += units;
    if (this.outbox.length >= OUTBOX_MAX) {
      // Full batch: send right after this turn, not inside the call that filled it.
      if (!this.sendNow) {
        this.sendNow = setImmediate(() => { this.sendNow = null; this.send(); });
        this.sendNow.unref();
      }
    } else if (!this.sendScheduled) {
      // One message per SEND_INTERVAL_MS (or per OUTBOX_MAX items), not one per call: each message
      // costs the app's thread a clone plus a wake-up of the writer (~40 µs in a busy app, measured
      // in bench/openai-overhead.bench.mjs), and nothing waits for it — flushes and exits send now.
      this.sendScheduled = setTimeout(() => { this.sendScheduled = null; this.send(); }, SEND_INTERVAL_MS);
      this.sendScheduled.unref();
    }
    if (waiting < this.maxQueue / 2) this.drops.recovered();
    return true;
  }

  flushSync(): boolean {
    if (this.fallback) return this.fallback.flushSync();
    // Nothing ever handed over: nothing to wait for (the thread may still be starting).
    if (this.closed || !this.hasWork()) return true;
    const ok = this.request(() => ({ ctl: 'flush', gen: this.nextGen(), exit: false, deadline: Date.now() + this.exitBusyMs }));
    return ok && this.fallback === null && this.pending === 0;
  }

  /**
   * Waits (blocking, bounded like flushSync) until the thread has taken in everything sent so far:
   * calls finished, their spans with the OTLP exporter. The rows are left to the thread's own
   * schedule (or the exit drain). Before an exit's capped OTLP flush, so the cap covers only the
   * network, not a thread still starting or finishing calls.
   */
  settle(): void {
    if (this.fallback || this.closed || !this.hasWork()) return;
    this.request(() => ({ ctl: 'flush', gen: this.nextGen(), exit: false, deadline: Date.now() + this.exitBusyMs, rows: false }));
  }

  /**
   * The process is ending: write what is left (bounded), then stop the thread where Node can end it
   * safely. `keepThread`: the thread keeps running afterwards (a signal's capped OTLP flush follows).
   */
  drainOnExit(keepThread = false): void {
    if (this.fallback) { this.fallback.drainOnExit(); return; }
    if (this.closed || !this.worker) return;
    if (!this.hasWork()) {
      // Nothing to write: no reason to wait for a thread still starting. It only has to stop.
      if (!keepThread) this.stopThread();
      return;
    }
    if (!this.request(() => ({ ctl: 'flush', gen: this.nextGen(), exit: true, deadline: Date.now() + this.exitBusyMs }))) this.abandon();
  }

  shutdown(): void {
    if (this.closed) return;
    this.cancelExit?.();
    this.cancelExit = null;
    if (this.fallback) {
      this.closed = true;
      this.fallback.shutdown();
      return;
    }
    if (!this.worker) {
      // Never started: nothing to close.
      this.closed = true;
      this.spawn = null;
      return;
    }
    const ok = this.request(() => ({ ctl: 'close', gen: this.nextGen() }));
    if (ok) {
      // It answered, so it is idle: terminating it cannot interrupt a SQLite call.
      void this.worker?.terminate().catch(() => undefined);
    } else {
      this.abandon();
    }
    this.closed = true;
    this.worker = null;
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────────────

  private inFlight(): number {
    return (this.posted - Atomics.load(this.counters, CONSUMED)) | 0;
  }

  private transitUnits(): number {
    return (this.postedUnits - Atomics.load(this.counters, CONSUMED_UNITS)) | 0;
  }

  private nextGen(): number {
    this.gen = (this.gen + 1) | 0;
    return this.gen;
  }

  /** Posts the outbox to the writer thread. */
  private send(): void {
    if (this.outbox.length === 0 || !this.worker) return;
    const batch = this.outbox;
    const units = this.outboxUnits;
    this.outbox = [];
    this.outboxUnits = 0;
    try {
      this.worker.postMessage(batch);
      this.posted = (this.posted + batch.length) | 0;
      this.postedUnits = (this.postedUnits + units) | 0;
    } catch {
      // Some value could not be cloned: send one by one and skip (or simplify) only the bad ones.
      for (const item of batch) {
        let sent: QueueItem = item;
        try {
          this.worker.postMessage([item]);
        } catch (e) {
          const plain = (item as CallRecord).rec === 1 ? plainRecord(item as CallRecord) : null;
          try {
            if (!plain) throw e;
            this.worker.postMessage([plain]);
            sent = plain;
          } catch {
            this.warner.warn('calllog:clone', `call log: a span could not be handed to the writer thread (${errorMessage(e)}); it was skipped`);
            continue;
          }
        }
        this.posted = (this.posted + 1) | 0;
        this.postedUnits = (this.postedUnits + itemUnits(sent)) | 0;
      }
    }
    this.sentAny = true;
  }

  /** Calls or spans were handed to the thread, or are about to be. */
  private hasWork(): boolean {
    return this.sentAny || this.outbox.length > 0;
  }

  /**
   * False while a request the thread was sent earlier is still unanswered (it is stuck, or very
   * slow): the app's thread must not block on it again.
   */
  private threadAnswers(): boolean {
    if (this.unanswered === null) {
      // Not answering yet may only mean it is still starting (loading the tokenizer takes a while on a busy machine).
      return Atomics.load(this.counters, ACTIVITY) !== ACTIVITIES.indexOf('starting') || this.waitForStart();
    }
    if (((Atomics.load(this.counters, DONE) - this.unanswered) | 0) < 0) return false;
    this.unanswered = null;
    return true;
  }

  /** A thread still starting: waited for as long as it makes progress (waitFor), from the start. */
  private waitForStart(): boolean {
    const starting = ACTIVITIES.indexOf('starting');
    return this.waitFor(ACTIVITY, () => Atomics.load(this.counters, ACTIVITY) !== starting, 0);
  }

  /**
   * Waits (blocking) until `done()`, woken by changes of counter `slot`: up to `baseMs`; then on
   * while the thread makes progress — it uses the CPU or waits for one (a busy machine) — up to
   * SLOW_ALLOWANCE_MS in all; not once it has been blocked (asleep, no CPU) for STALL_MS: a
   * system call that does not return is not waited for. Where progress cannot be read (not
   * Linux), `baseMs` only (SLOW_ALLOWANCE_MS for a start).
   */
  private waitFor(slot: number, done: () => boolean, baseMs: number): boolean {
    const started = Date.now();
    const cap = started + Math.max(baseMs, SLOW_ALLOWANCE_MS);
    let cpu = -1;
    let progressAt = started;
    for (;;) {
      const seen = Atomics.load(this.counters, slot);
      if (done()) return true;
      const now = Date.now();
      if (now >= cap) return false;
      if (now - started >= baseMs) {
        const p = threadProgress(Atomics.load(this.counters, TID));
        if (p === null) {
          if (baseMs > 0) return false;
        } else if (p.runnable || p.cpu !== cpu) {
          cpu = p.cpu;
          progressAt = now;
        } else if (now - progressAt >= STALL_MS) {
          return false;
        }
      }
      Atomics.wait(this.counters, slot, seen, Math.min(50, cap - now));
    }
  }

  /**
   * Posts a control message and waits (blocking) for the worker to acknowledge it: flushTimeoutMs,
   * or longer while a slow thread makes progress (waitFor); after it has started (waitForStart).
   */
  private request(make: () => Control & { gen: number }): boolean {
    if (this.stopping) return false;
    this.send();
    if (!this.worker || !this.threadAnswers()) return false;
    const msg = make(); // its deadline counts from now, once the thread can act on it
    try {
      this.worker.postMessage(msg);
    } catch {
      return false;
    }
    const ok = this.waitFor(DONE, () => ((Atomics.load(this.counters, DONE) - msg.gen) | 0) >= 0, this.flushTimeoutMs);
    if (!ok) this.unanswered = msg.gen;
    this.pumpEvents();
    return ok;
  }

  /** Delivers the worker's warnings now (our event loop may never run again). */
  private pumpEvents(): void {
    for (let m = receiveMessageOnPort(this.events); m; m = receiveMessageOnPort(this.events)) {
      this.onEvent(m.message as WorkerEvent);
    }
  }

  private onEvent(e: WorkerEvent): void {
    try {
      if (e.w === 'exported') {
        // Every flush asked up to this one is answered by it.
        for (const [gen, resolve] of this.exportWaiters) {
          if (((e.gen - gen) | 0) >= 0) { this.exportWaiters.delete(gen); resolve(); }
        }
      } else if (e.w === 'warn') this.warner.warn(e.key, e.message);
      else this.warner.reset(e.key);
    } catch { /* a warning must never cost the app anything */ }
  }

  /**
   * Asks the thread to stop at its next safe point (outside any SQLite call) and registers it with
   * the exit guard, which lets Node end it once stopped — or, if it never gets there, ends the
   * process without waiting for it (exporter/exit.ts).
   */
  private stopThread(): void {
    if (this.stopping || !this.worker) return;
    this.stopping = true;
    Atomics.store(this.counters, STOP, 1);
    try { this.worker.postMessage({ ctl: 'park' } satisfies Control); } catch { /* it stops at a safe point anyway */ }
    const activity = (): Activity => ACTIVITIES[Atomics.load(this.counters, ACTIVITY)] ?? 'idle';
    const worker = this.worker;
    abandonThreadAtExit(this, {
      tid: Atomics.load(this.counters, TID),
      // Waiting for messages is as safe for Node to end as stopped.
      settled: () => activity() === 'stopped' || activity() === 'idle',
      // Terminating a thread inside better-sqlite3 aborts the process; anywhere else it only stops JavaScript.
      terminate: () => {
        if (IN_SQLITE.has(activity())) return false;
        void worker.terminate().catch(() => undefined);
        return true;
      },
    });
  }

  /**
   * The thread did not answer in time at exit or shutdown. What it holds is out of reach, and
   * writing from here could block on whatever blocks it: say what it was doing and how many
   * calls it held, and make sure the process does not wait for it to end.
   */
  private abandon(): void {
    if (this.stopping || !this.worker) return;
    const held = this.inFlight() + Atomics.load(this.counters, PENDING) + this.outbox.length;
    this.outbox = [];
    this.outboxUnits = 0;
    const doing = ACTIVITIES[Atomics.load(this.counters, ACTIVITY)] ?? 'idle';
    this.stopThread();
    const inDb = doing === 'opening' || doing === 'writing' || doing === 'checkpointing' || doing === 'closing';
    const task = doing === 'idle' ? '' : ` (it was ${doing}${inDb && this.opts.path ? ` ${this.opts.path}` : ''})`;
    const what = this.opts.path ? 'call-log writer thread' : 'background thread';
    const lost = held > 0 ? `up to ${held} finished calls it held were not ${this.opts.path ? `written to ${this.opts.path}` : 'exported'}` : 'it held no calls';
    this.warner.warn(`calllog:abandoned:${this.opts.path}`, `the ${what} stopped answering${task}; it was abandoned: ${lost}`);
  }

  private fallBack(reason: string): void {
    if (this.fallback || this.closed) return;
    this.pumpEvents();
    const lost = this.inFlight() + Atomics.load(this.counters, PENDING);
    const left = this.outbox;
    this.outbox = [];
    this.outboxUnits = 0;
    this.worker = null;
    this.fallback = new CallLogSink({ ...this.opts, drainOnExit: false });
    this.warner.warn('calllog:worker', `call log: ${reason}${lost > 0 ? ` (${lost} calls it held were lost)` : ''}; writing on the main thread instead`);
    for (const resolve of this.exportWaiters.values()) resolve();
    this.exportWaiters.clear();
    for (const s of left) {
      if ((s as CallRecord).rec !== 1) this.fallback.push(s as SpanData);
      else try { this.onOrphanRecord?.(s as CallRecord); } catch { /* never into the app */ }
    }
  }
}

/** A record whose request or response holds something uncloneable (a function, a class with private state): as JSON. */
function plainRecord(rec: CallRecord): CallRecord | null {
  try {
    const json = (v: unknown) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
    return { ...rec, llm: json(rec.llm) ?? {}, body: json(rec.body), result: json(rec.result), error: json(rec.error) };
  } catch {
    return null;
  }
}

export interface SinkChoice extends WorkerSinkOptions {
  /**
   * Write on a worker thread (default true). Function hooks (`price`, an `estimateTokens`
   * function) cannot cross threads: with them the writes happen on the app's thread.
   */
  worker?: boolean;
}

/** The writer-thread sink when possible, else the inline one. */
export function createSpanSink(opts: SinkChoice): SpanSink {
  const wantsWorker = opts.worker !== false && !opts.price && typeof opts.estimateTokens !== 'function';
  if (wantsWorker) {
    const file = exporterFile('worker.js');
    if (file && existsSync(file)) {
      try {
        return new WorkerSink(opts, file);
      } catch (e) {
        (opts.warner ?? defaultWarner).warn('calllog:worker', `call log: cannot start the writer thread (${errorMessage(e)}); writing on the main thread instead`);
      }
    }
  }
  return new CallLogSink(opts);
}
