// llm-otel's own job on its background thread: composition only.
//
//   app's thread                         background thread (this job)
//   ────────────                         ──────────────────────────────────────────────────────────
//   openai call ──► call record ──batch──► finisher (src/pipeline/finisher.ts: content, redaction,
//   (capture only:                          token estimates, cost, the span)
//    ids, times, refs)                          │
//                                               ├──► call log (exporter/call-log-job.ts): rows in SQLite
//   agent/tool spans ──────── span data ──batch─┤
//                                               └──► OTLP exporter (src/otlp/) ──► Collector / APM
//
// Why here and not on the app's thread: an app's event loop is what users feel; with a spare core,
// this work never touches it. The thread host (src/thread/) knows nothing of it.

import { type CallLogPart, openCallLog } from '../../exporter/call-log-job.js';
import { type SpanData, toSpanData } from '../../exporter/rows.js';
import type { CallLogSinkOptions } from '../../exporter/sink.js';
import type { CallRecord } from '../finish/finish.js';
import { type FleetOptions, type FleetPart, openFleet } from '../fleet/part.js';
import type { CreateJob, ThreadJob } from '../thread/job.js';
import { createFinisher, type FinisherInit } from './finisher.js';

export interface PipelineJobOptions {
  /** The call log (a SQLite file, a JSONL file or both); null: spans only go over OTLP. */
  callLog: CallLogSinkOptions | null;
  finisher: FinisherInit;
  /** Fleet mode: the shipper to PostgreSQL (the call log is then its spool). */
  fleet?: FleetOptions | null;
}

export const createJob: CreateJob = (context): ThreadJob => {
  const { callLog: logOptions, finisher: finisherInit, fleet: fleetOptions } = context.options as PipelineJobOptions;
  // Fleet mode: the shipper reads what the call log writes; with no usable spool it takes the rows.
  const fleet: FleetPart | null = fleetOptions ? openFleet(context, fleetOptions) : null;
  const spooled = logOptions && (!fleet || fleet.spooled) ? openCallLog(context, logOptions) : null;
  const log: CallLogPart | null =
    fleet && !fleet.spooled
      ? { push: (span, parsed) => fleet.push(span, parsed), flush() {}, close() {} }
      : spooled && fleet
        ? {
            push: (span, parsed) => spooled.push(span, parsed),
            flush: (request) => {
              spooled.flush(request);
              fleet.written();
            },
            close: () => spooled.close(),
          }
        : spooled;
  // The price book reads the call log's file: marked as inside SQLite while it does.
  const inDb = <T>(step: () => T): T => {
    const before = context.activity();
    context.setActivity('opening');
    try {
      return step();
    } finally {
      context.setActivity(before);
    }
  };
  // The message lists of the call being finished, by attribute: its span reaches the log within
  // finish(), whose rows are then made from the lists rather than from their JSON text parsed again.
  const made = new Map<string, { text: string; value: unknown }>();
  const finisher = createFinisher(
    finisherInit,
    (span) => {
      const d = toSpanData(span);
      if (d && log) log.push(d, made);
    },
    inDb,
    log ? (attribute, text, value) => made.set(attribute, { text, value }) : undefined,
  );
  return {
    take(item) {
      if ((item as CallRecord).rec === 1) {
        context.setActivity('finishing calls');
        finisher.finish(item as CallRecord);
        made.clear();
      } else {
        log?.push(item as SpanData);
      }
    },
    flush(request) {
      log?.flush(request);
      // At exit the shipper gets what is left of the budget (bounded; the spool keeps the rest).
      if (fleet && request.exit) return fleet.exit(request.deadline);
    },
    call: (name) => (name === 'export' ? finisher.flush() : Promise.resolve()),
    close() {
      // The finisher's spans reach the log as they end; its shutdown only has OTLP left to send.
      const exported = finisher.shutdown();
      log?.close();
      return fleet ? Promise.all([exported, fleet.close()]).then(() => undefined) : exported;
    },
  };
};
