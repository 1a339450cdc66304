// CallLogSink: the bounded queue in front of a CallLogWriter, shared by the span processor and the
// SpanExporter. Items wait here while the DB is busy or unavailable; a full queue drops new items,
// counts them, warns once and says how many when it recovers. Flushes are synchronous
// (better-sqlite3 is), so the process 'exit' drain can write everything that is left.

import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { CallLogWriter, type CallLogWriterOptions, type WarnFn } from './writer.js';
import type { CallLogItem } from './rows.js';
import { drainOnExit } from './exit.js';
import { warnOnce, resetWarning } from '../src/util/warn.js';

export interface CallLogSinkOptions extends CallLogWriterOptions {
  /** Most items held while waiting for the DB (default 8192); beyond that new items are dropped. */
  maxQueueSize?: number;
  /** Most items per transaction (default 512). */
  maxBatchSize?: number;
  /** Lock wait of the exit drain (ms, default 2000): at exit there is nothing left to block. */
  exitBusyTimeoutMs?: number;
  /** Drain synchronously on process 'exit' (default true). */
  drainOnExit?: boolean;
  /** Use this writer instead of creating one from the options (tests, custom setups). */
  writer?: CallLogWriter;
}

export class CallLogSink {
  readonly writer: CallLogWriter;
  private readonly warn: WarnFn;
  private readonly maxQueue: number;
  private readonly maxBatch: number;
  private readonly exitBusyMs: number;
  private queue: CallLogItem[] = [];
  private head = 0; // queue[head..] are pending; compacted lazily so dequeueing is O(1)
  private droppedTotal = 0;
  private droppedSinceWarn = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private cancelExit: (() => void) | null = null;
  private closed = false;

  constructor(opts: CallLogSinkOptions) {
    this.writer = opts.writer ?? new CallLogWriter(opts);
    this.warn = opts.warn ?? warnOnce;
    this.maxQueue = Math.max(1, opts.maxQueueSize ?? 8192);
    this.maxBatch = Math.max(1, opts.maxBatchSize ?? 512);
    this.exitBusyMs = opts.exitBusyTimeoutMs ?? 2000;
    if (opts.drainOnExit !== false) this.cancelExit = drainOnExit(this);
  }

  /** Items waiting to be written. */
  get pending(): number { return this.queue.length - this.head; }
  /** Items dropped because the queue was full, since start. */
  get dropped(): number { return this.droppedTotal; }
  get isShutdown(): boolean { return this.closed; }

  /** Queues an item; false when it was dropped (queue full or sink shut down). */
  push(item: CallLogItem): boolean {
    if (this.closed) return false;
    if (this.pending >= this.maxQueue) {
      this.droppedTotal++;
      this.droppedSinceWarn++;
      // While the writer already warned about the DB itself, that warning explains the drops.
      if (!this.writer.failing) {
        this.warn(this.queueKey(), `call-log queue is full (${this.maxQueue} calls waiting for ${this.writer.path ?? 'the JSONL file'}); new calls are dropped and counted until it drains`);
      }
      return false;
    }
    this.queue.push(item);
    return true;
  }

  /**
   * Writes what can be written now, synchronously, in transactions of at most maxBatchSize.
   * Returns true when nothing is left pending. Never throws.
   */
  flushSync(force = false, busyTimeoutMs?: number): boolean {
    if (this.pending === 0) return true;
    // Our own writes must never become spans (an app may instrument its SQLite use too).
    return context.with(suppressTracing(context.active()), () => this.flushNow(force, busyTimeoutMs));
  }

  /** Called on process 'exit': everything that finished goes to disk, waiting longer for locks. */
  drainOnExit(): void {
    if (this.pending > 0) {
      this.flushSync(true, this.exitBusyMs);
      const left = this.pending;
      if (left > 0 && !this.writer.failing) {
        this.warn(`calllog:exit-lost:${this.writer.path}`, `${left} finished calls could not be written to ${this.writer.path} before exit`);
      }
    }
    // Closing checkpoints the WAL so the .db file is complete on its own. The writer stays usable:
    // an SDK exit hook may end abandoned spans after this and drain again.
    this.writer.release();
  }

  /** Final flush (forced) and close. Idempotent. */
  shutdown(): void {
    if (this.closed) return;
    this.flushSync(true, this.exitBusyMs);
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.cancelExit?.();
    this.cancelExit = null;
    this.writer.close();
  }

  private flushNow(force: boolean, busyTimeoutMs: number | undefined): boolean {
    try {
      while (this.pending > 0) {
        const end = Math.min(this.queue.length, this.head + this.maxBatch);
        const batch = this.queue.slice(this.head, end);
        const wo = busyTimeoutMs === undefined ? { force } : { force, busyTimeoutMs };
        if (!this.writer.writeBatch(batch, wo)) break;
        this.head = end;
        this.compact();
      }
    } catch (e) {
      // writeBatch does not throw; this guards against a bug costing the app anything.
      this.warn('calllog:internal', `call log: unexpected error ${String(e)}`);
    }
    if (this.pending === 0) {
      this.reportRecovery();
      return true;
    }
    this.scheduleRetry();
    return false;
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private reportRecovery(): void {
    if (this.droppedSinceWarn === 0) return;
    const n = this.droppedSinceWarn;
    this.droppedSinceWarn = 0;
    resetWarning(this.queueKey());
    const key = `calllog:queue-recovered:${this.writer.path}`;
    resetWarning(key);
    this.warn(key, `call-log queue drained; ${n} calls were dropped while it was full (${this.droppedTotal} since start)`);
  }

  /** Retries a stuck queue later from an unref'd timer, so a standalone exporter recovers too. */
  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    const ref = new WeakRef(this);
    this.retryTimer = setTimeout(() => {
      const self = ref.deref();
      if (!self) return;
      self.retryTimer = null;
      self.flushSync();
    }, 1000);
    this.retryTimer.unref();
  }

  private queueKey(): string { return `calllog:queue-full:${this.writer.path}`; }
}
