// The app's side of llm-otel's pipeline thread (job.ts): LLM call records and the spans finished on
// the app's thread (agent, tool and workflow runs; eager LLM spans) go to the thread, which turns
// them into spans, rows and OTLP. A SpanSink for the call-log span processor, plus what finishing
// calls needs: pushCall, settle (before an exit's capped OTLP flush) and flushExport. If the thread
// cannot start or dies, rows are written on this thread and records finished here (onOrphanRecord).

import { existsSync } from 'node:fs';
import { type SpanData, spanDataSize } from '../../exporter/rows.js';
import { CallLogSink, type SpanSink } from '../../exporter/sink.js';
import { callLogHostSettings, cloneableOptions, type ThreadSinkOptions } from '../../exporter/thread-sink.js';
import { IN_SQLITE, WRITER_ACTIVITIES } from '../../exporter/writer.js';
import { defaultWarner, type Warner } from '../core/warn.js';
import type { CallRecord } from '../finish/finish.js';
import type { FleetOptions } from '../fleet/part.js';
import { ThreadHost } from '../thread/host.js';
import { besideCaller, threadEntry } from '../thread/locate.js';
import type { FinisherInit } from './finisher.js';
import type { PipelineJobOptions } from './job.js';

type Item = SpanData | CallRecord;

export interface PipelineThreadOptions {
  /** The call log; null: finished calls only go over OTLP. */
  callLog: ThreadSinkOptions | null;
  finisher: FinisherInit;
  /** Fleet mode: the shipper to PostgreSQL, run on the thread (src/fleet/). */
  fleet?: FleetOptions | null;
  warner?: Warner;
}

export class PipelineThread implements SpanSink {
  private readonly host: ThreadHost<Item>;
  private readonly opts: PipelineThreadOptions;
  private readonly warner: Warner;
  private fallback: CallLogSink | null = null;
  /** Call records taken by pushCall (for "anything new to flush?"). */
  callsPushed = 0;
  /** Finishes call records the thread will never see (it was lost before taking them) on this thread. */
  onOrphanRecord: ((rec: CallRecord) => void) | null = null;

  constructor(opts: PipelineThreadOptions, jobFile: string) {
    this.opts = opts;
    this.warner = opts.warner ?? defaultWarner;
    const jobOptions: PipelineJobOptions = {
      callLog: opts.callLog ? cloneableOptions(opts.callLog) : null,
      finisher: opts.finisher,
      fleet: opts.fleet ?? null,
    };
    this.host = new ThreadHost<Item>({
      ...callLogHostSettings(opts.callLog ?? { path: null }, this.warner),
      // 'reading the spool': the fleet shipper inside better-sqlite3 (native, like the writer's steps).
      job: {
        file: jobFile,
        activities: [...WRITER_ACTIVITIES, 'finishing calls', 'reading the spool'],
        native: [...IN_SQLITE, 'reading the spool'],
      },
      jobOptions,
      sizeOf: (item) => ((item as CallRecord).rec === 1 ? recordSize(item as CallRecord) : spanDataSize(item as SpanData)),
      simplify: (item) => ((item as CallRecord).rec === 1 ? plainRecord(item as CallRecord) : null),
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
  /** True while call records can be handed over (pushCall). */
  get finishesCalls(): boolean {
    return this.host.threaded;
  }

  push(span: SpanData): boolean {
    if (this.host.isShutdown) return false;
    if (!this.fallback) {
      const ok = this.host.push(span);
      if (ok || !this.fallback) return ok;
    }
    return this.fallback?.push(span) ?? false;
  }

  /**
   * A finished LLM call for the thread to turn into its span, rows and OTLP export. False when it
   * cannot take it (closed, or the thread is gone): the caller finishes it itself.
   */
  pushCall(rec: CallRecord): boolean {
    if (!this.host.threaded) return false;
    this.callsPushed++;
    this.host.push(rec); // false: dropped (queue full) and counted, or the thread was just lost
    return true;
  }

  /** Starts the thread ahead of the first record (a call has started: it loads while the call runs). */
  start(): void {
    this.host.start();
  }

  /** True when the thread's event loop is free (an export still pending then waits on the network). */
  get idle(): boolean {
    return this.host.idle;
  }

  /** Asks the thread to send what its OTLP exporter holds; resolves when it has (callers cap the wait). */
  flushExport(): Promise<void> {
    return this.host.call('export');
  }

  /** Waits (bounded) until the thread has finished every call handed to it (before a capped OTLP flush). */
  settle(): void {
    this.host.settle();
  }

  flushSync(): boolean {
    if (this.fallback) return this.fallback.flushSync();
    return this.host.flushSync() && this.fallback === null && this.pending === 0;
  }

  drainOnExit(keepThread = false): void {
    if (this.fallback) this.fallback.drainOnExit();
    else this.host.drainOnExit(keepThread);
  }

  shutdown(): void {
    this.host.shutdown();
    this.fallback?.shutdown();
  }

  private fallBack(reason: string, unsent: Item[], held: number): void {
    const log = this.opts.callLog;
    if (log && (log.path || log.jsonl)) this.fallback = new CallLogSink({ ...log, drainOnExit: log.drainOnExit !== false });
    this.warner.warn(
      'calllog:thread',
      `${reason}${held > 0 ? ` (${held} calls it held were lost)` : ''}; ${this.fallback ? 'writing on the main thread instead' : 'finishing calls on the main thread instead'}`,
    );
    for (const item of unsent) {
      if ((item as CallRecord).rec === 1) {
        try {
          this.onOrphanRecord?.(item as CallRecord);
        } catch {
          /* never into the app */
        }
      } else {
        this.fallback?.push(item as SpanData);
      }
    }
  }
}

/** The pipeline thread, or null where its modules cannot be found (a bundled app). */
export function createPipelineThread(opts: PipelineThreadOptions): PipelineThread | null {
  const job = besideCaller('job.js');
  const entry = threadEntry();
  if (!job || !entry || !existsSync(job) || !existsSync(entry)) return null;
  return new PipelineThread(opts, job);
}

/** Rough memory of a record: its strings dominate (prompts, responses). Bounded walk. */
function recordSize(rec: CallRecord): number {
  const body = rec.bodyJson !== undefined ? 2 * rec.bodyJson.length : approx(rec.body, 0);
  const result = rec.resultJson !== undefined ? 2 * rec.resultJson.length : approx(rec.result, 0);
  return 1024 + body + result;
}

function approx(v: unknown, depth: number): number {
  if (typeof v === 'string') return 2 * v.length;
  if (v === null || typeof v !== 'object' || depth > 6) return 8;
  let n = 16;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) n += approx(v[i], depth + 1);
  } else {
    for (const k in v as Record<string, unknown>) n += k.length + approx((v as Record<string, unknown>)[k], depth + 1);
  }
  return n;
}

/** A record whose request or response holds something uncloneable (a function, a class with private state): as JSON. */
function plainRecord(rec: CallRecord): CallRecord | null {
  try {
    const json = (v: unknown) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
    return { ...rec, llm: json(rec.llm) ?? {}, body: json(rec.body), result: json(rec.result), error: json(rec.error) };
  } catch {
    return null;
  }
}
