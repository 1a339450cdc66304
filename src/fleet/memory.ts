// The shipper's source when there is no spool (no writable local disk, or LLM_OTEL_SPOOL=off): a
// bounded in-memory queue of rows. Full, it drops the oldest calls first (the newest say most about
// now) and counts them; the count is shipped as llm_otel_writers.dropped_calls. The ledgers are this
// process's own absolute totals (its writer id is made per process), kept for every call — also
// those dropped or sampled out — so the fleet's totals stay exact while rows are lost.

import { randomBytes } from 'node:crypto';
import type { CallItem, CallLogItem } from '../../exporter/rows.js';
import { addRollup, addSession, type Rollup, type SessionTotals } from '../../exporter/writer.js';
import type { Row, ShipBatch } from './batch.js';

export interface MemoryQueueOptions {
  /** Most calls and runs held. */
  maxItems: number;
  /** Most calls per batch. */
  maxCalls: number;
  /** Told when the first drop of an episode happens (and how many so far). */
  onDrop?: (dropped: number) => void;
}

interface Held {
  item: CallLogItem;
  /** Stored in llm_calls (sampling kept it); ledgers count it either way. */
  keep: boolean;
}

/** Hours of ledger rows kept after they were shipped (later calls to an older hour are rare). */
const KEEP_HOURS = 48;

export class MemoryQueue {
  readonly writerId = randomBytes(16).toString('hex');
  private queue: Held[] = [];
  private head = 0;
  private droppedCalls = 0;
  private readonly hourly = new Map<string, Rollup>();
  private readonly sessions = new Map<string, SessionTotals>();
  /** Ledger keys changed since the last shipped batch. */
  private dirtyHours = new Set<string>();
  private dirtySessions = new Set<string>();
  /** What the batch in flight took: committed by ack(). */
  private inFlight: { count: number; hours: Set<string>; sessions: Set<string> } | null = null;

  constructor(private readonly o: MemoryQueueOptions) {}

  get pending(): number {
    return this.queue.length - this.head;
  }
  get dropped(): number {
    return this.droppedCalls;
  }

  push(item: CallLogItem, keep: boolean): void {
    if (item.kind === 'call') this.count(item);
    if (item.kind === 'call' && !keep) return;
    if (this.pending >= this.o.maxItems) {
      const old = this.queue[this.head]!;
      this.head++;
      if (this.inFlight && this.inFlight.count > 0) this.inFlight.count--; // it was in the batch: still sent
      if (old.item.kind === 'call') {
        this.droppedCalls++;
        if (this.droppedCalls === 1 || this.droppedCalls % 1000 === 0) this.o.onDrop?.(this.droppedCalls);
      }
    }
    this.queue.push({ item, keep });
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private count(item: CallItem): void {
    const before = this.hourly.size;
    const key = hourKey(item);
    addRollup(this.hourly, item.call);
    this.dirtyHours.add(key);
    if (this.hourly.size !== before) this.evictOldHours();
    const sid = item.call.session_id;
    if (sid !== null && sid !== undefined) {
      addSession(this.sessions, item.call);
      this.dirtySessions.add(sid);
    }
  }

  private evictOldHours(): void {
    const cutoff = new Date(Date.now() - KEEP_HOURS * 3_600_000).toISOString();
    for (const [k, r] of this.hourly) {
      if (r.hour < cutoff && !this.dirtyHours.has(k)) this.hourly.delete(k);
    }
  }

  /** The next batch (the same rows again until ack()). */
  next(): ShipBatch {
    const n = Math.min(this.pending, this.o.maxCalls);
    const items = this.queue.slice(this.head, this.head + n);
    const calls = [];
    const runs: Row[] = [];
    for (const h of items) {
      if (h.item.kind === 'run') runs.push(h.item.run as unknown as Row);
      else
        calls.push({
          call: h.item.call as unknown as Row,
          messages: h.item.messages.map((m) => ({
            ...m,
            call_span_id: (h.item as CallItem).call.span_id,
            started_at: (h.item as CallItem).call.started_at,
          })),
        });
    }
    // Ledger keys changed since the last shipped batch; a batch not acknowledged gives its keys back.
    if (this.inFlight) {
      for (const k of this.inFlight.hours) this.dirtyHours.add(k);
      for (const k of this.inFlight.sessions) this.dirtySessions.add(k);
    }
    const hours = this.dirtyHours;
    const sessions = this.dirtySessions;
    this.dirtyHours = new Set();
    this.dirtySessions = new Set();
    this.inFlight = { count: n, hours, sessions };
    return {
      calls,
      runs,
      prices: [],
      // Copies: the totals go on changing while the batch is on its way.
      hourly: [...hours].flatMap((k) => {
        const r = this.hourly.get(k);
        return r ? [{ ...r } as unknown as Row] : [];
      }),
      sessions: [...sessions].flatMap((k) => {
        const r = this.sessions.get(k);
        return r ? [{ ...r } as unknown as Row] : [];
      }),
      from: null,
      to: { callId: 0, runId: 0, ledgerSeq: 0 },
      dropped: this.droppedCalls,
      more: this.pending > n,
    };
  }

  /** The batch from next() is shipped: forget its rows. */
  ack(): void {
    const f = this.inFlight;
    if (!f) return;
    this.inFlight = null;
    this.head += Math.min(f.count, this.pending);
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
  }
}

function hourKey(item: CallItem): string {
  const c = item.call;
  const hour = c.started_at.slice(0, 13) + ':00:00.000Z';
  const currency = c.cost === null ? '' : c.currency || 'USD';
  return `${hour}\u0000${c.service_name ?? ''}\u0000${c.provider ?? ''}\u0000${c.request_model ?? c.response_model ?? ''}\u0000${c.user_id ?? ''}\u0000${c.agent_name ?? ''}\u0000${currency}`;
}
