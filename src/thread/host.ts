// The app's side of llm-otel's background thread, for any job. push() costs one structured clone
// per batch (a few µs per item); what the items mean is the job's business (worker.ts runs it).
// Synchronous guarantees are kept with shared memory: a flush posts a request and waits on
// Atomics.wait for the answer, so what finished before process.exit() is still handled.
//
// Every wait is bounded, and a thread that stops answering never holds the process: it is asked to
// stop at a safe point, and the exit guard (exit-guard.ts) ends the process without it if it cannot.

import { readFileSync } from 'node:fs';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { DropReporter } from '../core/drops.js';
import { errorMessage, type Warner } from '../core/warn.js';
import { abandonThreadAtExit, drainOnExit } from './exit-guard.js';
import { threadEntry } from './locate.js';
import {
  ACTIVITY,
  BASE_ACTIVITIES,
  CONSUMED,
  CONSUMED_UNITS,
  COUNTER_SLOTS,
  type Control,
  DONE,
  DROPPED,
  type JobSpec,
  PENDING,
  STOP,
  THREAD_MARK,
  type ThreadEvent,
  type ThreadInit,
  TID,
} from './protocol.js';
import type { Batch } from './worker.js';

/** Sizes in transit are counted in units of 64 bytes, so int32 counters cover 128 GiB before wrapping. */
const SIZE_UNIT = 64;
const OUTBOX_MAX = 256;
const SEND_INTERVAL_MS = 25;
/**
 * How long a flush or an exit waits at most for a thread that is slow but making progress — still
 * starting (loading its code), or working on a machine whose cores are busy (ms).
 */
const SLOW_ALLOWANCE_MS = 5000;
/** A thread neither runnable nor using CPU for this long is blocked, not slow (ms). */
const STALL_MS = 500;

export interface ThreadHostOptions<Item> {
  job: JobSpec;
  /** The job's options: cloneable data. */
  jobOptions: unknown;
  /** Estimated memory of an item (bytes), for the in-transit bound. */
  sizeOf(item: Item): number;
  /** A cloneable form of an item that could not be cloned, or null to skip it. */
  simplify?(item: Item): Item | null;
  /** Most items, and bytes, in transit (sent, not yet taken in); beyond that new ones are dropped. */
  maxItems: number;
  maxBytes: number;
  /** How long a flush writes at most (ms); the thread is given 250 ms more to answer. */
  flushBudgetMs: number;
  /** How long to wait for an answer before the thread counts as slow (ms, default flushBudgetMs + 250). */
  answerTimeoutMs?: number;
  warner: Warner;
  /** Names for the warnings. */
  describe: {
    /** 'call-log writer thread' */
    thread: string;
    /** Where its items go ('/path/to/llm-otel.db'), named next to the activities in `inTarget`. */
    target?: string;
    inTarget?: readonly string[];
    /** What became of items it held: 'written to ./llm-otel.db', 'exported'. */
    lostAs: string;
    /** The queue, for the drop warning: 'call-log queue … for ./llm-otel.db'. */
    queue: string;
  };
  /** Drain on process exit (default true). */
  drainOnExit?: boolean;
  /** The thread could not start or died: what it was sent and never took in, and how many it held. */
  onLost(reason: string, unsent: Item[], held: number): void;
}

export class ThreadHost<Item> {
  private readonly opts: ThreadHostOptions<Item>;
  private readonly warner: Warner;
  private readonly maxUnits: number;
  private readonly answerTimeoutMs: number;
  private readonly activities: readonly string[];
  private readonly native: ReadonlySet<number>;
  private readonly counters: Int32Array;
  private readonly events: MessagePort;
  private readonly drops: DropReporter;
  private worker: Worker | null = null;
  /** Starts the thread (null once started). */
  private spawn: (() => Worker) | null;
  /** Items not yet posted: sent together at the end of this turn of the event loop. */
  private outbox: Item[] = [];
  private outboxUnits = 0;
  private sendScheduled: NodeJS.Timeout | null = null;
  private sendNow: NodeJS.Immediate | null = null;
  // Sent totals (int32, wrapping like the thread's CONSUMED / CONSUMED_UNITS). Items are not kept
  // after posting: holding them until the thread takes them would age them into the old generation.
  private posted = 0;
  private postedUnits = 0;
  private sentAny = false;
  private gen = 0;
  private cancelExit: (() => void) | null = null;
  private closed = false;
  private lost = false;
  /** The generation of a request the thread did not answer in time (null: it answers). */
  private unanswered: number | null = null;
  /** The thread was asked to stop (process exit); nothing more is sent to it. */
  private stopping = false;
  private readonly callWaiters = new Map<number, () => void>();

