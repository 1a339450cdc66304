// CallLogSink: the bounded queue in front of a CallLogWriter, on the thread that writes (the
// writer worker, or the app's thread when the worker is off). Items wait here while the DB is busy
// or unavailable; a full queue drops new items, counts them, warns once and says how many when it
// recovers. Flushes are synchronous (better-sqlite3 is), so an exit drain can write what is left.

import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { DropReporter } from '../src/core/drops.js';
import { errorMessage } from '../src/core/warn.js';
import { drainOnExit } from '../src/thread/exit-guard.js';
import { type CallLogItem, itemWithSize, type ParsedAttributes, type SpanData } from './rows.js';
import { CallLogWriter, type CallLogWriterOptions, defaultWarner, type Warner } from './writer.js';

/** The asynchronous request a thread sink sends its job (call-log-job.ts): write what was sent. */
export const WRITE_NOW = 'write';

/** What the span processor and the SpanExporter feed: the inline sink or the worker sink. */
export interface SpanSink {
  /** Queues a finished GenAI span; false when it was dropped (queue full, or shut down). */
  push(span: SpanData): boolean;
  /** Writes everything queued now, waiting for it. True when nothing is left. Never throws. */
  flushSync(): boolean;
  /**
   * Process 'exit': write everything left, synchronously (bounded). `keepThread`: a writer thread
   * keeps running afterwards (a signal's capped OTLP flush follows) instead of stopping.
   */
  drainOnExit(keepThread?: boolean): void;
  /** Final flush and close. Idempotent. */
  shutdown(): void;
  /**
   * Resolves once what was pushed so far is written (or could not be, for now), without blocking
   * this thread where the writes happen elsewhere. Resolves true when the writer answered.
   */
  written?(): Promise<boolean>;
  readonly pending: number;
  readonly dropped: number;
  readonly isShutdown: boolean;
}

export interface CallLogSinkOptions extends CallLogWriterOptions {
  /** Most calls held while waiting for the DB (default 8192); beyond that new ones are dropped. */
  maxQueueSize?: number;
  /**
   * Most memory those calls may take (bytes, estimated from their content; default 64 MiB): an
   * agent whose every call carries a long history fills memory long before 8192 calls.
   */
  maxQueueBytes?: number;
  /** Queued items that trigger a write on the next tick (default 512). */
  maxBatchSize?: number;
  /**
   * Most items per transaction (default: maxBatchSize on the app's thread, 4096 on the writer
   * thread, where a backlog is best cleared in few large transactions).
   */
  maxTransactionSize?: number;
  /** Write queued items this often (ms, default 200). */
  flushIntervalMs?: number;
  /**
   * Lock wait of the exit drain and of flushSync (ms, default 750). The exit drain also stops
   * starting new transactions once this long has passed, so an exit is never held longer.
   */
  exitBusyTimeoutMs?: number;
  /** Drain synchronously on process 'exit' (default true). */
  drainOnExit?: boolean;
  /** Told how many items are still pending after every flush (the writer thread publishes it). */
  onFlushed?: (pending: number) => void;
  /** Called before each transaction of a flush (the writer thread stops there when asked to). */
  betweenTransactions?: () => void;
}

const INTERNAL_KEY = 'calllog:internal';
/** Default lock wait (and time budget) of an exit drain, ms. */
export const EXIT_BUSY_TIMEOUT_MS = 1000;

export class CallLogSink implements SpanSink {
  readonly writer: CallLogWriter;
  private readonly warner: Warner;
  private readonly maxQueue: number;
  private readonly maxBytes: number;
  private sizes: number[] = []; // parallel to queue
  private queuedBytes = 0;
  private readonly maxBatch: number;
  private readonly maxTx: number;
  private readonly exitBusyMs: number;
  private queue: CallLogItem[] = [];
  private head = 0; // queue[head..] are pending; compacted lazily so dequeueing is O(1)
  private readonly drops: DropReporter;
  private readonly onFlushed: ((pending: number) => void) | undefined;
  private readonly betweenTransactions: (() => void) | undefined;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private cancelExit: (() => void) | null = null;
  private closed = false;
  private quieted = false;

  constructor(opts: CallLogSinkOptions, writer?: CallLogWriter) {
    this.writer = writer ?? new CallLogWriter(opts);
    this.warner = opts.warner ?? defaultWarner;
    this.maxQueue = Math.max(1, opts.maxQueueSize ?? 8192);
    this.maxBytes = Math.max(1, opts.maxQueueBytes ?? 64 * 1024 * 1024);
    this.maxBatch = Math.max(1, opts.maxBatchSize ?? 512);
    this.maxTx = Math.max(1, opts.maxTransactionSize ?? this.maxBatch);
    this.exitBusyMs = opts.exitBusyTimeoutMs ?? EXIT_BUSY_TIMEOUT_MS;
    this.onFlushed = opts.onFlushed;
    this.betweenTransactions = opts.betweenTransactions;
    this.drops = new DropReporter(this.warner, String(this.writer.path ?? opts.jsonl ?? ''));
    if (opts.drainOnExit !== false) this.cancelExit = drainOnExit(this);
    // The timer holds the sink only weakly: a forgotten sink can still be collected.
    const ref = new WeakRef(this);
    const timer = setInterval(
      () => {
        const self = ref.deref();
        if (!self) {
          clearInterval(timer);
          return;
        }
        if (self.pending > 0) self.flush(false);
      },
      Math.max(1, opts.flushIntervalMs ?? 200),
    );
    timer.unref();
    this.timer = timer;
  }

  get pending(): number {
    return this.queue.length - this.head;
  }
  get dropped(): number {
    return this.drops.count;
  }
  get isShutdown(): boolean {
    return this.closed;
  }

