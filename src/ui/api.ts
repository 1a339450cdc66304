// The dashboard's JSON API: one handler per view, each a few read-layer calls (../query). Handlers
// return plain objects; the server writes them. Every figure says where it comes from:
// `llm_usage_hourly` (every call observed, sampled-out ones too) or `llm_calls` (stored calls).

import { conversation } from '../query/conversation.js';
import { parseJsonColumns } from '../query/rows.js';
import { buildTrace, traceDetails } from '../query/trace.js';
import type { CallLogReader, RollupBy, Row } from '../query/types.js';
import { HttpError, oneOf, parseCallFilter, parseCursor, parseLimit, parseRunFilter, parseWindow, SPAN_ID, TRACE_ID } from './params.js';

type Handler = (reader: CallLogReader, q: URLSearchParams, arg: string | undefined) => Promise<unknown>;

const round = (x: number, d = 10): number => Math.round(x * 10 ** d) / 10 ** d;

function roundCosts(costs: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(costs).map(([k, v]) => [k, round(v)]));
}

async function overview(r: CallLogReader, q: URLSearchParams): Promise<unknown> {
  const window = parseWindow(q);
  const f = { since: window.since, until: window.until };
  const points = await r.usageSeries(f, window.bucketHours, 'model');
  // The totals are the sum of the series: one pass over the ledger, not two.
  const totals = { calls: 0, errors: 0, input_tokens: 0, output_tokens: 0, costs: {} as Record<string, number>, unpriced: 0 };
  for (const p of points) {
    totals.calls += p.calls;
    totals.errors += p.errors;
    totals.input_tokens += p.input_tokens;
    totals.output_tokens += p.output_tokens;
    if (p.cost !== null && p.currency) totals.costs[p.currency] = (totals.costs[p.currency] ?? 0) + p.cost;
    else totals.unpriced += p.calls;
  }
  return {
    window,
    totals: {
      source: 'llm_usage_hourly',
      calls: totals.calls,
      errors: totals.errors,
      error_rate: totals.calls ? round(totals.errors / totals.calls, 6) : 0,
      input_tokens: totals.input_tokens,
      output_tokens: totals.output_tokens,
      costs: roundCosts(totals.costs),
      unpriced_calls: totals.unpriced,
    },
    series: { source: 'llm_usage_hourly', bucket_hours: window.bucketHours, points },
  };
}

/** The overview's latency tiles: a scan of the stored calls, asked for separately so the rest paints first. */
async function overviewLatency(r: CallLogReader, q: URLSearchParams): Promise<unknown> {
  const window = parseWindow(q);
  const [stored] = await r.groupStats(null, { since: window.since, until: window.until });
  return {
    window,
    source: 'llm_calls',
    stored_calls: stored?.calls ?? 0,
    p50_ms: stored?.latency.p50 ?? null,
    p95_ms: stored?.latency.p95 ?? null,
  };
}

async function calls(r: CallLogReader, q: URLSearchParams): Promise<unknown> {
  const f = parseCallFilter(q);
  const page = await r.listCalls(f, { limit: parseLimit(q), after: parseCursor(q) });
  return { window: f.window, rows: page.rows, next: page.next };
}

async function call(r: CallLogReader, _q: URLSearchParams, spanId: string | undefined): Promise<unknown> {
  if (!spanId || !SPAN_ID.test(spanId)) throw new HttpError(400, 'expected a span id (16 lowercase hex digits)');
  const c = await r.getCall({ spanId });
  if (!c) throw new HttpError(404, `no call with span id ${spanId}`);
  const messages = await r.callMessages(Number(c.id));
  const price = (await r.callPrice(spanId)) ?? null;
  const parent =
    typeof c.parent_call_id === 'string'
      ? ((await r.getRun(c.parent_call_id)) ?? (await r.getCall({ spanId: c.parent_call_id })))
      : undefined;
  return {
    call: parseJsonColumns(c),
    messages: messages.map(parseJsonColumns),
    price,
    parent: parent ? { span_id: parent.span_id, kind: parent.kind ?? 'call', name: parent.name ?? parent.request_model ?? null } : null,
  };
}

async function trace(r: CallLogReader, _q: URLSearchParams, traceId: string | undefined): Promise<unknown> {
  if (!traceId || !TRACE_ID.test(traceId)) throw new HttpError(400, 'expected a trace id (32 lowercase hex digits)');
  const rows = await r.traceRows(traceId);
  if (rows.calls.length === 0 && rows.runs.length === 0) throw new HttpError(404, `no trace ${traceId}`);
  const sessions = [...new Set(rows.calls.map((c) => c.session_id).filter((s): s is string => typeof s === 'string'))];
  return {
    trace_id: traceId,
    roots: buildTrace(rows),
    details: Object.fromEntries(traceDetails(rows)),
    sessions,
  };
}

const BY = ['model', 'user', 'agent', 'provider'] as const;

async function cost(r: CallLogReader, q: URLSearchParams): Promise<unknown> {
  const window = parseWindow(q);
  const by = oneOf(q, 'by', BY, 'model');
  const groups = await r.rollupGroups(by as RollupBy, { since: window.since, until: window.until });
  groups.sort((a, b) => sumCosts(b.costs) - sumCosts(a.costs) || b.calls - a.calls || byKey(a, b));
  return {
    window,
    by,
    source: 'llm_usage_hourly',
    rows: groups.map((g) => ({
      key: g.key,
      calls: g.calls,
      input_tokens: g.input_tokens,
      output_tokens: g.output_tokens,
      costs: roundCosts(g.costs),
      unpriced_calls: g.unpriced,
    })),
  };
}