  constructor(opts: ThreadHostOptions<Item>) {
    this.opts = opts;
    this.warner = opts.warner;
    this.maxUnits = Math.ceil(Math.max(1, opts.maxBytes) / SIZE_UNIT);
    this.answerTimeoutMs = opts.answerTimeoutMs ?? opts.flushBudgetMs + 250;
    this.activities = [...BASE_ACTIVITIES, ...opts.job.activities];
    this.native = new Set(opts.job.native.map((a) => this.activities.indexOf(a)).filter((i) => i >= 0));
    this.drops = new DropReporter(this.warner, `${opts.describe.target ?? ''}:transit`);
    const shared = new SharedArrayBuffer(4 * COUNTER_SLOTS);
    this.counters = new Int32Array(shared);
    Atomics.store(this.counters, ACTIVITY, this.activities.indexOf('starting'));
    const { port1, port2 } = new MessageChannel();
    this.events = port1;
    port1.on('message', (e: ThreadEvent) => this.onEvent(e));
    port1.unref();
    const init: ThreadInit = {
      [THREAD_MARK]: true,
      job: opts.job.file,
      activities: this.activities,
      options: opts.jobOptions,
      shared,
      events: port2,
    };
    this.spawn = () => {
      const entry = threadEntry();
      if (!entry) throw new Error('cannot locate the thread module');
      // No execArgv and no NODE_OPTIONS: the app's `--import llm-otel/register` (either way) must
      // not start a second pipeline — and a second thread — inside the thread.
      const env: NodeJS.ProcessEnv = { ...process.env };
      delete env.NODE_OPTIONS;
      const worker = new Worker(entry, { workerData: init, transferList: [port2], execArgv: [], env, stdout: false, stderr: false });
      worker.unref();
      worker.on('error', (e) => this.loseThread(`${opts.describe.thread} failed: ${errorMessage(e)}`));
      worker.on('exit', (code) => {
        if (!this.closed && !this.stopping) this.loseThread(`${opts.describe.thread} exited with code ${code}`);
      });
      return worker;
    };
    if (opts.drainOnExit !== false) this.cancelExit = drainOnExit(this);
  }

  /** Items held: in transit, or with the job. */
  get pending(): number {
    return this.inFlight() + this.outbox.length + Atomics.load(this.counters, PENDING);
  }
  /** Items dropped because a queue was full (here or in the job), since start. */
  get dropped(): number {
    return this.drops.count + Atomics.load(this.counters, DROPPED);
  }
  /** False once the thread could not start or died (onLost was called): the caller does the work then. */
  get threaded(): boolean {
    return !this.lost && !this.closed;
  }
  get isShutdown(): boolean {
    return this.closed;
  }

