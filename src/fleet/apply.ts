// One flush into the fleet database: one transaction holding the batch's rows, the writer's ledger
// rows (absolute totals) and its watermark, so a batch is applied exactly once however often it is
// sent (rows by key, ON CONFLICT DO NOTHING; ledgers set, never added to). The writer's rows are
// guarded by an advisory lock taken without waiting: two processes sharing one spool take turns
// instead of shipping the same rows at once.

import { hostname } from 'node:os';
import type { CallWithMessages, Row, ShipBatch, Watermark } from './batch.js';
import { isMissingPartition, isRowError } from './connect.js';
import { Partitions } from './partitions.js';
import { cleanString } from './sanitize.js';
import type { SqlClient } from './schema.js';
import { CALLS, columnsOf, HOURLY, insertSql, MESSAGES, PRICES, RUNS, SESSIONS, type TableSpec } from './tables.js';

/** pg_try_advisory_xact_lock(WRITER_LOCK, hashtext(writer_id)): one shipper per writer at a time. */
export const WRITER_LOCK = 0x4c4c4f57; // 'LLOW'

export interface WriterInfo {
  writerId: string;
  /** What the rows come from: the spool's path, or 'memory'. */
  source: string;
}

export type ApplyResult =
  | { kind: 'done'; inserted: number; parked: ParkedRow[] }
  /** Another process holds this writer's lock now. */
  | { kind: 'busy' }
  /** The stored watermark is not where the batch starts (another process shipped meanwhile). */
  | { kind: 'moved'; stored: Watermark };

export interface ParkedRow {
  kind: string;
  spanId: string | null;
  error: string;
}

const SQL = {
  calls: insertSql(CALLS),
  messages: insertSql(MESSAGES),
  runs: insertSql(RUNS),
  hourly: insertSql(HOURLY),
  sessions: insertSql(SESSIONS),
  prices: insertSql(PRICES),
};

/** Rows and values per statement: bounded so one statement never carries an unbounded array. */
const CHUNK = 2000;

/** The watermark stored for a writer (creating its row), or null when it has none yet. */
export async function storedWatermark(client: SqlClient, w: WriterInfo): Promise<Watermark> {
  const r = await client.query('SELECT last_call_id, last_run_id, last_ledger_seq FROM llm_otel_writers WHERE writer_id = $1', [
    w.writerId,
  ]);
  const row = r.rows[0];
  return row
    ? { callId: Number(row.last_call_id), runId: Number(row.last_run_id), ledgerSeq: Number(row.last_ledger_seq) }
    : { callId: 0, runId: 0, ledgerSeq: 0 };
}

export class BatchApplier {
  /** Price rows (key and valid_to) this process already sent: not sent again. */
  private readonly pricesSent = new Set<string>();

  constructor(
    private readonly partitions: Partitions,
    private readonly writer: WriterInfo,
  ) {}

  async apply(client: SqlClient, batch: ShipBatch): Promise<ApplyResult> {
    // Rows PostgreSQL cannot place in a day (a time that is not one) are parked before the transaction.
    const unplaceable: ParkedRow[] = [];
    const calls: CallWithMessages[] = [];
    const runs: Row[] = [];
    const days = new Set<string>();
    for (const c of batch.calls) {
      const day = Partitions.day(String(c.call.started_at));
      if (day === null) unplaceable.push(park('call', c.call, 'started_at is not a time PostgreSQL can store'));
      else {
        days.add(day);
        calls.push(c);
      }
    }
    for (const r of batch.runs) {
      const day = Partitions.day(String(r.started_at));
      if (day === null) unplaceable.push(park('run', r, 'started_at is not a time PostgreSQL can store'));
      else {
        days.add(day);
        runs.push(r);
      }
    }
    const rows = { ...batch, calls, runs, prices: this.newPrices(batch.prices) };
    // Outside the batch's transaction (see partitions.ts).
    await this.partitions.ensure(client, days);
    let result: ApplyResult;
    try {
      result = await this.transaction(client, rows, unplaceable, false);
    } catch (e) {
      if (isMissingPartition(e)) {
        // Pruned meanwhile: make it again, once.
        this.partitions.reset();
        await this.partitions.ensure(client, days);
        result = await this.transaction(client, rows, unplaceable, false);
      } else if (isRowError(e)) {
        // Some row is refused: the same batch row by row, the refused ones parked.
        result = await this.transaction(client, rows, unplaceable, true);
      } else throw e;
    }
    if (result.kind === 'done') for (const p of rows.prices) this.pricesSent.add(priceSentKey(p));
    return result;
  }

  private newPrices(prices: readonly Row[]): Row[] {
    const out = new Map<string, Row>();
    for (const p of prices) if (!this.pricesSent.has(priceSentKey(p))) out.set(String(p.price_key), p);
    // One order for every shipper: row locks on shared price rows are taken in key order.
    return [...out.values()].sort((a, b) => (String(a.price_key) < String(b.price_key) ? -1 : 1));
  }

