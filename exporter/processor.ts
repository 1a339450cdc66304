// CallLogSpanProcessor: what `register` installs. onEnd only maps the span to rows and queues them
// (the hot path does no I/O); an unref'd timer writes every flushIntervalMs, a full batch is written
// on the next turn of the event loop, and process 'exit' drains synchronously — so a call that
// finished is on disk after a normal exit, process.exit(), or an uncaught exception. Signal
// handlers (installed by the SDK) call flushSync()/shutdown() before re-raising.

import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { CallLogSink, type CallLogSinkOptions } from './sink.js';
import { spanToItem } from './rows.js';
import { errorMessage, warnOnce } from '../src/util/warn.js';

export interface CallLogSpanProcessorOptions extends CallLogSinkOptions {
  /** How often queued calls are written (ms, default 200). */
  flushIntervalMs?: number;
}

export class CallLogSpanProcessor implements SpanProcessor {
  readonly sink: CallLogSink;
  private readonly maxBatch: number;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private shutdownDone = false;

  constructor(opts: CallLogSpanProcessorOptions) {
    this.sink = new CallLogSink(opts);
    this.maxBatch = Math.max(1, opts.maxBatchSize ?? 512);
    const every = Math.max(1, opts.flushIntervalMs ?? 200);
    // The timer holds the processor only weakly: a forgotten processor can still be collected.
    const ref = new WeakRef(this);
    const timer = setInterval(() => {
      const self = ref.deref();
      if (!self) { clearInterval(timer); return; }
      self.sink.flushSync();
    }, every);
    timer.unref();
    this.timer = timer;
  }

  onStart(_span: Span, _parentContext: Context): void { /* nothing to do at start */ }

  onEnd(span: ReadableSpan): void {
    if (this.shutdownDone) return;
    try {
      const item = spanToItem(span);
      if (!item) return; // not a GenAI span
      this.sink.push(item);
      if (this.sink.pending >= this.maxBatch && !this.immediate) {
        // A full batch: write soon, but not inside the app's span.end() call.
        this.immediate = setImmediate(() => {
          this.immediate = null;
          this.sink.flushSync();
        });
        this.immediate.unref();
      }
    } catch (e) {
      warnOnce('calllog:onEnd', `call log: could not record a span (${errorMessage(e)})`);
    }
  }

  /** Writes everything queued now, synchronously (for signal handlers and tests). Never throws. */
  flushSync(): boolean {
    return this.sink.flushSync(true);
  }

  forceFlush(): Promise<void> {
    this.sink.flushSync(true);
    return Promise.resolve();
  }

  /** Flushes, closes the DB and stops the timer. Idempotent; the returned promise never rejects. */
  shutdown(): Promise<void> {
    if (!this.shutdownDone) {
      this.shutdownDone = true;
      if (this.timer) clearInterval(this.timer);
      if (this.immediate) clearImmediate(this.immediate);
      this.timer = null;
      this.immediate = null;
      this.sink.shutdown();
    }
    return Promise.resolve();
  }
}