  /**
   * Hands an item to the thread (started with the first item, not with the app: an app that never
   * sends anything pays for no thread). False when it was dropped (queue full) or the thread is gone.
   */
  push(item: Item): boolean {
    if (this.closed || this.lost) return false;
    this.ensureThread();
    if (this.lost) return false;
    const units = Math.ceil(this.opts.sizeOf(item) / SIZE_UNIT);
    const waiting = this.inFlight() + this.outbox.length;
    const transit = this.transitUnits() + this.outboxUnits;
    if (waiting >= this.opts.maxItems || (waiting > 0 && transit + units > this.maxUnits)) {
      this.drops.dropped(
        () =>
          `${this.opts.describe.queue} is full (${waiting} calls, ${Math.round((transit * SIZE_UNIT) / 1048576)} MB in transit); new calls are dropped and counted until it drains`,
      );
      return false;
    }
    this.outbox.push(item);
    this.outboxUnits += units;
    if (this.outbox.length >= OUTBOX_MAX) {
      // Full batch: send right after this turn, not inside the call that filled it.
      if (!this.sendNow) {
        this.sendNow = setImmediate(() => {
          this.sendNow = null;
          this.send();
        });
        this.sendNow.unref();
      }
    } else if (!this.sendScheduled) {
      // One message per SEND_INTERVAL_MS (or per OUTBOX_MAX items), not one per call: each message
      // costs the app's thread a clone plus a wake-up of the thread, and nothing waits for it —
      // flushes and exits send at once.
      this.sendScheduled = setTimeout(() => {
        this.sendScheduled = null;
        this.send();
      }, SEND_INTERVAL_MS);
      this.sendScheduled.unref();
    }
    if (waiting < this.opts.maxItems / 2) this.drops.recovered();
    return true;
  }

  /** A job's asynchronous request (`call(name)` in the job); resolves when done. Callers cap the wait. */
  call(name: string): Promise<void> {
    if (this.closed || this.lost || !this.worker) return Promise.resolve();
    // A thread that left a request unanswered would not answer this one either.
    if (this.unanswered !== null && !this.threadAnswers()) return Promise.resolve();
    this.send();
    const gen = this.nextGen();
    return new Promise<void>((resolve) => {
      this.callWaiters.set(gen, resolve);
      try {
        this.worker!.postMessage({ ctl: 'call', gen, name } satisfies Control);
      } catch {
        this.callWaiters.delete(gen);
        resolve();
      }
    });
  }

  /** Writes everything sent so far, waiting for it (bounded). True when the thread answered. */
  flushSync(): boolean {
    // Nothing ever handed over: nothing to wait for (the thread may still be starting).
    if (this.closed || this.lost || !this.hasWork()) return true;
    return this.request(() => ({ ctl: 'flush', gen: this.nextGen(), exit: false, deadline: Date.now() + this.opts.flushBudgetMs }));
  }

  /**
   * Waits (blocking, bounded like flushSync) until the thread has taken in everything sent so far,
   * without writing now. Before an exit's capped network flush, so the cap covers only the network,
   * not a thread still starting or busy with the items.
   */
  settle(): void {
    if (this.closed || this.lost || !this.hasWork()) return;
    this.request(() => ({ ctl: 'flush', gen: this.nextGen(), exit: false, deadline: Date.now() + this.opts.flushBudgetMs, rows: false }));
  }

  /**
   * The process is ending: write what is left (bounded); afterwards the thread writes only when
   * asked. `keepThread`: it keeps running (a signal's capped network flush follows); otherwise one
   * that was given nothing is stopped where Node can end it.
   */
  drainOnExit(keepThread = false): void {
    if (this.closed || this.lost || !this.worker) return;
    if (!this.hasWork()) {
      // Nothing to write: no reason to wait for a thread still starting. It only has to stop.
      if (!keepThread) this.stopThread();
      return;
    }
    if (!this.request(() => ({ ctl: 'flush', gen: this.nextGen(), exit: true, deadline: Date.now() + this.opts.flushBudgetMs })))
      this.abandon();
  }

  /** Final flush, then the thread ends. Idempotent. */
  shutdown(): void {
    if (this.closed) return;
    this.cancelExit?.();
    this.cancelExit = null;
    if (this.lost || !this.worker) {
      // Never started, or gone: nothing to close.
      this.closed = true;
      this.spawn = null;
      return;
    }
    const ok = this.request(() => ({ ctl: 'close', gen: this.nextGen() }));
    if (ok) {
      // It answered, so it is idle: terminating it cannot interrupt a native call.
      void this.worker?.terminate().catch(() => undefined);
    } else {
      this.abandon();
    }
    this.closed = true;
    this.worker = null;
  }

  /**
   * Starts the thread now if it has not started (push() would start it with the first item): a
   * caller that knows items are coming gives it a head start to load its code.
   */
  start(): void {
    this.ensureThread();
  }

