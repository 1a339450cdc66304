// `llm-otel prune --older-than 30d | --max-size 500MB`: deletes the oldest calls (their messages go
// with them: ON DELETE CASCADE) and runs.
//
// llm_usage_hourly is NOT changed: it is the ledger of every call ever observed (it also counts
// calls that sampling kept out of llm_calls), so `stats --rollup` still reports pruned periods,
// while `stats` (which reads llm_calls) reports the calls that are still stored.
// On PostgreSQL (`--db postgres://…`) whole days go as whole partitions (query/postgres/prune.ts).

import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import { countBefore, cutoffForBytes, deleteBefore, vacuum } from '../query/sqlite/prune.js';
import { dbPath, displayName, isFleet, openWrite } from './call-log.js';
import { usage } from './errors.js';
import { dbOption, parseSize, parseTime } from './options.js';
import { fmtInt, write, writeJson } from './output.js';

interface PruneOptions {
  db?: string;
  olderThan?: string;
  maxSize?: number;
  dryRun?: boolean;
  vacuum?: boolean;
  json?: boolean;
}

export interface PruneResult {
  dry_run: boolean;
  cutoff: string | null;
  deleted_calls: number;
  deleted_messages: number;
  deleted_runs: number;
  bytes_before: number;
  bytes_after: number;
  vacuumed: boolean;
}

function fileBytes(path: string): number {
  let n = 0;
  for (const f of [path, path + '-wal']) {
    try {
      n += statSync(f).size;
    } catch {
      /* absent */
    }
  }
  return n;
}

export function prune(path: string, o: PruneOptions): PruneResult {
  const db = openWrite(path);
  const result: PruneResult = {
    dry_run: !!o.dryRun,
    cutoff: null,
    deleted_calls: 0,
    deleted_messages: 0,
    deleted_runs: 0,
    bytes_before: fileBytes(path),
    bytes_after: 0,
    vacuumed: false,
  };
  try {
    if (o.olderThan) {
      result.cutoff = o.olderThan;
      if (o.dryRun) countBefore(db, o.olderThan, result);
      else deleteBefore(db, o.olderThan, result);
    }
    if (o.maxSize !== undefined) {
      if (!o.dryRun && result.deleted_calls > 0) {
        vacuum(db);
        result.vacuumed = true;
      }
      for (let round = 0; round < 5; round++) {
        const size = o.dryRun ? result.bytes_before : fileBytes(path);
        if (size <= o.maxSize) break;
        const cutoff = cutoffForBytes(db, size - o.maxSize);
        if (cutoff === null) break;
        if (!result.cutoff || cutoff > result.cutoff) result.cutoff = cutoff;
        if (o.dryRun) {
          countBefore(db, result.cutoff, result);
          break;
        }
        deleteBefore(db, cutoff, result);
        vacuum(db);
        result.vacuumed = true;
      }
    } else if (o.vacuum && !o.dryRun) {
      vacuum(db);
      result.vacuumed = true;
    }
  } finally {
    db.close();
  }
  result.bytes_after = o.dryRun ? result.bytes_before : fileBytes(path);
  return result;
}

export function registerPrune(program: Command): void {
  const cmd = program
    .command('prune')
    .description('delete old calls (with their messages) and runs; llm_usage_hourly is kept')
    .addOption(
      new Option('--older-than <when>', 'delete calls started before this: 30d, 12h or an ISO date').argParser((v: string) => parseTime(v)),
    )
    .addOption(
      new Option(
        '--max-size <size>',
        'delete the oldest calls until the file is at most this big (e.g. 500MB); compacts the file',
      ).argParser(parseSize),
    )
    .option('--vacuum', 'compact the file afterwards (always done with --max-size)')
    .option('--dry-run', 'only count what would be deleted')
    .option('--json', 'machine-readable JSON output');
  dbOption(cmd);
  cmd.action(async (o: PruneOptions) => {
    if (!o.olderThan && o.maxSize === undefined) throw usage('prune: give --older-than <duration|date> and/or --max-size <size>');
    const path = dbPath(o);
    if (isFleet(path)) {
      const { prunePostgres } = await import('../query/postgres/prune.js');
      const r = await prunePostgres(path, o);
      if (o.json) {
        writeJson(r);
        return;
      }
      const verb = r.dry_run ? 'would delete' : 'deleted';
      const days = r.dropped_partitions.length;
      write(
        `${verb} ${fmtInt(r.deleted_calls)} calls, ${fmtInt(r.deleted_messages)} messages, ${fmtInt(r.deleted_runs)} runs` +
          `${r.cutoff ? ` started before ${r.cutoff}` : ''} in ${displayName(path)}` +
          ` (${days} day partition${days === 1 ? '' : 's'} ${r.dry_run ? 'to drop' : 'dropped'}); event tables ${mb(r.bytes_before)} → ${mb(r.bytes_after)}` +
          `${r.vacuumed ? ' (vacuumed)' : ''}; llm_usage_hourly kept (see \`stats --rollup\`)`,
      );
      return;
    }
    const r = prune(path, o);
    if (o.json) {
      writeJson(r);
      return;
    }
    const verb = r.dry_run ? 'would delete' : 'deleted';
    write(
      `${verb} ${fmtInt(r.deleted_calls)} calls, ${fmtInt(r.deleted_messages)} messages, ${fmtInt(r.deleted_runs)} runs` +
        `${r.cutoff ? ` started before ${r.cutoff}` : ''}; file ${mb(r.bytes_before)} → ${mb(r.bytes_after)}${r.vacuumed ? ' (compacted)' : ''}` +
        `; llm_usage_hourly kept (see \`stats --rollup\`)`,
    );
  });
}

function mb(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(0)} kB`;
}