  private async transaction(client: SqlClient, b: ShipBatch, parked: ParkedRow[], oneByOne: boolean): Promise<ApplyResult> {
    const w = this.writer;
    await client.query('BEGIN');
    try {
      const lock = await client.query('SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS got', [WRITER_LOCK, w.writerId]);
      if (!lock.rows[0]?.got) {
        await client.query('ROLLBACK');
        return { kind: 'busy' };
      }
      await client.query('INSERT INTO llm_otel_writers (writer_id, host, source) VALUES ($1, $2, $3) ON CONFLICT (writer_id) DO NOTHING', [
        w.writerId,
        cleanString(hostname()),
        cleanString(w.source),
      ]);
      if (b.from) {
        const stored = await storedWatermark(client, w);
        if (stored.callId !== b.from.callId || stored.runId !== b.from.runId || stored.ledgerSeq !== b.from.ledgerSeq) {
          await client.query('ROLLBACK');
          return { kind: 'moved', stored };
        }
      }
      const parkedNow = [...parked];
      const put = oneByOne
        ? (sql: string, spec: TableSpec, rows: Row[], kind: string) => this.oneByOne(client, sql, spec, rows, kind, parkedNow)
        : (sql: string, spec: TableSpec, rows: Row[]) => this.insert(client, sql, spec, rows);
      await put(SQL.prices, PRICES, b.prices, 'price');
      let inserted = 0;
      if (oneByOne) {
        // A call and its messages stand or fall together.
        for (const c of b.calls) {
          await client.query('SAVEPOINT one');
          try {
            inserted += await this.insert(client, SQL.calls, CALLS, [withWriter(c.call, w.writerId)]);
            await this.insert(client, SQL.messages, MESSAGES, c.messages);
            await client.query('RELEASE SAVEPOINT one');
          } catch (e) {
            if (!isRowError(e)) throw e;
            await client.query('ROLLBACK TO SAVEPOINT one');
            parkedNow.push(park('call', c.call, (e as Error).message));
          }
        }
      } else {
        inserted = await this.insert(
          client,
          SQL.calls,
          CALLS,
          b.calls.map((c) => withWriter(c.call, w.writerId)),
        );
        await this.insert(
          client,
          SQL.messages,
          MESSAGES,
          b.calls.flatMap((c) => c.messages),
        );
      }
      await put(
        SQL.runs,
        RUNS,
        b.runs.map((r) => withWriter(r, w.writerId)),
        'run',
      );
      await put(
        SQL.hourly,
        HOURLY,
        b.hourly.map((r) => withWriter(r, w.writerId)),
        'hourly',
      );
      await put(
        SQL.sessions,
        SESSIONS,
        b.sessions.map((r) => withWriter(r, w.writerId)),
        'session',
      );
      for (const p of parkedNow) {
        await client.query('INSERT INTO llm_otel_parked (writer_id, kind, span_id, error, row_json) VALUES ($1, $2, $3, $4, $5)', [
          w.writerId,
          p.kind,
          p.spanId === null ? null : cleanString(p.spanId),
          cleanString(p.error),
          cleanString(JSON.stringify((p as ParkedRow & { row?: unknown }).row ?? null)),
        ]);
      }
      await client.query(
        `UPDATE llm_otel_writers SET last_call_id = $2, last_run_id = $3, last_ledger_seq = $4,
           shipped_calls = shipped_calls + $5, dropped_calls = greatest(dropped_calls, $6),
           parked_rows = parked_rows + $7, last_seen = now()
         WHERE writer_id = $1`,
        [w.writerId, b.to.callId, b.to.runId, b.to.ledgerSeq, inserted, b.dropped, parkedNow.length],
      );
      await client.query('COMMIT');
      return { kind: 'done', inserted, parked: parkedNow };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  /** Inserts rows (in chunks); returns how many were new. */
  private async insert(client: SqlClient, sql: string, spec: TableSpec, rows: readonly Row[]): Promise<number> {
    let n = 0;
    for (let i = 0; i < rows.length; i += CHUNK) {
      const r = await client.query(sql, columnsOf(spec, rows.slice(i, i + CHUNK)));
      n += r.rowCount ?? 0;
    }
    return n;
  }

  private async oneByOne(
    client: SqlClient,
    sql: string,
    spec: TableSpec,
    rows: readonly Row[],
    kind: string,
    parked: ParkedRow[],
  ): Promise<void> {
    for (const row of rows) {
      await client.query('SAVEPOINT one');
      try {
        await client.query(sql, columnsOf(spec, [row]));
        await client.query('RELEASE SAVEPOINT one');
      } catch (e) {
        if (!isRowError(e)) throw e;
        await client.query('ROLLBACK TO SAVEPOINT one');
        parked.push(park(kind, row, (e as Error).message));
      }
    }
  }
}

function withWriter(r: Row, writerId: string): Row {
  return { ...r, writer_id: writerId };
}

function priceSentKey(p: Row): string {
  return `${String(p.price_key)}\u0000${String(p.valid_to ?? '')}`;
}

function park(kind: string, row: Row, error: string): ParkedRow & { row: Row } {
  const spanId = typeof row.span_id === 'string' ? row.span_id : typeof row.session_id === 'string' ? row.session_id : null;
  return { kind, spanId, error, row };
}
