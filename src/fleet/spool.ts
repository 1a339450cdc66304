// Reading the local call log (the spool) for the shipper: rows after the writer's watermark, in
// one read transaction (one snapshot). The rows are the call log's own: the spool is the SQLite
// file the writer writes, read by a connection of the shipper's, never written by it.

import type Database from 'better-sqlite3';
import { writerId } from '../../exporter/schema.js';
import { openReadOnly } from '../../exporter/store.js';
import { priceKey } from '../core/price-key.js';
import type { CallWithMessages, Row, ShipBatch, Watermark } from './batch.js';

type Db = Database.Database;

export interface SpoolReaderOptions {
  path: string;
  /** Most calls (and runs) per batch. */
  maxCalls: number;
  /** Told before and after a read (better-sqlite3 runs natively: the thread must not be ended then). */
  onActivity?: (reading: boolean) => void;
}

/** Most ledger rows per batch (beyond the last change_seq group read). */
const LEDGER_BATCH = 5000;

export class SpoolReader {
  private db: Db | null = null;
  private stmts: {
    calls: Database.Statement;
    messages: Database.Statement;
    runs: Database.Statement;
    hourlyMax: Database.Statement;
    hourly: Database.Statement;
    sessionsMax: Database.Statement;
    sessions: Database.Statement;
    maxIds: Database.Statement;
  } | null = null;
  private id: string | null = null;

  constructor(private readonly o: SpoolReaderOptions) {}

  /** The spool's writer id (opens it). Throws when it cannot be read. */
  writerId(): string {
    this.open();
    return this.id!;
  }

  private open(): Db {
    if (this.db) return this.db;
    const db = openReadOnly(this.o.path, { busyTimeoutMs: 1000 });
    try {
      const id = writerId(db);
      if (!id) throw new Error(`${this.o.path} has no writer id (schema 5 is needed)`);
      this.id = id;
      this.stmts = {
        calls: db.prepare(
          `SELECT c.*, p.id AS p_id, p.source AS p_source, p.provider AS p_provider, p.model_pattern AS p_model_pattern,
             p.input_per_mtok AS p_input_per_mtok, p.cached_input_per_mtok AS p_cached_input_per_mtok,
             p.output_per_mtok AS p_output_per_mtok, p.currency AS p_currency, p.valid_from AS p_valid_from,
             p.valid_to AS p_valid_to, p.price_key AS p_price_key
           FROM llm_calls c LEFT JOIN model_prices p ON p.id = c.price_id
           WHERE c.id > ? ORDER BY c.id LIMIT ?`,
        ),
        // The call's span id and start from the call row itself: rows written by an older llm-otel
        // sharing the file have no call_span_id of their own.
        messages: db.prepare(
          `SELECT m.*, c.span_id AS call_span_id, c.started_at AS started_at
           FROM llm_messages m JOIN llm_calls c ON c.id = m.call_id
           WHERE m.call_id > ? AND m.call_id <= ? ORDER BY m.call_id, m.direction, m.position`,
        ),
        runs: db.prepare('SELECT * FROM llm_runs WHERE id > ? ORDER BY id LIMIT ?'),
        hourlyMax: db.prepare(
          'SELECT max(change_seq) AS m FROM (SELECT change_seq FROM llm_usage_hourly WHERE change_seq > ? ORDER BY change_seq LIMIT ?)',
        ),
        hourly: db.prepare('SELECT * FROM llm_usage_hourly WHERE change_seq > ? AND change_seq <= ?'),
        sessionsMax: db.prepare(
          'SELECT max(change_seq) AS m FROM (SELECT change_seq FROM llm_usage_sessions WHERE change_seq > ? ORDER BY change_seq LIMIT ?)',
        ),
        sessions: db.prepare('SELECT * FROM llm_usage_sessions WHERE change_seq > ? AND change_seq <= ?'),
        maxIds: db.prepare(
          "SELECT (SELECT coalesce(max(id), 0) FROM llm_calls) AS calls, (SELECT coalesce(max(id), 0) FROM llm_runs) AS runs, (SELECT value FROM llm_meta WHERE key = 'ledger_seq') AS seq",
        ),
      };
      this.db = db;
      return db;
    } catch (e) {
      db.close();
      throw e;
    }
  }