  /** Writes only when asked from now on (flushSync, drains): no timer or batch triggers a write by itself. */
  quiet(): void {
    this.quieted = true;
    if (this.timer) clearInterval(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }

  /** `parsed`: values of JSON attributes already at hand (see ParsedAttributes), not parsed again. */
  push(span: SpanData, parsed?: ParsedAttributes): boolean {
    if (this.closed) return false;
    let mapped: { item: CallLogItem; size: number } | null;
    try {
      mapped = itemWithSize(span, parsed);
    } catch (e) {
      this.warner.warn(INTERNAL_KEY, `call log: could not map a span to rows (${errorMessage(e)})`);
      return false;
    }
    return mapped ? this.pushItem(mapped.item, mapped.size) : true;
  }

  /** Queues already-mapped rows; `size` is their estimated memory (bytes). */
  pushItem(item: CallLogItem, size = 4096): boolean {
    if (this.closed) return false;
    const full = (): boolean => this.pending >= this.maxQueue || (this.pending > 0 && this.queuedBytes + size > this.maxBytes);
    // Full: try to make room first (this also tells whether the DB itself is the problem).
    if (full()) this.flush(false);
    if (full()) {
      // While the DB itself is failing, that (or its coming) warning explains the drops.
      this.drops.dropped(
        () =>
          `call-log queue is full (${this.pending} calls, ${Math.round(this.queuedBytes / 1048576)} MB waiting for ${this.writer.path ?? 'the JSONL file'}); new calls are dropped and counted until it drains`,
        this.writer.failing !== null,
      );
      return false;
    }
    this.queue.push(item);
    this.sizes.push(size);
    this.queuedBytes += size;
    if (this.pending >= this.maxBatch && !this.immediate && !this.quieted) {
      // A full batch: write soon, but not inside the caller's span.end().
      this.immediate = setImmediate(() => {
        this.immediate = null;
        this.flush(false);
      });
      this.immediate.unref();
    }
    return true;
  }

  flushSync(): boolean {
    return this.flush(true, this.exitBusyMs, Date.now() + this.exitBusyMs);
  }

  /** Writes on this thread: the same as flushSync. */
  written(): Promise<boolean> {
    this.flushSync();
    return Promise.resolve(true);
  }

  /**
   * Writes what can be written now, in transactions of at most maxTransactionSize. `force` ignores the
   * retry backoff. Returns true when nothing is left pending. Never throws.
   */
  flush(force: boolean, busyTimeoutMs?: number, deadline?: number): boolean {
    if (this.pending === 0) return true;
    // Our own writes must never become spans (an app may instrument its SQLite use too).
    return context.with(suppressTracing(context.active()), () => this.flushNow(force, busyTimeoutMs, deadline));
  }

  drainOnExit(): void {
    this.drainWithin(this.exitBusyMs);
  }

  /** Process exit: write what can be written within `budgetMs`, say what was lost. */
  drainWithin(budgetMs: number): void {
    if (this.pending > 0) {
      this.flush(true, Math.min(this.exitBusyMs, budgetMs), Date.now() + budgetMs);
      const left = this.pending;
      if (left > 0) {
        // The final count, even when the fault itself was reported earlier: it is what the exit cost.
        const why = this.writer.failing ? lossReason(this.writer.failing) : 'the exit time limit was reached';
        this.warner.warn(
          `calllog:exit-lost:${this.writer.path}`,
          `${left} finished calls were not written to ${this.writer.path ?? 'the JSONL file'} before exit (${why}); they are lost`,
        );
      }
    }
    // Closing checkpoints the WAL so the .db file is complete on its own. The writer stays usable:
    // an SDK exit hook may end abandoned spans after this and drain again.
    this.writer.release();
  }

  shutdown(): void {
    if (this.closed) return;
    this.flush(true, this.exitBusyMs, Date.now() + this.exitBusyMs);
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    this.cancelExit?.();
    this.cancelExit = null;
    this.writer.close();
  }

  private flushNow(force: boolean, busyTimeoutMs: number | undefined, deadline: number | undefined): boolean {
    try {
      for (let first = true; this.pending > 0; first = false) {
        this.betweenTransactions?.();
        let busy = busyTimeoutMs;
        if (deadline !== undefined) {
          // Past the deadline, one attempt that does not wait: a free DB still gets the rows.
          const left = Math.max(0, deadline - Date.now());
          if (left === 0 && !first) break;
          busy = Math.min(busy ?? left, left);
        }
        const end = Math.min(this.queue.length, this.head + this.maxTx);
        const batch = this.queue.slice(this.head, end);
        const wo = busy === undefined ? { force } : { force, busyTimeoutMs: busy };
        if (!this.writer.writeBatch(batch, wo)) break;
        for (let i = this.head; i < end; i++) this.queuedBytes -= this.sizes[i]!;
        this.head = end;
        this.compact();
      }
    } catch (e) {
      // writeBatch does not throw; this guards against a bug costing the app anything.
      this.warner.warn(INTERNAL_KEY, `call log: unexpected error (${errorMessage(e)})`);
    }
    this.onFlushed?.(this.pending);
    if (this.pending > 0) return false;
    this.drops.recovered();
    return true;
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.sizes = [];
      this.queuedBytes = 0;
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
  }
}

function lossReason(fault: NonNullable<CallLogWriter['failing']>): string {
  switch (fault) {
    case 'busy':
      return 'it stayed locked by another process';
    case 'full':
      return 'the disk or database is full';
    case 'readonly':
      return 'it is read-only';
    case 'corrupt':
      return 'it is not a usable SQLite database';
    case 'cantopen':
      return 'it cannot be opened';
    case 'version':
      return 'it was written by a newer llm-otel';
    case 'foreign':
      return 'it is not an llm-otel call log';
    default:
      return 'writing failed';
  }
}
