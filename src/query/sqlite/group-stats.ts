// Grouped call statistics in ONE pass over the covering index llm_calls_stats, without a GROUP BY
// (which would sort every row: the slow part at 1M calls). A JS aggregate function keeps the groups
// in a Map and the latency quantiles per group (../quantiles.ts).

import type { Db } from '../../../exporter/open.js';
import { Quantiles, summarize } from '../quantiles.js';
import { sortedCosts } from '../rows.js';
import type { GroupStats } from '../types.js';

const FN = 'llm_otel_group_stats';

interface Acc {
  key: string | null;
  calls: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  priced: number;
  costs: Record<string, number>;
  latency: Quantiles;
}

/**
 * Runs `SELECT llm_otel_group_stats(key, failed, value, input, output, cost, currency) FROM …` and
 * returns the groups. `keyExpr` and `valueExpr` are SQL over llm_calls (alias c).
 */
export function groupStats(db: Db, keyExpr: string, where: string, params: unknown[], valueExpr = 'c.duration_ms'): GroupStats[] {
  let groups = new Map<string | null, Acc>();
  let last: Acc | undefined;
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
  // Currencies in a fixed order: every store lists a group's costs alike.
  return [...groups.values()].map((g) => ({ ...g, costs: sortedCosts(g.costs), latency: summarize(g.latency) }));
}