  /** True when the thread waits for messages (its event loop is free: an async call waits on I/O). */
  get idle(): boolean {
    return this.worker !== null && this.activity() === 'idle';
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────────────

  private ensureThread(): void {
    const spawn = this.spawn;
    if (!spawn || this.closed) return;
    this.spawn = null;
    try {
      this.worker = spawn();
    } catch (e) {
      this.loseThread(`cannot start the ${this.opts.describe.thread} (${errorMessage(e)})`);
    }
  }

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

  /** Posts the outbox to the thread. */
  private send(): void {
    if (this.outbox.length === 0 || !this.worker) return;
    const items = this.outbox;
    const units = this.outboxUnits;
    this.outbox = [];
    this.outboxUnits = 0;
    try {
      this.worker.postMessage({ items, units } satisfies Batch);
      this.posted = (this.posted + items.length) | 0;
      this.postedUnits = (this.postedUnits + units) | 0;
    } catch {
      // Some value could not be cloned: send one by one and skip (or simplify) only the bad ones.
      for (const item of items) {
        let sent = item;
        try {
          this.worker.postMessage({ items: [item], units: this.unitsOf(item) } satisfies Batch);
        } catch (e) {
          const plain = this.opts.simplify?.(item) ?? null;
          try {
            if (!plain) throw e;
            this.worker.postMessage({ items: [plain], units: this.unitsOf(plain) } satisfies Batch);
            sent = plain;
          } catch {
            this.warner.warn(
              'thread:clone',
              `a call could not be handed to the ${this.opts.describe.thread} (${errorMessage(e)}); it was skipped`,
            );
            continue;
          }
        }
        this.posted = (this.posted + 1) | 0;
        this.postedUnits = (this.postedUnits + this.unitsOf(sent)) | 0;
      }
    }
    this.sentAny = true;
  }

  private unitsOf(item: Item): number {
    return Math.ceil(this.opts.sizeOf(item) / SIZE_UNIT);
  }

  /** Items were handed to the thread, or are about to be. */
  private hasWork(): boolean {
    return this.sentAny || this.outbox.length > 0;
  }

  private activity(): string {
    return this.activities[Atomics.load(this.counters, ACTIVITY)] ?? 'idle';
  }

  /**
   * False while a request the thread was sent earlier is still unanswered (it is stuck, or very
   * slow): the app's thread must not block on it again. A thread still starting is waited for.
   */
  private threadAnswers(): boolean {
    if (this.unanswered === null) {
      const starting = this.activities.indexOf('starting');
      return (
        Atomics.load(this.counters, ACTIVITY) !== starting ||
        this.waitFor(ACTIVITY, () => Atomics.load(this.counters, ACTIVITY) !== starting, 0)
      );
    }
    if (((Atomics.load(this.counters, DONE) - this.unanswered) | 0) < 0) return false;
    this.unanswered = null;
    return true;
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
    let wakeups = -1;
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
        } else if (p.runnable || p.cpu !== cpu || p.wakeups !== wakeups) {
          cpu = p.cpu;
          wakeups = p.wakeups;
          progressAt = now;
        } else if (now - progressAt >= STALL_MS) {
          return false;
        }
      }
      Atomics.wait(this.counters, slot, seen, Math.min(50, cap - now));
    }
  }

  /** Posts a control message and waits (blocking, bounded: waitFor) for the thread to answer it. */
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
    const ok = this.waitFor(DONE, () => ((Atomics.load(this.counters, DONE) - msg.gen) | 0) >= 0, this.answerTimeoutMs);
    if (!ok) this.unanswered = msg.gen;
    this.pumpEvents();
    return ok;
  }

  /** Delivers the thread's warnings now (our event loop may never run again). */
  private pumpEvents(): void {
    for (let m = receiveMessageOnPort(this.events); m; m = receiveMessageOnPort(this.events)) {
      this.onEvent(m.message as ThreadEvent);
    }
  }

  private onEvent(e: ThreadEvent): void {
    try {
      if (e.w === 'answered') {
        // Every request up to this one is answered by it.
        for (const [gen, resolve] of this.callWaiters) {
          if (((e.gen - gen) | 0) >= 0) {
            this.callWaiters.delete(gen);
            resolve();
          }
        }
      } else if (e.w === 'warn') this.warner.warn(e.key, e.message);
      else this.warner.reset(e.key);
    } catch {
      /* a warning must never cost the app anything */
    }
  }

  /**
   * Asks the thread to stop at its next safe point and registers it with the exit guard, which
   * lets Node end it once stopped — or, if it never gets there, ends the process without it.
   */
  private stopThread(): void {
    if (this.stopping || !this.worker) return;
    this.stopping = true;
    Atomics.store(this.counters, STOP, 1);
    try {
      this.worker.postMessage({ ctl: 'park' } satisfies Control);
    } catch {
      /* it stops at a safe point anyway */
    }
    const worker = this.worker;
    const stopped = this.activities.indexOf('stopped');
    const idle = this.activities.indexOf('idle');
    abandonThreadAtExit(this, {
      tid: Atomics.load(this.counters, TID),
      // Waiting for messages is as safe for Node to end as stopped.
      settled: () => {
        const a = Atomics.load(this.counters, ACTIVITY);
        return a === stopped || a === idle;
      },
      // Terminating a thread inside a native library may abort the process; anywhere else it only stops JavaScript.
      terminate: () => {
        if (this.native.has(Atomics.load(this.counters, ACTIVITY))) return false;
        void worker.terminate().catch(() => undefined);
        return true;
      },
    });
  }

  /**
   * The thread did not answer in time at exit or shutdown. What it holds is out of reach, and
   * handling it here could block on whatever blocks it: say what it was doing and how many calls
   * it held, and make sure the process does not wait for it to end.
   */
  private abandon(): void {
    if (this.stopping || !this.worker) return;
    const held = this.inFlight() + Atomics.load(this.counters, PENDING) + this.outbox.length;
    this.outbox = [];
    this.outboxUnits = 0;
    const doing = this.activity();
    this.stopThread();
    const d = this.opts.describe;
    const where = d.target && d.inTarget?.includes(doing) ? ` ${d.target}` : '';
    const task = doing === 'idle' ? '' : ` (it was ${doing}${where})`;
    const lost = held > 0 ? `up to ${held} finished calls it held were not ${d.lostAs}` : 'it held no calls';
    this.warner.warn(`thread:abandoned:${d.target ?? d.thread}`, `the ${d.thread} stopped answering${task}; it was abandoned: ${lost}`);
  }

  /** The thread could not start, or died: the caller takes over (onLost). */
  private loseThread(reason: string): void {
    if (this.lost || this.closed) return;
    this.lost = true;
    this.pumpEvents();
    const held = this.inFlight() + Atomics.load(this.counters, PENDING);
    const unsent = this.outbox;
    this.outbox = [];
    this.outboxUnits = 0;
    this.worker = null;
    for (const resolve of this.callWaiters.values()) resolve();
    this.callWaiters.clear();
    try {
      this.opts.onLost(reason, unsent, held);
    } catch {
      /* never into the app */
    }
  }
}

/**
 * Signs of life of an OS thread of this process, from /proc on Linux: runnable (running, or
 * waiting for a CPU on a busy machine), the CPU time it has used (clock ticks), and how often it
 * has gone to sleep (voluntary context switches: a thread sleeping in a loop — SQLite waiting for
 * a lock — wakes and sleeps again; one stuck in a single system call does not). Null when it
 * cannot be told (another OS, no thread id yet): then only the time allowance applies.
 */
function threadProgress(tid: number): { runnable: boolean; cpu: number; wakeups: number } | null {
  if (tid === 0 || process.platform !== 'linux') return null;
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
    // Fields after the command name (which may hold spaces), from field 3 (state) on: utime is 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = readFileSync(`/proc/self/task/${tid}/status`, 'latin1');
    const wakeups = /^voluntary_ctxt_switches:\s*(\d+)/m.exec(status);
    return { runnable: f[0] === 'R', cpu: Number(f[11]) + Number(f[12]), wakeups: wakeups ? Number(wakeups[1]) : 0 };
  } catch {
    return null;
  }
}
