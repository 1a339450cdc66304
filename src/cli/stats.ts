// `llm-otel stats --by model|user|agent|session|provider|hour|day`: calls, error rate, tokens, cost,
// p50/p95 latency per group, over the calls stored in llm_calls (filters apply). `--rollup` reports
// from llm_usage_hourly instead: every call ever observed, including sampled-out and pruned ones
// (no quantiles there: average and max latency).

import { type Command, InvalidArgumentError, Option } from 'commander';
import { costSummary, type GroupStats, groupStats, round } from './aggregate.js';
import { type Db, dbPath, openRead } from './call-log.js';
import { usage } from './errors.js';
import { addCommon, type CommonOptions, callFilters } from './options.js';
import { fmtCost, fmtCosts, fmtInt, fmtMs, fmtPct, table, write, writeJson } from './output.js';

export const STATS_BY = ['model', 'user', 'agent', 'session', 'provider', 'hour', 'day'] as const;
type By = (typeof STATS_BY)[number];

/** Group key expressions over llm_calls; every column is in the covering index llm_calls_stats. */
const KEY: Record<By, string> = {
  model: 'c.request_model',
  user: 'c.user_id',
  agent: 'c.agent_name',
  session: 'c.session_id',
  provider: 'c.provider',
  hour: "substr(c.started_at, 1, 13) || ':00'",
  day: 'substr(c.started_at, 1, 10)',
};

/** The same groups in llm_usage_hourly (no session there). */
const ROLLUP_KEY: Record<Exclude<By, 'session'>, string> = {
  model: 'model',
  user: 'user_id',
  agent: 'agent_name',
  provider: 'provider',
  hour: "substr(hour, 1, 13) || ':00'",
  day: 'substr(hour, 1, 10)',
};

function parseBy(v: string): By {
  const s = v.trim().toLowerCase();
  if (!(STATS_BY as readonly string[]).includes(s))
    throw new InvalidArgumentError(`expected one of ${STATS_BY.join(', ')}; got ${JSON.stringify(v)}`);
  return s as By;
}

interface StatsOptions extends CommonOptions {
  by: By;
  rollup?: boolean;
}

export interface StatsRow {
  key: string | null;
  calls: number;
  errors: number;
  error_rate: number;
  input_tokens: number;
  output_tokens: number;
  cost: number | null;
  currency: string | null;
  cost_by_currency: Record<string, number>;
  priced_calls: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  avg_ms: number | null;
  max_ms: number | null;
}

function toRow(g: GroupStats): StatsRow {
  const { cost, currency } = costSummary(g.costs);
  const by: Record<string, number> = {};
  for (const [c, v] of Object.entries(g.costs)) by[c] = round(v);
  const lat = g.latency;
  return {
    key: g.key,
    calls: g.calls,
    errors: g.errors,
    error_rate: g.calls ? round(g.errors / g.calls, 6) : 0,
    input_tokens: g.input_tokens,
    output_tokens: g.output_tokens,
    cost,
    currency,
    cost_by_currency: by,
    priced_calls: g.priced,
    p50_ms: ms(lat.q(0.5)),
    p95_ms: ms(lat.q(0.95)),
    avg_ms: ms(lat.avg),
    max_ms: lat.n ? ms(lat.max) : null,
  };
}

function ms(v: number | null): number | null {
  return v === null ? null : Math.round(v * 1000) / 1000;
}

function sortRows(rows: StatsRow[], by: By): StatsRow[] {
  if (by === 'hour' || by === 'day') return rows.sort((a, b) => String(a.key).localeCompare(String(b.key)));
  // Most calls first; "(none)" after named groups with as many calls.
  return rows.sort(
    (a, b) => b.calls - a.calls || Number(a.key === null) - Number(b.key === null) || String(a.key).localeCompare(String(b.key)),
  );
}

export function statsFromCalls(db: Db, o: StatsOptions): StatsRow[] {
  const f = callFilters(o);
  return sortRows(groupStats(db, KEY[o.by], f.sql, f.params).map(toRow), o.by);
}

