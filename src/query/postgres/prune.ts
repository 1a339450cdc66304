// Pruning a fleet call log (`llm-otel prune --db postgres://…`): the same meaning as on SQLite —
// calls started before the cutoff go with their messages, runs started before it go, and the
// ledgers (llm_usage_hourly, llm_usage_sessions) are never touched — but whole days go as whole
// partitions (DROP TABLE: no dead rows, no vacuum), and only the day the cutoff falls inside is
// deleted from row by row.

import type pg from 'pg';
import { PARTITIONED_TABLES } from '../../fleet/schema.js';
import { createPool, pgErrorText } from './connect.js';
import { redactUrl } from './url.js';

export interface PgPruneOptions {
  olderThan?: string;
  /** Drop the oldest days until the event tables take at most this many bytes. */
  maxSize?: number;
  dryRun?: boolean;
  vacuum?: boolean;
}

export interface PgPruneResult {
  dry_run: boolean;
  cutoff: string | null;
  deleted_calls: number;
  deleted_messages: number;
  deleted_runs: number;
  /** Partitions dropped (or that would be), oldest first. */
  dropped_partitions: string[];
  bytes_before: number;
  bytes_after: number;
  vacuumed: boolean;
}

interface Part {
  table: (typeof PARTITIONED_TABLES)[number];
  name: string;
  /** The UTC day it holds, [from, to), as ISO times. */
  from: string;
  to: string;
}

const DAY_MS = 86_400_000;

/** The day partitions of the event tables, by their names (<table>_pYYYYMMDD), oldest first. */
async function dayPartitions(c: pg.PoolClient): Promise<Part[]> {
  const { rows } = await c.query(
    `SELECT p.relname AS parent, k.relname AS name FROM pg_inherits i
       JOIN pg_class p ON p.oid = i.inhparent JOIN pg_class k ON k.oid = i.inhrelid
       JOIN pg_namespace n ON n.oid = p.relnamespace
     WHERE p.relname = ANY($1::text[]) AND n.nspname = current_schema()`,
    [PARTITIONED_TABLES],
  );
  const out: Part[] = [];
  for (const r of rows as Array<{ parent: Part['table']; name: string }>) {
    const m = new RegExp(`^${r.parent}_p(\\d{4})(\\d{2})(\\d{2})$`).exec(r.name);
    if (!m) continue;
    const from = Date.parse(`${m[1]}-${m[2]}-${m[3]}T00:00:00.000Z`);
    if (Number.isNaN(from)) continue;
    out.push({ table: r.parent, name: r.name, from: new Date(from).toISOString(), to: new Date(from + DAY_MS).toISOString() });
  }
  return out.sort((a, b) => a.from.localeCompare(b.from) || a.name.localeCompare(b.name));
}

async function eventBytes(c: pg.PoolClient): Promise<number> {
  const { rows } = await c.query(
    `SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0) AS b FROM pg_inherits i
       JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace
     WHERE p.relname = ANY($1::text[]) AND n.nspname = current_schema()`,
    [PARTITIONED_TABLES],
  );
  return Number(rows[0]?.b ?? 0);
}

const quote = (ident: string): string => `"${ident.replace(/"/g, '""')}"`;

/** Rows started before the cutoff (a message carries its call's start time). */
async function count(c: pg.PoolClient, cutoff: string): Promise<[number, number, number]> {
  const n = async (t: string): Promise<number> =>
    Number((await c.query(`SELECT count(*) AS n FROM ${t} WHERE started_at < $1::timestamptz`, [cutoff])).rows[0]?.n ?? 0);
  return [await n('llm_calls'), await n('llm_messages'), await n('llm_runs')];
}

/** Prunes the fleet call log at `url`; throws with a one-line message on failure. */
export async function prunePostgres(url: string, o: PgPruneOptions): Promise<PgPruneResult> {
  const name = redactUrl(url);
  const pool = createPool(url, { max: 1, readOnly: false, applicationName: 'llm-otel prune' });
  let c: pg.PoolClient;
  try {
    c = await pool.connect();
  } catch (e) {
    await pool.end().catch(() => {});
    throw new Error(`cannot prune ${name}: ${pgErrorText(e)}`);
  }
  const result: PgPruneResult = {
    dry_run: !!o.dryRun,
    cutoff: null,
    deleted_calls: 0,
    deleted_messages: 0,
    deleted_runs: 0,
    dropped_partitions: [],
    bytes_before: 0,
    bytes_after: 0,
    vacuumed: false,
  };
  try {
    const present = await c.query("SELECT to_regclass('llm_otel_schema') IS NOT NULL AS p");
    if (!present.rows[0]?.p) throw new Error(`no llm-otel tables at ${name}`);
    // Waiting for a shipper's insert to finish is fine; waiting behind a long report is not.
    await c.query("SET lock_timeout = '10s'");
    result.bytes_before = await eventBytes(c);
    let cutoff = o.olderThan ?? null;
    if (o.maxSize !== undefined) {
      // Whole days, oldest first, until what is left fits.
      const parts = await dayPartitions(c);
      const sizes = new Map<string, number>();
      for (const p of parts) {
        const b = Number((await c.query('SELECT pg_total_relation_size($1::regclass) AS b', [quote(p.name)])).rows[0]?.b ?? 0);
        sizes.set(p.from, (sizes.get(p.from) ?? 0) + b);
      }
      let left = result.bytes_before;
      for (const [day, b] of [...sizes].sort((a, b) => a[0].localeCompare(b[0]))) {
        if (left <= o.maxSize) break;
        left -= b;
        const end = new Date(Date.parse(day) + DAY_MS).toISOString();
        if (!cutoff || end > cutoff) cutoff = end;
      }
    }
    result.cutoff = cutoff;
    if (cutoff) {
      [result.deleted_calls, result.deleted_messages, result.deleted_runs] = await count(c, cutoff);
      const whole = (await dayPartitions(c)).filter((p) => p.to <= cutoff!);
      result.dropped_partitions = whole.map((p) => p.name);
      if (!o.dryRun) {
        // One short transaction per partition: a shipper inserting meanwhile waits for one DROP.
        for (const p of whole) {
          await c.query('BEGIN');
          try {
            await c.query(`DROP TABLE IF EXISTS ${quote(p.name)}`);
            await c.query('COMMIT');
          } catch (e) {
            await c.query('ROLLBACK').catch(() => {});
            throw e;
          }
        }
        // The day the cutoff falls inside (and any partition not named by day), row by row.
        for (const t of ['llm_messages', 'llm_calls', 'llm_runs']) {
          await c.query(`DELETE FROM ${t} WHERE started_at < $1::timestamptz`, [cutoff]);
        }
        if (o.vacuum || o.maxSize !== undefined) {
          for (const t of ['llm_messages', 'llm_calls', 'llm_runs']) await c.query(`VACUUM ${t}`);
          result.vacuumed = true;
        }
      }
    } else if (o.vacuum && !o.dryRun) {
      for (const t of ['llm_messages', 'llm_calls', 'llm_runs']) await c.query(`VACUUM ${t}`);
      result.vacuumed = true;
    }
    result.bytes_after = o.dryRun ? result.bytes_before : await eventBytes(c);
    return result;
  } catch (e) {
    throw new Error(`cannot prune ${name}: ${pgErrorText(e)}`);
  } finally {
    c.release();
    await pool.end().catch(() => {});
  }
}
