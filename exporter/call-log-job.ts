// The call log's job on llm-otel's background thread (src/thread/): span data in, rows out. The
// thread owns the SQLite connection, so the app's event loop never waits on a transaction, a lock
// or the disk. Also the call-log half of llm-otel's own pipeline job (src/pipeline/job.ts).

import type { CreateJob, JobContext, ThreadJob } from '../src/thread/job.js';
import { estimateTextTokens } from '../src/tokens/index.js';
import type { ParsedAttributes, SpanData } from './rows.js';
import { CallLogSink, type CallLogSinkOptions, EXIT_BUSY_TIMEOUT_MS, WRITE_NOW } from './sink.js';

/** The call log on this thread: what the pipeline job composes. */
export interface CallLogPart {
  /** `parsed`: see CallLogSink.push. */
  push(span: SpanData, parsed?: ParsedAttributes): void;
  flush(request: { exit: boolean; rows: boolean; deadline: number }): void;
  close(): void;
}

export function openCallLog(context: JobContext, options: CallLogSinkOptions): CallLogPart {
  const sink: CallLogSink = new CallLogSink({
    ...options,
    warner: context.warner,
    drainOnExit: false,
    onFlushed: (pending) => context.report(pending, sink.dropped),
    onActivity: (a) => context.setActivity(a),
    betweenTransactions: () => context.stopIfAsked(),
  });
  // The tokenizer's tables take a while to load: while the thread starts (an exit waits for a
  // start), not inside the first write, which an exit drain must finish by its deadline.
  if (options.estimateTokens === 'builtin') {
    try {
      estimateTextTokens('warm up', 'gpt-4o-mini');
    } catch {
      /* estimates are optional */
    }
  }
  return {
    push(span, parsed) {
      sink.push(span, parsed);
      context.report(sink.pending, sink.dropped);
    },
    flush({ exit, rows, deadline }) {
      const budget = Math.max(0, deadline - Date.now());
      if (exit) {
        sink.drainWithin(budget);
        // From now on the thread writes only when asked: at the process's end Node terminates it,
        // which must not happen inside a SQLite call.
        sink.quiet();
      } else if (rows) {
        sink.flush(true, budget, deadline);
      }
      context.report(sink.pending, sink.dropped);
    },
    close() {
      sink.shutdown();
    },
  };
}

export const createJob: CreateJob = (context): ThreadJob => {
  const options = context.options as CallLogSinkOptions;
  const log = openCallLog(context, options);
  const budget = options.exitBusyTimeoutMs ?? EXIT_BUSY_TIMEOUT_MS;
  return {
    take: (item) => log.push(item as SpanData),
    flush: (request) => log.flush(request),
    // SqliteCallLogExporter's export: answered once written, so a provider's forceFlush() means on disk.
    call: async (name) => {
      if (name === WRITE_NOW) log.flush({ exit: false, rows: true, deadline: Date.now() + budget });
    },
    close: () => log.close(),
  };
};