function statsFromRollup(db: Db, o: StatsOptions): StatsRow[] {
  const by = o.by as Exclude<By, 'session'>;
  const where: string[] = [];
  const params: unknown[] = [];
  // Rollup rows are whole hours: a bound inside an hour includes that hour.
  if (o.since) {
    where.push('hour >= ?');
    params.push(o.since.slice(0, 13) + ':00:00.000Z');
  }
  if (o.until) {
    where.push('hour < ?');
    params.push(o.until);
  }
  if (o.user) {
    where.push('user_id = ?');
    params.push(o.user);
  }
  if (o.agent) {
    where.push('agent_name = ?');
    params.push(o.agent);
  }
  if (o.model) {
    where.push(o.model.includes('*') ? 'model GLOB ?' : 'model = ?');
    params.push(o.model);
  }
  const rows = db
    .prepare(
      `SELECT ${ROLLUP_KEY[by]} AS key, sum(calls) AS calls, sum(errors) AS errors, sum(input_tokens) AS input_tokens,
       sum(output_tokens) AS output_tokens, sum(cost) AS cost, sum(duration_ms_sum) AS dsum, max(duration_ms_max) AS dmax
     FROM llm_usage_hourly ${where.length ? 'WHERE ' + where.join(' AND ') : ''} GROUP BY 1`,
    )
    .all(...params) as Array<{
    key: string;
    calls: number;
    errors: number;
    input_tokens: number;
    output_tokens: number;
    cost: number | null;
    dsum: number;
    dmax: number;
  }>;
  return sortRows(
    rows.map((r) => ({
      // '' is how the rollup stores "none"
      key: r.key === '' ? null : r.key,
      calls: r.calls,
      errors: r.errors,
      error_rate: r.calls ? round(r.errors / r.calls, 6) : 0,
      input_tokens: r.input_tokens,
      output_tokens: r.output_tokens,
      cost: r.cost === null ? null : round(r.cost),
      currency: r.cost === null ? null : 'USD',
      cost_by_currency: (r.cost === null ? {} : { USD: round(r.cost) }) as Record<string, number>,
      priced_calls: null,
      p50_ms: null,
      p95_ms: null,
      avg_ms: r.calls ? ms(r.dsum / r.calls) : null,
      max_ms: ms(r.dmax),
    })),
    o.by,
  );
}

/** The human table of `stats`, with a total line. */
export function renderStats(rows: StatsRow[], by: string, rollup = false): string {
  if (rows.length === 0) return 'no calls';
  const mixed = rows.some((r) => r.currency === 'mixed');
  const total = rows.reduce(
    (t, r) => {
      t.calls += r.calls;
      t.errors += r.errors;
      t.in += r.input_tokens;
      t.out += r.output_tokens;
      for (const [c, v] of Object.entries(r.cost_by_currency)) t.costs[c] = (t.costs[c] ?? 0) + v;
      return t;
    },
    { calls: 0, errors: 0, in: 0, out: 0, costs: {} as Record<string, number> },
  );
  const lat = rollup ? ['avg', 'max'] : ['p50', 'p95'];
  const body = rows.map((r) => [
    r.key ?? '(none)',
    fmtInt(r.calls),
    fmtPct(r.error_rate),
    fmtInt(r.input_tokens),
    fmtInt(r.output_tokens),
    mixed ? fmtCosts(r.cost_by_currency) : fmtCost(r.cost, r.currency),
    fmtMs(rollup ? r.avg_ms : r.p50_ms),
    fmtMs(rollup ? r.max_ms : r.p95_ms),
  ]);
  if (rows.length > 1)
    body.push([
      'total',
      fmtInt(total.calls),
      fmtPct(total.calls ? total.errors / total.calls : 0),
      fmtInt(total.in),
      fmtInt(total.out),
      fmtCosts(total.costs),
      '',
      '',
    ]);
  return table([by, 'calls', 'errors', 'input tok', 'output tok', 'cost', lat[0]!, lat[1]!], body, [
    'left',
    'right',
    'right',
    'right',
    'right',
    'right',
    'right',
    'right',
  ]);
}

export function registerStats(program: Command): void {
  const cmd = program
    .command('stats')
    .description('calls, error rate, tokens, cost and latency, grouped')
    .addOption(new Option('--by <dimension>', `group by ${STATS_BY.join('|')}`).argParser(parseBy).default('model'))
    .option(
      '--rollup',
      'report from llm_usage_hourly: all calls ever observed, including sampled-out and pruned ones (hour precision, no quantiles)',
    );
  addCommon(cmd, { limit: undefined });
  cmd.action((o: StatsOptions) => {
    if (o.rollup && o.by === 'session')
      throw usage('--rollup has no sessions (llm_usage_hourly is keyed by model, user, agent, provider and hour)');
    if (o.rollup && (o.session || o.status)) throw usage('--rollup cannot filter by --session or --status');
    const db = openRead(dbPath(o));
    try {
      let rows = o.rollup ? statsFromRollup(db, o) : statsFromCalls(db, o);
      if (o.limit) rows = rows.slice(0, o.limit);
      if (o.json) {
        writeJson({ by: o.by, source: o.rollup ? 'llm_usage_hourly' : 'llm_calls', since: o.since ?? null, until: o.until ?? null, rows });
        return;
      }
      write(renderStats(rows, o.by, !!o.rollup));
    } finally {
      db.close();
    }
  });
}
