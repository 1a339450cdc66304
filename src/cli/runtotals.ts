// Totals over every call beneath some runs — what the llm_run_totals view computes, but seeded with
// just the runs asked for (the view walks every run of the DB before filtering).

import type { Db } from './call-log.js';

export interface RunTotals {
  calls: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cost: number | null;
  avg_duration_ms: number | null;
  models: string | null;
}

export function runTotals(db: Db, spanIds: readonly string[]): Map<string, RunTotals> {
  const out = new Map<string, RunTotals>();
  for (let i = 0; i < spanIds.length; i += 500) {
    const chunk = spanIds.slice(i, i + 500);
    const rows = db
      .prepare(`
      WITH RECURSIVE tree(root, span_id) AS (
        SELECT span_id, span_id FROM llm_runs WHERE span_id IN (${chunk.map(() => '?').join(',')})
        UNION
        SELECT tree.root, r.span_id FROM tree JOIN llm_runs r ON r.parent_call_id = tree.span_id
        UNION
        SELECT tree.root, c.span_id FROM tree JOIN llm_calls c ON c.parent_call_id = tree.span_id
      )
      SELECT t.root AS root, count(c.id) AS calls, coalesce(sum(c.status <> 'ok'), 0) AS errors,
        coalesce(sum(c.input_tokens), 0) AS input_tokens, coalesce(sum(c.output_tokens), 0) AS output_tokens,
        sum(c.cost) AS cost, avg(c.duration_ms) AS avg_duration_ms,
        group_concat(DISTINCT coalesce(c.response_model, c.request_model)) AS models
      FROM tree t LEFT JOIN llm_calls c ON c.span_id = t.span_id
      GROUP BY t.root`)
      .all(...chunk) as Array<RunTotals & { root: string }>;
    for (const r of rows) {
      const { root, ...t } = r;
      out.set(root, t);
    }
  }
  return out;
}