/** Ties broken by the key (none last), so every store lists groups in the same order. */
function byKey(a: { key: string | null }, b: { key: string | null }): number {
  return Number(a.key === null) - Number(b.key === null) || String(a.key).localeCompare(String(b.key));
}

function sumCosts(c: Record<string, number>): number {
  return Object.values(c).reduce((a, b) => a + b, 0);
}

async function latency(r: CallLogReader, q: URLSearchParams): Promise<unknown> {
  const window = parseWindow(q);
  const metric = oneOf(q, 'metric', ['duration', 'ttft'] as const, 'duration');
  const groups = await r.groupStats('model', { since: window.since, until: window.until }, metric);
  groups.sort((a, b) => b.calls - a.calls || byKey(a, b));
  return {
    window,
    metric,
    source: 'llm_calls',
    rows: groups.map((g) => ({ model: g.key, calls: g.calls, ...g.latency })),
  };
}

async function errors(r: CallLogReader, q: URLSearchParams): Promise<unknown> {
  const f = parseCallFilter(q);
  return { window: f.window, source: 'llm_calls', rows: await r.errorGroups(f, parseLimit(q, 100, 500)) };
}

async function sessions(r: CallLogReader, q: URLSearchParams): Promise<unknown> {
  const f = parseCallFilter(q);
  const page = await r.listSessions(f, { limit: parseLimit(q), after: parseCursor(q) });
  return {
    window: f.window,
    source: 'llm_usage_sessions',
    rows: page.rows.map((x) => ({ ...x, cost: x.cost === null ? null : round(x.cost) })),
    next: page.next,
  };
}

/** At most this many calls of a session are shown as a conversation. */
const SESSION_CALLS = 500;

async function session(r: CallLogReader, _q: URLSearchParams, id: string | undefined): Promise<unknown> {
  if (!id || id.length > 256) throw new HttpError(400, 'expected a session id (at most 256 characters)');
  const page = await r.listCalls({ session: id }, { limit: SESSION_CALLS, order: 'asc' });
  const ledger = await r.getSession(id);
  const runs = await r.sessionRuns(id, SESSION_CALLS);
  if (page.rows.length === 0 && runs.length === 0 && !ledger) throw new HttpError(404, `no session ${JSON.stringify(id)}`);
  const [stats] = await r.groupStats(null, { session: id });
  const msgs = await r.messagesOf(page.rows.map((c) => Number(c.id)));
  return {
    session_id: id,
    totals: ledger ? { ...ledger, cost: ledger.cost === null ? null : round(ledger.cost) } : null,
    stored: stats ? { calls: stats.calls, errors: stats.errors, costs: roundCosts(stats.costs), p50_ms: stats.latency.p50 } : null,
    truncated: page.next !== null,
    turns: conversation(page.rows as Row[], msgs).map((t) => ({ ...t, messages: t.messages.map(parseJsonColumns) })),
    runs,
  };
}

async function runs(r: CallLogReader, q: URLSearchParams): Promise<unknown> {
  const f = parseRunFilter(q);
  const page = await r.listRuns(f, { limit: parseLimit(q), after: parseCursor(q) });
  const totals = await r.runTotals(page.rows.map((x) => x.span_id));
  return { window: f.window, rows: page.rows.map((x) => ({ ...x, totals: totals.get(x.span_id) ?? null })), next: page.next };
}

async function users(r: CallLogReader, q: URLSearchParams): Promise<unknown> {
  const window = parseWindow(q);
  const groups = await r.rollupGroups('user', { since: window.since, until: window.until });
  groups.sort((a, b) => b.calls - a.calls || byKey(a, b));
  return {
    window,
    source: 'llm_usage_hourly',
    rows: groups.map((g) => ({
      user_id: g.key,
      calls: g.calls,
      errors: g.errors,
      success_rate: g.calls ? round(1 - g.errors / g.calls, 6) : null,
      input_tokens: g.input_tokens,
      output_tokens: g.output_tokens,
      costs: roundCosts(g.costs),
    })),
  };
}

async function facets(r: CallLogReader, q: URLSearchParams): Promise<unknown> {
  const window = parseWindow(q);
  return r.facets({ since: window.since, until: window.until });
}

async function version(r: CallLogReader): Promise<unknown> {
  return { data_version: await r.dataVersion() };
}

/** `/api/<name>` and `/api/<name>/<arg>` → handler. */
export const API: Record<string, { handler: Handler; arg: 'none' | 'required' }> = {
  version: { handler: version, arg: 'none' },
  overview: { handler: overview, arg: 'none' },
  'overview-latency': { handler: overviewLatency, arg: 'none' },
  calls: { handler: calls, arg: 'none' },
  call: { handler: call, arg: 'required' },
  trace: { handler: trace, arg: 'required' },
  cost: { handler: cost, arg: 'none' },
  latency: { handler: latency, arg: 'none' },
  errors: { handler: errors, arg: 'none' },
  sessions: { handler: sessions, arg: 'none' },
  session: { handler: session, arg: 'required' },
  runs: { handler: runs, arg: 'none' },
  users: { handler: users, arg: 'none' },
  facets: { handler: facets, arg: 'none' },
};
