// `llm-otel session <session_id>`: what happened in one session — totals, then its calls and runs
// in order.

import type { Command } from 'commander';
import { costSummary, groupStats, round } from './aggregate.js';
import { dbPath, openRead } from './call-log.js';
import { CALL_SUMMARY_COLUMNS, type CallSummary, callTable } from './calls.js';
import { notFound, usage } from './errors.js';
import { addCommon, type CommonOptions, callFilters } from './options.js';
import { fmtCosts, fmtInt, fmtMs, fmtPct, fmtTime, table, write, writeJson } from './output.js';

export function registerSession(program: Command): void {
  const cmd = program.command('session').description('one session: totals, calls and runs in order').argument('<session_id>');
  addCommon(cmd, { limit: 500 });
  cmd.action((sessionId: string, o: CommonOptions) => {
    if (sessionId.trim() === '') throw usage('expected a session id');
    const db = openRead(dbPath(o));
    try {
      const f = callFilters({ ...o, session: sessionId });
      const limit = o.limit ?? 500;
      const calls = db
        .prepare(
          `SELECT ${CALL_SUMMARY_COLUMNS.map((c) => 'c.' + c).join(', ')} FROM llm_calls c WHERE ${f.sql} ORDER BY c.started_at, c.id LIMIT ?`,
        )
        .all(...f.params, limit) as CallSummary[];
      const runs = db
        .prepare(
          'SELECT id, span_id, trace_id, parent_call_id, kind, name, started_at, duration_ms, status, error_message FROM llm_runs WHERE session_id = ? ORDER BY started_at, id LIMIT ?',
        )
        .all(sessionId, limit) as Array<Record<string, unknown>>;
      if (calls.length === 0 && runs.length === 0) throw notFound(`no session ${JSON.stringify(sessionId)} in ${dbPath(o)}`);
      const [g] = groupStats(db, "''", f.sql, f.params);
      const { cost, currency } = g ? costSummary(g.costs) : { cost: null, currency: null };
      const span = db
        .prepare(`SELECT min(c.started_at) AS first, max(c.ended_at) AS last, count(DISTINCT c.trace_id) AS traces,
          group_concat(DISTINCT c.user_id) AS users, group_concat(DISTINCT c.agent_name) AS agents,
          group_concat(DISTINCT coalesce(c.response_model, c.request_model)) AS models
        FROM llm_calls c WHERE ${f.sql}`)
        .get(...f.params) as Record<string, string | number | null>;
      const summary = {
        session_id: sessionId,
        calls: g?.calls ?? 0,
        errors: g?.errors ?? 0,
        error_rate: g?.calls ? round(g.errors / g.calls, 6) : 0,
        input_tokens: g?.input_tokens ?? 0,
        output_tokens: g?.output_tokens ?? 0,
        cost,
        currency,
        cost_by_currency: Object.fromEntries(Object.entries(g?.costs ?? {}).map(([k, v]) => [k, round(v)])),
        p50_ms: g?.latency.q(0.5) ?? null,
        p95_ms: g?.latency.q(0.95) ?? null,
        first_at: span.first ?? null,
        last_at: span.last ?? null,
        traces: span.traces ?? 0,
        users: span.users ? String(span.users).split(',') : [],
        agents: span.agents ? String(span.agents).split(',') : [],
        models: span.models ? String(span.models).split(',') : [],
      };
      if (o.json) {
        writeJson({ session: summary, calls, runs });
        return;
      }
      write(
        `session ${sessionId}: ${fmtInt(summary.calls)} calls in ${summary.traces} trace${summary.traces === 1 ? '' : 's'}, ` +
          `${fmtPct(summary.error_rate)} errors, ${fmtInt(summary.input_tokens)} in / ${fmtInt(summary.output_tokens)} out tokens, ` +
          `cost ${fmtCosts(summary.cost_by_currency)}, p50 ${fmtMs(summary.p50_ms)}, p95 ${fmtMs(summary.p95_ms)}`,
      );
      write(
        `from ${fmtTime(summary.first_at as string | null)} to ${fmtTime(summary.last_at as string | null)} UTC; users: ${summary.users.join(', ') || '-'}; agents: ${summary.agents.join(', ') || '-'}; models: ${summary.models.join(', ') || '-'}`,
      );
      if (calls.length) write('\n' + callTable(calls));
      if (runs.length) {
        write('\nruns');
        write(
          table(
            ['id', 'started (UTC)', 'kind', 'name', 'duration', 'status', 'trace'],
            runs.map((r) => [
              String(r.id),
              fmtTime(r.started_at as string),
              String(r.kind),
              String(r.name ?? ''),
              fmtMs(r.duration_ms as number | null),
              String(r.status),
              String(r.trace_id),
            ]),
            ['right', 'left', 'left', 'left', 'right', 'left', 'left'],
          ),
        );
      }
      if (calls.length === limit) write(`(first ${limit} calls shown; --limit to see more)`);
    } finally {
      db.close();
    }
  });
}
