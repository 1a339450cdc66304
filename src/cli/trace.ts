// `llm-otel trace <trace_id>`: the trace as an indented tree of runs (agent/tool/workflow) and LLM
// calls, linked by parent_call_id (the nearest enclosing llm-otel span), with duration, tokens and
// cost per node. A run's tokens and cost are the totals of everything beneath it.

import type { Command } from 'commander';
import { buildTrace, type TraceNode } from '../query/trace.js';
import type { CallLogReader } from '../query/types.js';
import { dbPath, openRead } from './call-log.js';
import { notFound, usage } from './errors.js';
import { addCommon, type CommonOptions } from './options.js';
import { fmtCost, fmtCosts, fmtInt, fmtMs, table, write, writeJson } from './output.js';

/** Full trace id, or a unique prefix of at least 8 hex digits. */
export async function resolveTraceId(db: CallLogReader, v: string): Promise<string> {
  const s = v.trim().toLowerCase();
  if (!/^[0-9a-f]{8,32}$/.test(s))
    throw usage(`expected a trace id (32 hex digits, or a unique prefix of at least 8); got ${JSON.stringify(v)}`);
  if (s.length === 32) return s;
  const hits = await db.traceIdsByPrefix(s);
  if (hits.length === 0) throw notFound(`no trace starting with ${s}`);
  if (hits.length > 1) throw usage(`trace id prefix ${s} is ambiguous; give more digits`);
  return hits[0]!;
}

function flatten(nodes: TraceNode[], prefix: string, rows: string[][]): void {
  nodes.forEach((n, i) => {
    const last = i === nodes.length - 1;
    const label = n.kind === 'call' ? `${n.name}${n.model && !n.name.endsWith(n.model) ? ` → ${n.model}` : ''}` : `${n.kind} ${n.name}`;
    const status = n.status === 'ok' ? 'ok' : `${n.status}${n.error ? `: ${n.error}` : ''}`;
    rows.push([
      `${prefix}${last ? '└─ ' : '├─ '}${label}`,
      fmtMs(n.duration_ms),
      n.calls ? fmtInt(n.input_tokens) : '',
      n.calls ? fmtInt(n.output_tokens) : '',
      n.currency === 'mixed' ? 'mixed' : fmtCost(n.cost, n.currency),
      status.length > 60 ? status.slice(0, 59) + '…' : status,
    ]);
    flatten(n.children, prefix + (last ? '   ' : '│  '), rows);
  });
}

export function renderTrace(traceId: string, roots: TraceNode[]): string {
  const all: TraceNode[] = [];
  const walk = (ns: TraceNode[]): void => {
    for (const n of ns) {
      all.push(n);
      walk(n.children);
    }
  };
  walk(roots);
  const calls = all.filter((n) => n.kind === 'call');
  const costs: Record<string, number> = {};
  for (const c of calls) if (c.cost !== null) costs[c.currency ?? 'USD'] = (costs[c.currency ?? 'USD'] ?? 0) + c.cost;
  const start = Math.min(...all.map((n) => Date.parse(n.started_at)));
  const end = Math.max(...all.map((n) => Date.parse(n.started_at) + (n.duration_ms ?? 0)));
  const head =
    `trace ${traceId}: ${calls.length} call${calls.length === 1 ? '' : 's'}, ${all.length - calls.length} run${all.length - calls.length === 1 ? '' : 's'}, ${fmtMs(end - start)}, ` +
    `${fmtInt(calls.reduce((t, c) => t + c.input_tokens, 0))} in / ${fmtInt(calls.reduce((t, c) => t + c.output_tokens, 0))} out tokens, cost ${fmtCosts(costs)}`;
  const rows: string[][] = [];
  flatten(roots, '', rows);
  return (
    head +
    '\n' +
    table(['span', 'duration', 'in tok', 'out tok', 'cost', 'status'], rows, ['left', 'right', 'right', 'right', 'right', 'left'])
  );
}

export function registerTrace(program: Command): void {
  const cmd = program
    .command('trace')
    .description('a trace as a tree of runs and calls')
    .argument('<trace_id>', 'trace id (32 hex digits or a unique prefix of 8+)');
  addCommon(cmd, { filters: false, limit: false });
  cmd.action(async (id: string, o: CommonOptions) => {
    if (!/^[0-9a-f]{8,32}$/i.test(id.trim()))
      throw usage(`expected a trace id (32 hex digits, or a unique prefix of at least 8); got ${JSON.stringify(id)}`);
    const db = await openRead(dbPath(o));
    try {
      const traceId = await resolveTraceId(db, id);
      const roots = buildTrace(await db.traceRows(traceId));
      if (roots.length === 0) throw notFound(`no trace ${traceId} in ${db.name}`);
      if (o.json) {
        writeJson({ trace_id: traceId, roots });
        return;
      }
      write(renderTrace(traceId, roots));
    } finally {
      await db.close();
    }
  });
}
