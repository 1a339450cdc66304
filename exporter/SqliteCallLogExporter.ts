// SqliteCallLogExporter: a standard OTel SpanExporter for any pipeline
// (`new BatchSpanProcessor(new SqliteCallLogExporter({ path }))`). GenAI spans become call-log rows;
// every other span is ignored. export() hands the spans to the writer (thread) and reports through
// the callback once they are written, so a provider's forceFlush() means "on disk" (a serverless
// handler's last line); it never throws and never blocks the app's thread. Spans that cannot be
// written yet (DB locked, full, missing) stay queued and are retried on an unref'd timer; the
// callback says FAILED only for dropped spans.
// Note: a BatchSpanProcessor in front of it keeps its own queue that is lost on process.exit();
// llm-otel's `register` uses CallLogSpanProcessor, which drains on exit.

import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { errorMessage } from '../src/core/warn.js';
import { toSpanData } from './rows.js';
import type { SpanSink } from './sink.js';
import { createSpanSink, type SinkChoice } from './thread-sink.js';

export type SqliteCallLogExporterOptions = SinkChoice;

/**
 * Longest wait for the writer's answer before export() reports anyway: a thread still starting on
 * a busy machine is waited for, one that stopped answering is not (its rows are the exit drain's).
 */
const WRITTEN_WAIT_MS = 5000;

export class SqliteCallLogExporter implements SpanExporter {
  readonly sink: SpanSink;

  constructor(opts: SqliteCallLogExporterOptions) {
    this.sink = createSpanSink(opts);
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    let result: ExportResult = { code: ExportResultCode.SUCCESS };
    let pushed = 0;
    try {
      if (this.sink.isShutdown) {
        result = { code: ExportResultCode.FAILED, error: new Error('SqliteCallLogExporter is shut down') };
      } else {
        let dropped = 0;
        for (const span of spans) {
          const data = toSpanData(span);
          if (!data) continue; // not a GenAI span
          if (this.sink.push(data)) pushed++;
          else dropped++;
        }
        if (dropped > 0) {
          result = { code: ExportResultCode.FAILED, error: new Error(`call-log queue full: ${dropped} spans dropped`) };
        }
      }
    } catch (e) {
      result = { code: ExportResultCode.FAILED, error: e instanceof Error ? e : new Error(errorMessage(e)) };
    }
    const report = (): void => {
      try {
        resultCallback(result);
      } catch {
        /* the caller's callback is not ours to crash on */
      }
    };
    if (pushed === 0 || !this.sink.written) {
      report();
      return;
    }
    // Bounded, and ref'd while it lasts: an app awaiting forceFlush() must get its answer, not
    // exit with that await unsettled.
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(cap);
      report();
    };
    const cap = setTimeout(finish, WRITTEN_WAIT_MS);
    this.sink.written().then(finish, finish);
  }

  /** Writes everything still queued (ignoring the retry backoff). */
  forceFlush(): Promise<void> {
    this.flushSync();
    return Promise.resolve();
  }

  /** Same as forceFlush, synchronously; true when nothing is left unwritten. */
  flushSync(): boolean {
    try {
      return this.sink.flushSync();
    } catch {
      return false;
    }
  }

  /** Flushes and closes the DB. Idempotent; never rejects. */
  shutdown(): Promise<void> {
    try {
      this.sink.shutdown();
    } catch {
      /* never into the app */
    }
    return Promise.resolve();
  }
}
