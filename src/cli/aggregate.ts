// Grouped call statistics in ONE pass over the covering index llm_calls_stats, without a GROUP BY
// (which would sort every row: the slow part at 1M calls). A JS aggregate function keeps the groups
// in a Map and latency quantiles per group: exact while a group holds up to EXACT_MAX durations,
// then a log-bucket histogram (0.5% wide: reported quantiles are within 0.25% of the exact value).

import type { Db } from './call-log.js';

const EXACT_MAX = 20_000;
const STEP = Math.log(1.005);
const SUB_MS = 100; // below 1 ms: buckets of 0.01 ms

function bucketOf(v: number): number {
  if (v < 1) return Math.max(0, Math.floor(v * SUB_MS));
  return SUB_MS + Math.floor(Math.log(v) / STEP);
}
function bucketValue(b: number): number {
  if (b < SUB_MS) return (b + 0.5) / SUB_MS;
  return Math.exp((b - SUB_MS + 0.5) * STEP);
}

export class Quantiles {
  n = 0;
  sum = 0;
  max = -Infinity;
  min = Infinity;
  private exact: number[] | null = [];
  private sorted = false;
  private hist: Map<number, number> | null = null;

  add(v: number): void {
    this.n++;
    this.sum += v;
    if (v > this.max) this.max = v;
    if (v < this.min) this.min = v;
    if (this.exact) {
      this.exact.push(v);
      this.sorted = false;
      if (this.exact.length > EXACT_MAX) {
        this.hist = new Map();
        for (const x of this.exact) this.bump(x);
        this.exact = null;
      }
    } else this.bump(v);
  }

  private bump(v: number): void {
    const b = bucketOf(v);
    this.hist!.set(b, (this.hist!.get(b) ?? 0) + 1);
  }

  /** Nearest-rank quantile (p in 0..1); null when empty. */
  q(p: number): number | null {
    if (this.n === 0) return null;
    const rank = Math.min(this.n, Math.max(1, Math.ceil(p * this.n)));
    if (this.exact) {
      if (!this.sorted) {
        this.exact.sort((a, b) => a - b);
        this.sorted = true;
      }
      return this.exact[rank - 1]!;
    }
    const keys = [...this.hist!.keys()].sort((a, b) => a - b);
    let seen = 0;
    for (const k of keys) {
      seen += this.hist!.get(k)!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, bucketValue(k)));
    }
    return this.max;
  }

  get avg(): number | null {
    return this.n === 0 ? null : this.sum / this.n;
  }
}

export interface GroupStats {
  key: string | null;
  calls: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  /** Calls that have a cost (priced). */
  priced: number;
  costs: Record<string, number>;
  latency: Quantiles;
}

const FN = 'llm_otel_group_stats';

/**
 * Runs `SELECT llm_otel_group_stats(key, status, duration, input, output, cost, currency) FROM …`
 * and returns the groups. `keyExpr` and `valueExpr` are SQL over llm_calls columns.
 */
export function groupStats(db: Db, keyExpr: string, where: string, params: unknown[], valueExpr = 'duration_ms'): GroupStats[] {
  let groups = new Map<string | null, GroupStats>();
  let last: GroupStats | undefined;
  db.aggregate(FN, {
    start: () => {
      groups = new Map();
      last = undefined;
      return 0;
    },
    // Fixed parameters (no rest array) and the error flag computed in SQL: this runs once per call.
    step: ((
      acc: number,
      key: unknown,
      failed: unknown,
      duration: unknown,
      input: unknown,
      output: unknown,
      cost: unknown,
      currency: unknown,
    ): number => {
      const k = key === null || key === undefined ? null : typeof key === 'string' ? key : String(key);
      // Rows arrive in index order, so consecutive rows often share a group: skip the Map lookup.
      let g = last !== undefined && last.key === k ? last : groups.get(k);
      if (g === undefined) {
        g = { key: k, calls: 0, errors: 0, input_tokens: 0, output_tokens: 0, priced: 0, costs: {}, latency: new Quantiles() };
        groups.set(k, g);
      }
      last = g;
      g.calls++;
      if (failed) g.errors++;
      if (typeof input === 'number') g.input_tokens += input;
      else if (typeof input === 'bigint') g.input_tokens += Number(input);
      if (typeof output === 'number') g.output_tokens += output;
      else if (typeof output === 'bigint') g.output_tokens += Number(output);
      if (typeof cost === 'number') {
        g.priced++;
        const cur = typeof currency === 'string' && currency !== '' ? currency : 'USD';
        g.costs[cur] = (g.costs[cur] ?? 0) + cost;
      }
      if (typeof duration === 'number') g.latency.add(duration);
      return acc;
    }) as unknown as (total: number, next: number) => number, // typings know one argument only
    result: () => 0,
  });
  db.prepare(
    `SELECT ${FN}(${keyExpr}, c.status <> 'ok', ${valueExpr}, c.input_tokens, c.output_tokens, c.cost, c.currency) FROM llm_calls c WHERE ${where}`,
  ).get(...params);
  return [...groups.values()];
}

/** Single-currency total, or null; 'mixed' currency when several. */
export function costSummary(costs: Record<string, number>): { cost: number | null; currency: string | null } {
  const entries = Object.entries(costs);
  if (entries.length === 0) return { cost: null, currency: null };
  if (entries.length === 1) return { cost: round(entries[0]![1]), currency: entries[0]![0] };
  return { cost: null, currency: 'mixed' };
}

export function round(x: number, digits = 10): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
