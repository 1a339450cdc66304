// `llm-otel calls`: the most recent calls, newest first, filtered.

import type { Command } from 'commander';
import { type Db, dbPath, openRead } from './call-log.js';
import { addCommon, type CommonOptions, callFilters } from './options.js';
import { clip, fmtCost, fmtInt, fmtMs, fmtTime, table, write, writeJson } from './output.js';

/** Columns of a call in list output (`calls`, `session`, `tail`), in --json order. */
export const CALL_SUMMARY_COLUMNS = [
  'id',
  'span_id',
  'trace_id',
  'parent_call_id',
  'started_at',
  'duration_ms',
  'ttft_ms',
  'operation',
  'api',
  'provider',
  'request_model',
  'response_model',
  'stream',
  'status',
  'error_type',
  'error_message',
  'http_status',
  'retry_count',
  'session_id',
  'user_id',
  'agent_name',
  'input_tokens',
  'output_tokens',
  'cached_input_tokens',
  'reasoning_tokens',
  'usage_source',
  'cost',
  'currency',
] as const;

export type CallSummary = Record<(typeof CALL_SUMMARY_COLUMNS)[number], unknown> & { id: number };

export function selectCalls(db: Db, o: CommonOptions, limit: number, order: 'desc' | 'asc' = 'desc'): CallSummary[] {
  const f = callFilters(o);
  return db
    .prepare(
      `SELECT ${CALL_SUMMARY_COLUMNS.map((c) => 'c.' + c).join(', ')} FROM llm_calls c WHERE ${f.sql}
     ORDER BY c.started_at ${order}, c.id ${order} LIMIT ?`,
    )
    .all(...f.params, limit) as CallSummary[];
}

/** One table row of a call: shared by calls / session / tail. */
export function callCells(c: CallSummary): string[] {
  const model = String(c.response_model ?? c.request_model ?? '-');
  const status =
    c.status === 'ok' ? 'ok' : `${c.status}${c.error_type ? ` ${c.error_type}` : ''}${c.http_status ? ` ${c.http_status}` : ''}`;
  return [
    String(c.id),
    fmtTime(c.started_at as string),
    model.length > 28 ? clip(model, 28) : model,
    clip(status, 32),
    fmtMs(c.duration_ms as number | null),
    fmtInt(c.input_tokens as number | null),
    fmtInt(c.output_tokens as number | null),
    fmtCost(c.cost as number | null, c.currency as string | null),
    String(c.session_id ?? ''),
    String(c.user_id ?? ''),
    String(c.agent_name ?? ''),
  ];
}

export const CALL_HEAD = ['id', 'started (UTC)', 'model', 'status', 'duration', 'in tok', 'out tok', 'cost', 'session', 'user', 'agent'];
export const CALL_ALIGN = ['right', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'left', 'left', 'left'] as const;

export function callTable(calls: CallSummary[]): string {
  return table(CALL_HEAD, calls.map(callCells), [...CALL_ALIGN]);
}

export function registerCalls(program: Command): void {
  const cmd = program.command('calls').description('recent calls, newest first');
  addCommon(cmd, { limit: 50 });
  cmd.action((o: CommonOptions) => {
    const db = openRead(dbPath(o));
    try {
      const calls = selectCalls(db, o, o.limit ?? 50);
      if (o.json) {
        writeJson({ calls });
        return;
      }
      write(calls.length ? callTable(calls) : 'no calls');
    } finally {
      db.close();
    }
  });
}
