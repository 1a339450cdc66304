// `llm-otel trace <trace_id>`: the trace as an indented tree of runs (agent/tool/workflow) and LLM
// calls, linked by parent_call_id (the nearest enclosing llm-otel span), with duration, tokens and
// cost per node. A run's tokens and cost are the totals of everything beneath it.

import type { Command } from 'commander';
import { type Db, dbPath, openRead } from './call-log.js';
import { notFound, usage } from './errors.js';
import { addCommon, type CommonOptions } from './options.js';
import { fmtCost, fmtCosts, fmtInt, fmtMs, table, write, writeJson } from './output.js';

export interface TraceNode {
  kind: 'call' | 'agent' | 'tool' | 'workflow';
  id: number;
  span_id: string;
  name: string;
  model: string | null;
  started_at: string;
  duration_ms: number | null;
  status: string;
  error: string | null;
  /** Own tokens for a call; totals of the subtree (the node included) for every node. */
  input_tokens: number;
  output_tokens: number;
  cost: number | null;
  currency: string | null;
  calls: number;
  children: TraceNode[];
}

/** Full trace id, or a unique prefix of at least 8 hex digits. */
export function resolveTraceId(db: Db, v: string): string {
  const s = v.trim().toLowerCase();
  if (!/^[0-9a-f]{8,32}$/.test(s))
    throw usage(`expected a trace id (32 hex digits, or a unique prefix of at least 8); got ${JSON.stringify(v)}`);
  if (s.length === 32) return s;
  const hits = db
    .prepare(`SELECT DISTINCT trace_id FROM (
      SELECT trace_id FROM llm_calls WHERE trace_id >= ? AND trace_id < ?
      UNION SELECT trace_id FROM llm_runs WHERE trace_id >= ? AND trace_id < ?) LIMIT 2`)
    .all(s, s + 'g', s, s + 'g') as { trace_id: string }[];
  if (hits.length === 0) throw notFound(`no trace starting with ${s}`);
  if (hits.length > 1) throw usage(`trace id prefix ${s} is ambiguous; give more digits`);
  return hits[0]!.trace_id;
}

interface CallR {
  id: number;
  span_id: string;
  parent_span_id: string | null;
  parent_call_id: string | null;
  operation: string;
  request_model: string | null;
  response_model: string | null;
  started_at: string;
  duration_ms: number | null;
  status: string;
  error_type: string | null;
  error_message: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost: number | null;
  currency: string | null;
}
interface RunR {
  id: number;
  span_id: string;
  parent_span_id: string | null;
  parent_call_id: string | null;
  kind: 'agent' | 'tool' | 'workflow';
  name: string | null;
  started_at: string;
  duration_ms: number | null;
  status: string;
  error_message: string | null;
}

export function buildTrace(db: Db, traceId: string): TraceNode[] {
  const calls = db
    .prepare(
      'SELECT id, span_id, parent_span_id, parent_call_id, operation, request_model, response_model, started_at, duration_ms, status, error_type, error_message, input_tokens, output_tokens, cost, currency FROM llm_calls WHERE trace_id = ?',
    )
    .all(traceId) as CallR[];
  const runs = db
    .prepare(
      'SELECT id, span_id, parent_span_id, parent_call_id, kind, name, started_at, duration_ms, status, error_message FROM llm_runs WHERE trace_id = ?',
    )
    .all(traceId) as RunR[];
  const nodes = new Map<string, TraceNode>();
  const parentOf = new Map<string, string | null>();
  for (const r of runs) {
    nodes.set(r.span_id, {
      kind: r.kind,
      id: r.id,
      span_id: r.span_id,
      name: r.name ?? r.kind,
      model: null,
      started_at: r.started_at,
      duration_ms: r.duration_ms,
      status: r.status,
      error: r.error_message,
      input_tokens: 0,
      output_tokens: 0,
      cost: null,
      currency: null,
      calls: 0,
      children: [],
    });
    parentOf.set(r.span_id, r.parent_call_id ?? r.parent_span_id);
  }
  for (const c of calls) {
    const model = c.response_model ?? c.request_model;
    nodes.set(c.span_id, {
      kind: 'call',
      id: c.id,
      span_id: c.span_id,
      name: `${c.operation} ${c.request_model ?? ''}`.trim(),
      model,
      started_at: c.started_at,
      duration_ms: c.duration_ms,
      status: c.status,
      error: c.status === 'ok' ? null : [c.error_type, c.error_message].filter(Boolean).join(': ') || null,
      input_tokens: c.input_tokens ?? 0,
      output_tokens: c.output_tokens ?? 0,
      cost: c.cost,
      currency: c.cost === null ? null : (c.currency ?? 'USD'),
      calls: 1,
      children: [],
    });
    parentOf.set(c.span_id, c.parent_call_id ?? c.parent_span_id);
  }
  const roots: TraceNode[] = [];
  for (const [id, node] of nodes) {
    const p = parentOf.get(id);
    const parent = p ? nodes.get(p) : undefined;
    if (parent && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  const byStart = (a: TraceNode, b: TraceNode): number => a.started_at.localeCompare(b.started_at) || a.id - b.id;
  const total = (n: TraceNode, depth: number): void => {
    n.children.sort(byStart);
    if (depth > 1000) return; // a cycle in bad data: stop rather than overflow
    for (const ch of n.children) {
      total(ch, depth + 1);
      n.input_tokens += ch.input_tokens;
      n.output_tokens += ch.output_tokens;
      n.calls += ch.calls;
      if (ch.cost !== null) {
        if (n.cost === null) {
          n.cost = ch.cost;
          n.currency = ch.currency;
        } else {
          n.cost += ch.cost;
          if (n.currency !== ch.currency) n.currency = 'mixed';
        }
      }
    }
    if (n.cost !== null) n.cost = Math.round(n.cost * 1e10) / 1e10;
  };
  roots.sort(byStart);
  for (const r of roots) total(r, 0);
  return roots;
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
  cmd.action((id: string, o: CommonOptions) => {
    if (!/^[0-9a-f]{8,32}$/i.test(id.trim()))
      throw usage(`expected a trace id (32 hex digits, or a unique prefix of at least 8); got ${JSON.stringify(id)}`);
    const db = openRead(dbPath(o));
    try {
      const traceId = resolveTraceId(db, id);
      const roots = buildTrace(db, traceId);
      if (roots.length === 0) throw notFound(`no trace ${traceId} in ${dbPath(o)}`);
      if (o.json) {
        writeJson({ trace_id: traceId, roots });
        return;
      }
      write(renderTrace(traceId, roots));
    } finally {
      db.close();
    }
  });
}
