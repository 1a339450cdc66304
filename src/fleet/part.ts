// Fleet mode's part of llm-otel's background-thread job (src/pipeline/job.ts composes it): a
// shipper reading the spool — the local SQLite call log the job writes as always — or, when no
// spool can be used (no writable disk, LLM_OTEL_SPOOL=off), taking the rows itself into a bounded
// memory queue.

import { openForWriting } from '../../exporter/open.js';
import { itemWithSize, type ParsedAttributes, type SpanData } from '../../exporter/rows.js';
import { CallLogWriter } from '../../exporter/writer.js';
import { errorMessage } from '../core/warn.js';
import type { JobContext } from '../thread/job.js';
import { displayUrl } from './connect.js';
import { EXIT_SHARE_MS, Shipper } from './shipper.js';

export interface FleetOptions {
  /** postgres:// URL of the fleet database. */
  url: string;
  /** The spool (the call log's path), or null for the memory queue. */
  spool: string | null;
  /** For the memory queue: sampling and token estimates as the call log does them. */
  sampleRate?: number;
  estimateTokens?: 'builtin';
  /** Tests and benchmarks: shipper settings (ms, rows). */
  tuning?: {
    maxCalls?: number;
    intervalMs?: number;
    connectTimeoutMs?: number;
    statementTimeoutMs?: number;
    backoffMaxMs?: number;
    memoryMaxItems?: number;
  };
}

export interface FleetPart {
  /** True while rows go through the spool (the job's call log); false: push() takes them. */
  readonly spooled: boolean;
  /** A GenAI span's data, for the memory queue. */
  push(span: SpanData, parsed?: ParsedAttributes): void;
  /** The call log wrote rows: ship soon if a batch's worth may be waiting. */
  written(): void;
  /** At exit, after the spool's drain: a last round within what is left of the budget. */
  exit(deadline: number): Promise<void>;
  close(): Promise<void>;
}

/** Errors that mean "no writable disk here" (rather than a lock, or a file of someone else's). */
const NO_DISK =
  /^(SQLITE_CANTOPEN|SQLITE_READONLY|SQLITE_FULL|SQLITE_IOERR|SQLITE_PERM|EACCES|EPERM|EROFS|ENOENT|ENOTDIR|ENOSPC|EISDIR|ENOTREG)/;

export function openFleet(context: JobContext, o: FleetOptions): FleetPart {
  let spool = o.spool;
  if (spool !== null) {
    try {
      // Created and migrated here (schema 5 gives it its writer id) before the shipper reads it.
      openForWriting(spool, { busyTimeoutMs: 2000 }).close();
    } catch (e) {
      const code = String((e as { code?: unknown }).code ?? '');
      if (NO_DISK.test(code)) {
        context.warner.warn(
          'fleet:no-spool',
          `fleet mode: the spool ${spool} cannot be used (${errorMessage(e)}); calls for ${displayUrl(o.url)} wait in a bounded memory queue instead, and are lost if the process ends before they are shipped`,
        );
        spool = null;
      }
    }
  }
  const before = { activity: 'idle' };
  const shipper = new Shipper({
    url: o.url,
    spool,
    warner: context.warner,
    ...(o.tuning ?? {}),
    onReading: (reading) => {
      if (reading) {
        before.activity = context.activity();
        context.setActivity('reading the spool');
      } else context.setActivity(before.activity);
    },
  });
  // The memory queue's rows get what the call log gives its own: token estimates, sampling, JSONL.
  const prepare =
    spool === null
      ? new CallLogWriter({ path: null, sampleRate: o.sampleRate ?? 1, ...(o.estimateTokens ? { estimateTokens: o.estimateTokens } : {}) })
      : null;
  shipper.start();
  return {
    spooled: spool !== null,
    push(span, parsed) {
      if (!prepare) return;
      const mapped = itemWithSize(span, parsed);
      if (!mapped) return;
      prepare.writeBatch([mapped.item]);
      shipper.push(mapped.item, mapped.item.kind === 'run' || prepare.keeps(mapped.item.call));
      shipper.nudge();
    },
    written: () => shipper.nudge(),
    exit: (deadline) => shipper.finish(Math.min(EXIT_SHARE_MS, deadline - Date.now() - 50)),
    close: () => shipper.finish(EXIT_SHARE_MS),
  };
}
