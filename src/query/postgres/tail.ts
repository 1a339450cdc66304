// `tail` on a shared store. Row ids come from a sequence when rows are inserted, not when they
// commit: a shipper's transaction holding ids 10–20 can commit after another's holding 21–30, so
// "id > the last id shown" would skip 10–20 for good. Instead each row carries the id of the
// transaction that inserted it (ingest_xid), and a poll reads, in one snapshot:
//   - the horizon: pg_snapshot_xmin(pg_current_snapshot()), the oldest transaction still running;
//     every row of an older transaction is final (committed and visible, or never will be);
//   - every matching row inserted by a transaction at or after the previous horizon.
// Rows not shown before are shown; the cursor keeps the new horizon and the ids of the rows shown
// at or after it (the window still open), so a row is shown once and none is skipped. The window
// is small: it spans only the transactions running at the last poll.

import type pg from 'pg';
import { type CallFilter, type CallSummary, QueryError, type TailPage } from '../types.js';
import { SUMMARY } from './columns.js';
import { storeError } from './connect.js';
import { callWhere, Params } from './filters.js';
import type { PostgresReader } from './reader.js';

interface Cursor {
  /** The horizon (an xid8, as text). */
  h: string;
  /** Ids of matching rows already shown (or present at the start) with ingest_xid ≥ h. */
  seen: number[];
}

function encode(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}
function decode(s: string): Cursor {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Cursor;
    if (typeof v.h === 'string' && /^\d+$/.test(v.h) && Array.isArray(v.seen)) return v;
  } catch {
    /* below */
  }
  throw new QueryError('bad tail cursor');
}

/** Runs `fn` in one REPEATABLE READ, READ ONLY transaction: one snapshot for every statement. */
async function inSnapshot<T>(
  r: PostgresReader,
  fn: (q: (sql: string, v?: unknown[]) => Promise<Record<string, unknown>[]>) => Promise<T>,
): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await r.pool.connect();
  } catch (e) {
    throw storeError(r.name, e);
  }
  let broken = false;
  try {
    const q = async (sql: string, v: unknown[] = []): Promise<Record<string, unknown>[]> => (await client.query(sql, v)).rows;
    await q('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const out = await fn(q);
    await q('COMMIT');
    return out;
  } catch (e) {
    broken = true;
    await client.query('ROLLBACK').catch(() => {});
    if (e instanceof QueryError) throw e;
    throw storeError(r.name, e);
  } finally {
    client.release(broken);
  }
}

export async function tailStart(r: PostgresReader, filter: CallFilter, limit: number): Promise<TailPage> {
  return inSnapshot(r, async (q) => {
    const [s] = await q('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS h');
    const h = String(s!.h);
    const p = new Params();
    const f = callWhere(filter, p);
    const latest = (await q(
      `SELECT ${SUMMARY} FROM llm_calls c WHERE ${f} ORDER BY c.id DESC LIMIT ${p.add(limit)}`,
      p.values,
    )) as CallSummary[];
    const w = new Params();
    const open = await q(`SELECT c.id FROM llm_calls c WHERE c.ingest_xid >= ${w.add(h)}::xid8 AND ${callWhere(filter, w)}`, w.values);
    return { calls: latest.reverse(), cursor: encode({ h, seen: open.map((x) => Number(x.id)) }) };
  });
}

export async function tailNext(r: PostgresReader, filter: CallFilter, cursor: string): Promise<TailPage> {
  const c = decode(cursor);
  return inSnapshot(r, async (q) => {
    const [s] = await q('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS h');
    const h = String(s!.h);
    const p = new Params();
    const rows = (await q(
      `SELECT ${SUMMARY}, c.ingest_xid >= ${p.add(h)}::xid8 AS still_open FROM llm_calls c
       WHERE c.ingest_xid >= ${p.add(c.h)}::xid8 AND ${callWhere(filter, p)} ORDER BY c.id`,
      p.values,
    )) as Array<CallSummary & { still_open: boolean }>;
    const seen = new Set(c.seen);
    const calls: CallSummary[] = [];
    const open: number[] = [];
    for (const row of rows) {
      const { still_open, ...call } = row;
      if (!seen.has(call.id)) calls.push(call as CallSummary);
      if (still_open) open.push(call.id);
    }
    return { calls, cursor: encode({ h, seen: open }) };
  });
}
