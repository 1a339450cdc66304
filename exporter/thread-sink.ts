// The call log on llm-otel's background thread (src/thread/, job call-log-job.ts): push() hands a
// span's data over (one structured clone per batch); mapping, transactions, lock waits and disk I/O
// happen on the thread. flushSync() and the exit drain wait for it synchronously, bounded. If the
// thread cannot start or dies (a bundled app without the thread's module, a crash), the same
// writer runs on the app's thread instead.

import { existsSync } from 'node:fs';
import { defaultWarner, errorMessage, type Warner } from '../src/core/warn.js';
import { ThreadHost } from '../src/thread/host.js';
import { besideCaller, threadEntry } from '../src/thread/locate.js';
import { type SpanData, spanDataSize } from './rows.js';
import { CallLogSink, type CallLogSinkOptions, EXIT_BUSY_TIMEOUT_MS, type SpanSink, WRITE_NOW } from './sink.js';
import { IN_SQLITE, WRITER_ACTIVITIES } from './writer.js';

export interface ThreadSinkOptions extends CallLogSinkOptions {
  /**
   * How long flushSync / the exit drain wait for the thread to answer before it counts as slow
   * (ms, default exitBusyTimeoutMs + 250). A slow thread is waited for while it makes progress, up
   * to 3 s; one that does not answer is not waited for again, and at exit the process ends without it.
   */
  flushTimeoutMs?: number;
}

/** Options the thread can receive (functions cannot cross threads). */
export function cloneableOptions(o: CallLogSinkOptions): CallLogSinkOptions {
  const out: CallLogSinkOptions = { path: o.path };
  const keys = [
    'sampleRate',
    'jsonl',
    'busyTimeoutMs',
    'pragmas',
    'retryMinMs',
    'retryMaxMs',
    'maxQueueSize',
    'maxQueueBytes',
    'maxBatchSize',
    'flushIntervalMs',
    'exitBusyTimeoutMs',
    'lockWarnAfterMs',
    'checkpointIntervalMs',
  ] as const;
  if (o.estimateTokens === 'builtin') out.estimateTokens = 'builtin';
  for (const k of keys) if (o[k] !== undefined) (out as unknown as Record<string, unknown>)[k] = o[k];
  // On its own thread a lock wait blocks nobody, so wait longer than on the app's thread before
  // calling the DB "locked" (writers of one file take turns), and clear a backlog in large
  // transactions.
  out.busyTimeoutMs ??= 1000;
  out.maxBatchSize ??= 2048;
  out.maxTransactionSize = o.maxTransactionSize ?? Math.max(4096, out.maxBatchSize);
  return out;
}

/** The host settings every call-log thread shares (this one's, and llm-otel's pipeline's). */
export function callLogHostSettings(opts: ThreadSinkOptions, warner: Warner) {
  const exitBusyMs = opts.exitBusyTimeoutMs ?? EXIT_BUSY_TIMEOUT_MS;
  const path = opts.path ?? undefined;
  return {
    // The thread bounds its own queue at maxQueueSize / maxQueueBytes; this bound covers only what
    // is in transit (a thread still starting, or stuck), so it is allowed as much again.
    maxItems: 2 * Math.max(1, opts.maxQueueSize ?? 8192),
    maxBytes: 2 * Math.max(1, opts.maxQueueBytes ?? 64 * 1024 * 1024),
    flushBudgetMs: exitBusyMs,
    answerTimeoutMs: opts.flushTimeoutMs ?? exitBusyMs + 250,
    warner,
    drainOnExit: opts.drainOnExit !== false,
    describe: {
      thread: path ? 'call-log writer thread' : "llm-otel's background thread",
      target: path,
      inTarget: IN_SQLITE,
      lostAs: path ? `written to ${path}` : 'exported',
      queue: `call-log queue for ${path ?? opts.jsonl ?? 'the JSONL file'}`,
    },
  };
}

export class ThreadSink implements SpanSink {
  private readonly host: ThreadHost<SpanData>;
  private readonly opts: ThreadSinkOptions;
  private readonly warner: Warner;
  private fallback: CallLogSink | null = null;

  constructor(opts: ThreadSinkOptions, jobFile: string) {
    this.opts = opts;
    this.warner = opts.warner ?? defaultWarner;
    this.host = new ThreadHost<SpanData>({
      ...callLogHostSettings(opts, this.warner),
      job: { file: jobFile, activities: WRITER_ACTIVITIES, native: IN_SQLITE },
      jobOptions: cloneableOptions(opts),
      sizeOf: spanDataSize,
      onLost: (reason, unsent, held) => this.fallBack(reason, unsent, held),
    });
  }

  get pending(): number {
    return this.fallback ? this.fallback.pending : this.host.pending;
  }
  get dropped(): number {
    return this.host.dropped + (this.fallback?.dropped ?? 0);
  }
  get isShutdown(): boolean {
    return this.host.isShutdown;
  }
  /** True while writes run on the thread (false after a fallback). */
  get threaded(): boolean {
    return this.fallback === null;
  }

  /** Starts the thread ahead of the first span (see ThreadHost.start). */
  start(): void {
    if (!this.fallback) this.host.start();
  }

  push(span: SpanData): boolean {
    if (this.host.isShutdown) return false;
    if (!this.fallback) {
      const ok = this.host.push(span);
      if (ok || !this.fallback) return ok;
    }
    return this.fallback.push(span);
  }

  flushSync(): boolean {
    if (this.fallback) return this.fallback.flushSync();
    return this.host.flushSync() && this.fallback === null && this.pending === 0;
  }

  /** Asks the thread to write what it was sent, without waiting here; resolves when it has answered. */
  written(): Promise<boolean> {
    if (this.fallback) return this.fallback.written();
    // A thread lost meanwhile handed what it was sent to the fallback, which writes here.
    return this.host.call(WRITE_NOW).then(() => (this.fallback ? this.fallback.flushSync() : true));
  }

  drainOnExit(keepThread = false): void {
    if (this.fallback) this.fallback.drainOnExit();
    else this.host.drainOnExit(keepThread);
  }

  shutdown(): void {
    this.host.shutdown();
    this.fallback?.shutdown();
  }

  private fallBack(reason: string, unsent: SpanData[], held: number): void {
    this.fallback = new CallLogSink({ ...this.opts, drainOnExit: this.opts.drainOnExit !== false });
    this.warner.warn(
      'calllog:thread',
      `call log: ${reason}${held > 0 ? ` (${held} calls it held were lost)` : ''}; writing on the main thread instead`,
    );
    for (const s of unsent) this.fallback.push(s);
  }
}

export interface SinkChoice extends ThreadSinkOptions {
  /**
   * Write on llm-otel's background thread (default true). Function hooks (`price`, an
   * `estimateTokens` function) cannot cross threads: with them the writes happen on the app's thread.
   */
  worker?: boolean;
}

/** The thread sink when possible, else the inline one. */
export function createSpanSink(opts: SinkChoice): SpanSink {
  const wantsThread = opts.worker !== false && !opts.price && typeof opts.estimateTokens !== 'function';
  if (wantsThread) {
    const job = besideCaller('call-log-job.js');
    const entry = threadEntry();
    if (job && entry && existsSync(job) && existsSync(entry)) {
      try {
        return new ThreadSink(opts, job);
      } catch (e) {
        (opts.warner ?? defaultWarner).warn(
          'calllog:thread',
          `call log: cannot start the writer thread (${errorMessage(e)}); writing on the main thread instead`,
        );
      }
    }
  }
  return new CallLogSink(opts);
}
