// Pruning a SQLite call log (`llm-otel prune`): the deletes, counts and compaction. The ledgers
// (llm_usage_hourly, llm_usage_sessions) are never touched: they count every call ever observed.

import type { Db } from '../../../exporter/open.js';

export interface PruneCounts {
  deleted_calls: number;
  deleted_messages: number;
  deleted_runs: number;
}

const CHUNK = 5000;

/** Deletes calls started before `cutoff` (and their messages), then runs, in short transactions. */
export function deleteBefore(db: Db, cutoff: string, result: PruneCounts): void {
  const msgs = db.prepare('SELECT count(*) AS n FROM llm_messages WHERE call_id IN (SELECT id FROM llm_calls WHERE started_at < ?)');
  const delCalls = db.prepare('DELETE FROM llm_calls WHERE id IN (SELECT id FROM llm_calls WHERE started_at < ? LIMIT ?)');
  const delRuns = db.prepare('DELETE FROM llm_runs WHERE id IN (SELECT id FROM llm_runs WHERE started_at < ? LIMIT ?)');
  result.deleted_messages += (msgs.get(cutoff) as { n: number }).n;
  // Short transactions: an app writing to the same file waits at most one chunk.
  for (;;) {
    const n = db.transaction(() => delCalls.run(cutoff, CHUNK).changes).immediate();
    result.deleted_calls += n;
    if (n < CHUNK) break;
  }
  for (;;) {
    const n = db.transaction(() => delRuns.run(cutoff, CHUNK).changes).immediate();
    result.deleted_runs += n;
    if (n < CHUNK) break;
  }
}

export function countBefore(db: Db, cutoff: string, result: PruneCounts): void {
  result.deleted_calls = (db.prepare('SELECT count(*) AS n FROM llm_calls WHERE started_at < ?').get(cutoff) as { n: number }).n;
  result.deleted_messages = (
    db.prepare('SELECT count(*) AS n FROM llm_messages WHERE call_id IN (SELECT id FROM llm_calls WHERE started_at < ?)').get(cutoff) as {
      n: number;
    }
  ).n;
  result.deleted_runs = (db.prepare('SELECT count(*) AS n FROM llm_runs WHERE started_at < ?').get(cutoff) as { n: number }).n;
}

export function vacuum(db: Db): void {
  db.exec('VACUUM');
  db.pragma('wal_checkpoint(TRUNCATE)');
}

/** The start time below which calls must go so that about `excess` bytes are freed. */
export function cutoffForBytes(db: Db, excess: number): string | null {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  const used = (pages - free) * pageSize;
  const calls = (db.prepare('SELECT count(*) AS n FROM llm_calls').get() as { n: number }).n;
  if (calls === 0) return null;
  // Everything stored scales with calls closely enough; 10% extra so one round usually suffices.
  const perCall = used / calls;
  const k = Math.min(calls, Math.ceil((excess / perCall) * 1.1));
  const row = db.prepare('SELECT started_at FROM llm_calls ORDER BY started_at LIMIT 1 OFFSET ?').get(k - 1) as
    | { started_at: string }
    | undefined;
  if (!row) return null;
  // Strictly after the k-th oldest call, so that call goes too.
  return new Date(Date.parse(row.started_at) + 1).toISOString();
}
