// `llm-otel stats --by model|user|agent|session|provider|hour|day`: calls, error rate, tokens, cost,
// p50/p95 latency per group, over the calls stored in llm_calls (filters apply). `--rollup` reports
// from llm_usage_hourly instead: every call ever observed, including sampled-out and pruned ones
// (no quantiles there: average and max latency).

import { type Command, InvalidArgumentError, Option } from 'commander';
import { type CallLogReader, GROUP_BY, type GroupBy, type GroupStats, type RollupBy, type RollupGroup } from '../query/types.js';
import { costSummary, round } from './aggregate.js';
import { dbPath, openRead } from './call-log.js';
import { usage } from './errors.js';
import { addCommon, type CommonOptions, callFilter } from './options.js';
import { fmtCost, fmtCosts, fmtInt, fmtMs, fmtPct, table, write, writeJson } from './output.js';

export const STATS_BY = GROUP_BY;
type By = GroupBy;

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
    p50_ms: ms(lat.p50),
    p95_ms: ms(lat.p95),
    avg_ms: ms(lat.avg),
    max_ms: ms(lat.max),
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

/** `stats` over the stored calls (the demo prints it too). */
export async function statsFromCalls(db: CallLogReader, o: StatsOptions): Promise<StatsRow[]> {
  return sortRows((await db.groupStats(o.by, callFilter(o))).map(toRow), o.by);
}

function fromRollup(r: RollupGroup): StatsRow {
  const costs = Object.entries(r.costs);
  const by: Record<string, number> = {};
  for (const [c, v] of costs) by[c] = round(v);
  const { cost, currency } = costSummary(r.costs);
  return {
    key: r.key,
    calls: r.calls,
    errors: r.errors,
    error_rate: r.calls ? round(r.errors / r.calls, 6) : 0,
    input_tokens: r.input_tokens,
    output_tokens: r.output_tokens,
    cost,
    currency,
    cost_by_currency: by,
    priced_calls: null,
    p50_ms: null,
    p95_ms: null,
    avg_ms: r.calls ? ms(r.duration_ms_sum / r.calls) : null,
    max_ms: ms(r.duration_ms_max),
  };
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
  cmd.action(async (o: StatsOptions) => {
    if (o.rollup && o.by === 'session')
      throw usage('--rollup has no sessions (llm_usage_hourly is keyed by model, user, agent, provider and hour)');
    if (o.rollup && (o.session || o.status)) throw usage('--rollup cannot filter by --session or --status');
    const db = await openRead(dbPath(o));
    try {
      let rows = o.rollup
        ? sortRows((await db.rollupGroups(o.by as RollupBy, callFilter(o))).map(fromRollup), o.by)
        : await statsFromCalls(db, o);
      if (o.limit) rows = rows.slice(0, o.limit);
      if (o.json) {
        writeJson({ by: o.by, source: o.rollup ? 'llm_usage_hourly' : 'llm_calls', since: o.since ?? null, until: o.until ?? null, rows });
        return;
      }
      write(renderStats(rows, o.by, !!o.rollup));
    } finally {
      await db.close();
    }
  });
}
