// SqliteCallLogExporter: a standard OTel SpanExporter for any pipeline
// (`new BatchSpanProcessor(new SqliteCallLogExporter({ path }))`). GenAI spans become call-log rows;
// every other span is ignored. export() hands the spans to the writer (thread) and reports through
// the callback; it never throws. Spans that cannot be written yet (DB locked, full, missing) stay
// queued and are retried on an unref'd timer; the callback says FAILED only for dropped spans.
// Note: a BatchSpanProcessor in front of it keeps its own queue that is lost on process.exit();
// llm-otel's `register` uses CallLogSpanProcessor, which drains on exit.

import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { errorMessage } from '../src/core/warn.js';
import { toSpanData } from './rows.js';
import type { SpanSink } from './sink.js';
import { createSpanSink, type SinkChoice } from './thread-sink.js';

export type SqliteCallLogExporterOptions = SinkChoice;

export class SqliteCallLogExporter implements SpanExporter {
  readonly sink: SpanSink;

  constructor(opts: SqliteCallLogExporterOptions) {
    this.sink = createSpanSink(opts);
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    let result: ExportResult = { code: ExportResultCode.SUCCESS };
    try {
      if (this.sink.isShutdown) {
        result = { code: ExportResultCode.FAILED, error: new Error('SqliteCallLogExporter is shut down') };
      } else {
        let dropped = 0;
        for (const span of spans) {
          const data = toSpanData(span);
          if (data && !this.sink.push(data)) dropped++;
        }
        if (dropped > 0) {
          result = { code: ExportResultCode.FAILED, error: new Error(`call-log queue full: ${dropped} spans dropped`) };
        }
      }
    } catch (e) {
      result = { code: ExportResultCode.FAILED, error: e instanceof Error ? e : new Error(errorMessage(e)) };
    }
    try {
      resultCallback(result);
    } catch {
      /* the caller's callback is not ours to crash on */
    }
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
