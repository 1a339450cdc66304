// `llm-otel calls`: the most recent calls, newest first, filtered.

import type { Command } from 'commander';
import type { CallSummary } from '../query/types.js';
import { dbPath, openRead } from './call-log.js';
import { addCommon, type CommonOptions, callFilter } from './options.js';
import { clip, fmtCost, fmtInt, fmtMs, fmtTime, table, write, writeJson } from './output.js';

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
  cmd.action(async (o: CommonOptions) => {
    const db = await openRead(dbPath(o));
    try {
      const calls = (await db.listCalls(callFilter(o), { limit: o.limit ?? 50 })).rows;
      if (o.json) {
        writeJson({ calls });
        return;
      }
      write(calls.length ? callTable(calls) : 'no calls');
    } finally {
      await db.close();
    }
  });
}
