// CallLogSpanProcessor: what `register` installs. onEnd only takes the span's data and hands it to
// the writer thread (no I/O, no mapping on the app's thread); the writer batches transactions
// every flushIntervalMs. process 'exit' drains synchronously — so a call that finished is on disk
// after a normal exit, process.exit(), or an uncaught exception. Signal handlers (installed by the
// SDK) call flushSync()/shutdown() before re-raising.

import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { errorMessage, warnOnce } from '../src/core/warn.js';
import { toSpanData } from './rows.js';
import type { SpanSink } from './sink.js';
import { createSpanSink, type SinkChoice } from './thread-sink.js';

/** Where the spans go: a call log to open (path, …), or a sink that exists (`{ sink }`). */
export type CallLogSpanProcessorOptions = SinkChoice | { sink: SpanSink };

export class CallLogSpanProcessor implements SpanProcessor {
  readonly sink: SpanSink;
  private shutdownDone = false;

  constructor(opts: CallLogSpanProcessorOptions) {
    this.sink = 'sink' in opts ? opts.sink : createSpanSink(opts);
  }

  onStart(_span: Span, _parentContext: Context): void {
    /* nothing to do at start */
  }

  onEnd(span: ReadableSpan): void {
    if (this.shutdownDone) return;
    try {
      const data = toSpanData(span);
      if (data) this.sink.push(data); // null: not a GenAI span
    } catch (e) {
      warnOnce('calllog:onEnd', `call log: could not record a span (${errorMessage(e)})`);
    }
  }

  /**
   * Writes everything queued now and waits for it (synchronously) — for signal handlers and
   * tests. True when nothing is left unwritten. Never throws.
   */
  flushSync(): boolean {
    try {
      return this.sink.flushSync();
    } catch {
      return false;
    }
  }

  forceFlush(): Promise<void> {
    this.flushSync();
    return Promise.resolve();
  }

  /** Flushes, closes the DB and stops the writer. Idempotent; never rejects. */
  shutdown(): Promise<void> {
    if (!this.shutdownDone) {
      this.shutdownDone = true;
      try {
        this.sink.shutdown();
      } catch {
        /* never into the app */
      }
    }
    return Promise.resolve();
  }
}