  /** The newest ids and ledger seq in the spool (what "caught up" means). */
  heads(): Watermark {
    this.open();
    return this.reading(() => {
      const r = this.stmts!.maxIds.get() as { calls: number; runs: number; seq: number | null };
      return { callId: Number(r.calls), runId: Number(r.runs), ledgerSeq: Number(r.seq ?? 0) };
    });
  }

  /** The rows after `from` (at most maxCalls calls and runs). */
  read(from: Watermark): ShipBatch {
    const db = this.open();
    return this.reading(() =>
      db.transaction(() => {
        const st = this.stmts!;
        const n = this.o.maxCalls;
        const callRows = st.calls.all(from.callId, n) as Row[];
        const calls: CallWithMessages[] = [];
        const prices = new Map<string, Row>();
        const byId = new Map<number, CallWithMessages>();
        for (const r of callRows) {
          const call = splitPrice(r, prices);
          const c = { call, messages: [] as Row[] };
          calls.push(c);
          byId.set(Number(r.id), c);
        }
        const lastCall = callRows.length > 0 ? Number(callRows.at(-1)!.id) : from.callId;
        if (calls.length > 0) {
          for (const m of st.messages.all(from.callId, lastCall) as Row[]) byId.get(Number(m.call_id))?.messages.push(m);
        }
        const runs = st.runs.all(from.runId, n) as Row[];
        const lastRun = runs.length > 0 ? Number(runs.at(-1)!.id) : from.runId;
        // Ledger rows by whole change_seq groups: a transaction's rows are shipped together.
        const hMax = (st.hourlyMax.get(from.ledgerSeq, LEDGER_BATCH) as { m: number | null }).m;
        const sMax = (st.sessionsMax.get(from.ledgerSeq, LEDGER_BATCH) as { m: number | null }).m;
        const seqTo = Math.max(from.ledgerSeq, Number(hMax ?? 0), Number(sMax ?? 0));
        const hourly = seqTo > from.ledgerSeq ? (st.hourly.all(from.ledgerSeq, seqTo) as Row[]) : [];
        const sessions = seqTo > from.ledgerSeq ? (st.sessions.all(from.ledgerSeq, seqTo) as Row[]) : [];
        return {
          calls,
          runs,
          prices: [...prices.values()],
          hourly,
          sessions,
          from,
          to: { callId: lastCall, runId: lastRun, ledgerSeq: seqTo },
          dropped: 0,
          more: callRows.length >= n || runs.length >= n,
        } satisfies ShipBatch;
      })(),
    );
  }

  close(): void {
    try {
      this.db?.close();
    } catch {
      /* already closed */
    }
    this.db = null;
    this.stmts = null;
  }

  private reading<T>(fn: () => T): T {
    this.o.onActivity?.(true);
    try {
      return fn();
    } catch (e) {
      // A spool replaced or damaged meanwhile: reopen next time.
      this.close();
      throw e;
    } finally {
      this.o.onActivity?.(false);
    }
  }
}

/** The call's own columns; its price row (joined as p_*) goes to `prices`, keyed. */
function splitPrice(r: Row, prices: Map<string, Row>): Row {
  const call: Row = {};
  let price: Row | null = null;
  for (const k in r) {
    if (k.startsWith('p_')) {
      if (r.p_id !== null) (price ??= {})[k.slice(2)] = r[k];
    } else call[k] = r[k];
  }
  if (price) {
    const key = (price.price_key as string | null) ?? priceKey(price as unknown as Parameters<typeof priceKey>[0]);
    price.price_key = key;
    call.price_key ??= key;
    if (!prices.has(key)) prices.set(key, price);
  }
  return call;
}
