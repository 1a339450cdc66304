// SqliteCallLogExporter: a standard OTel SpanExporter for any pipeline
// (`new BatchSpanProcessor(new SqliteCallLogExporter({ path }))`). GenAI spans become call-log rows;
// every other span is ignored. export() writes synchronously and reports through the callback; it
// never throws. Spans it cannot write yet (DB locked, full, missing) stay queued and are retried
// on an unref'd timer; the callback says FAILED only for spans that were dropped.
// Note: a BatchSpanProcessor in front of it keeps its own queue that is lost on process.exit();
// llm-otel's `register` uses CallLogSpanProcessor, which drains on exit.

import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { CallLogSink, type CallLogSinkOptions } from './sink.js';
import { spanToItem } from './rows.js';
import { errorMessage } from '../src/util/warn.js';

export type SqliteCallLogExporterOptions = CallLogSinkOptions;

export class SqliteCallLogExporter implements SpanExporter {
  readonly sink: CallLogSink;

  constructor(opts: SqliteCallLogExporterOptions) {
    this.sink = new CallLogSink(opts);
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    let result: ExportResult = { code: ExportResultCode.SUCCESS };
    try {
      if (this.sink.isShutdown) {
        result = { code: ExportResultCode.FAILED, error: new Error('SqliteCallLogExporter is shut down') };
      } else {
        let dropped = 0;
        for (const span of spans) {
          const item = spanToItem(span);
          if (item && !this.sink.push(item)) dropped++;
        }
        this.sink.flushSync();
        if (dropped > 0) {
          result = { code: ExportResultCode.FAILED, error: new Error(`call-log queue full: ${dropped} spans dropped`) };
        }
      }
    } catch (e) {
      result = { code: ExportResultCode.FAILED, error: e instanceof Error ? e : new Error(errorMessage(e)) };
    }
    try { resultCallback(result); } catch { /* the caller's callback is not ours to crash on */ }
  }

  /** Writes everything still queued (ignoring the retry backoff). */
  forceFlush(): Promise<void> {
    this.sink.flushSync(true);
    return Promise.resolve();
  }

  /** Same as forceFlush, synchronously. */
  flushSync(): boolean {
    return this.sink.flushSync(true);
  }

  /** Flushes and closes the DB. Idempotent; never rejects. */
  shutdown(): Promise<void> {
    this.sink.shutdown();
    return Promise.resolve();
  }
}
