// `llm-otel session <session_id>`: what happened in one session — totals, then its calls and runs
// in order.

import type { Command } from 'commander';
import { costSummary, round } from './aggregate.js';
import { dbPath, openRead } from './call-log.js';
import { callTable } from './calls.js';
import { notFound, usage } from './errors.js';
import { addCommon, type CommonOptions, callFilter } from './options.js';
import { fmtCosts, fmtInt, fmtMs, fmtPct, fmtTime, table, write, writeJson } from './output.js';

export function registerSession(program: Command): void {
  const cmd = program.command('session').description('one session: totals, calls and runs in order').argument('<session_id>');
  addCommon(cmd, { limit: 500 });
  cmd.action(async (sessionId: string, o: CommonOptions) => {
    if (sessionId.trim() === '') throw usage('expected a session id');
    const db = await openRead(dbPath(o));
    try {
      const f = callFilter({ ...o, session: sessionId });
      const limit = o.limit ?? 500;
      const calls = (await db.listCalls(f, { limit, order: 'asc' })).rows;
      const runs = await db.sessionRuns(sessionId, limit);
      if (calls.length === 0 && runs.length === 0) throw notFound(`no session ${JSON.stringify(sessionId)} in ${db.name}`);
      const [g] = await db.groupStats(null, f);
      const { cost, currency } = g ? costSummary(g.costs) : { cost: null, currency: null };
      const span = await db.sessionSpan(f);
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
        p50_ms: g?.latency.p50 ?? null,
        p95_ms: g?.latency.p95 ?? null,
        first_at: span.first_at,
        last_at: span.last_at,
        traces: span.traces,
        users: span.users,
        agents: span.agents,
        models: span.models,
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
      await db.close();
    }
  });
}
