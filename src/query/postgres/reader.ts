// The PostgreSQL read layer: every query the CLI and the dashboard run against a fleet call log,
// one method each, giving exactly what the SQLite store (../sqlite/reader.ts) gives for the same
// calls (the contract: ../types.ts). The pool's sessions are read-only (connect.ts); rows relate
// by span ids, and the ids shown are PostgreSQL's own identity values.

import type pg from 'pg';
import { MESSAGE_COLUMNS } from '../../../exporter/rows.js';
import { bucketSql, EXACT_MAX, histogramValue } from '../quantiles.js';
import { comparePriceRows, PRICE_COLUMNS, roundSum, STORED_CALL_COLUMNS, STORED_RUN_COLUMNS, sortedCosts } from '../rows.js';
import {
  type CallFilter,
  type CallLogReader,
  type CallRef,
  type CallSummary,
  type ErrorGroup,
  type ExportTable,
  type Facets,
  type GroupBy,
  type GroupStats,
  type Page,
  type PageOptions,
  QueryError,
  type RollupBy,
  type RollupGroup,
  type Row,
  type RowStream,
  type RunFilter,
  type RunTotals,
  type SessionRow,
  type SessionSpan,
  type TailPage,
  type TraceRows,
  type UsagePoint,
  type UserQueryResult,
} from '../types.js';
import { SUMMARY, selectList } from './columns.js';
import { extended, storeError } from './connect.js';
import { callWhere, Params, rollupWhere, runWhere } from './filters.js';
import { tailNext, tailStart } from './tail.js';
import { userQuery } from './user-query.js';

const CALL_KEY: Record<GroupBy, string> = {
  model: 'c.request_model',
  user: 'c.user_id',
  agent: 'c.agent_name',
  session: 'c.session_id',
  provider: 'c.provider',
  hour: `to_char(c.started_at, 'YYYY-MM-DD"T"HH24') || ':00'`,
  day: `to_char(c.started_at, 'YYYY-MM-DD')`,
};

const ROLLUP_KEY: Record<RollupBy, string> = {
  model: 'model',
  user: 'user_id',
  agent: 'agent_name',
  provider: 'provider',
  hour: `to_char(hour, 'YYYY-MM-DD"T"HH24') || ':00'`,
  day: `to_char(hour, 'YYYY-MM-DD')`,
};

/** Messages join their call on the span id and the start time (the partition key of both). */
const MESSAGES_OF_CALL = 'llm_messages m ON m.call_span_id = c.span_id AND m.started_at = c.started_at';

const BATCH = 256;

const SESSION_COLUMNS = 'session_id, first_at, last_at, calls, errors, input_tokens, output_tokens, cost, currency, user_id, agent_name';

function encodeCursor(at: unknown, id: unknown): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}
function decodeCursor(s: string): [string, string | number] {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && (Number.isSafeInteger(v[1]) || typeof v[1] === 'string'))
      return [v[0], v[1] as string | number];
  } catch {
    /* below */
  }
  throw new QueryError('bad page cursor (pass back the `next` value of the previous page)');
}

export class PostgresReader implements CallLogReader {
  constructor(
    readonly pool: pg.Pool,
    /** The URL without its password. */
    readonly name: string,
  ) {}

  /** One statement; a failure names the database and says why in one line. */
  async q<T extends Row = Row>(sql: string, values: unknown[] = []): Promise<T[]> {
    try {
      return (await this.pool.query(sql, values)).rows as T[];
    } catch (e) {
      if (e instanceof QueryError) throw e;
      throw storeError(this.name, e);
    }
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => {});
  }

  async dataVersion(): Promise<number> {
    // Every shipped batch updates its writer's row in llm_otel_writers in the same transaction
    // (so that row's xmin changes with each batch); the table statistics count what prune or
    // anything else inserted, updated or deleted. Two cheap reads, no scan of the event tables.
    const [r] = await this.q<{ w: string | number; s: string | number }>(
      `SELECT (SELECT coalesce(sum(xmin::text::bigint), 0) + count(*) FROM llm_otel_writers) AS w,
              (SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables
                WHERE relname LIKE 'llm\\_%' OR relname = 'model_prices') AS s`,
    );
    const v = (BigInt(r?.w ?? 0) * 1_000_003n + BigInt(r?.s ?? 0)) % 2_147_483_647n;
    return Number(v);
  }

  private async keysetPage<T extends Row>(
    select: string,
    from: string,
    where: string,
    p: Params,
    at: string,
    id: string,
    page: PageOptions,
    atIsTime = true,
  ): Promise<Page<T>> {
    const order = page.order === 'asc' ? 'ASC' : 'DESC';
    const cmp = order === 'ASC' ? '>' : '<';
    let cond = where;
    if (page.after) {
      const [a, i] = decodeCursor(page.after);
      cond += ` AND (${at}, ${id}) ${cmp} (${p.add(a)}${atIsTime ? '::timestamptz' : ''}, ${p.add(i)})`;
    }
    const rows = await this.q<T>(
      `SELECT ${select} FROM ${from} WHERE ${cond} ORDER BY ${at} ${order}, ${id} ${order} LIMIT ${p.add(page.limit + 1)}`,
      p.values,
    );
    const more = rows.length > page.limit;
    if (more) rows.length = page.limit;
    const last = rows[rows.length - 1];
    const col = (x: string): string => x.replace(/^\w+\./, '').replace(/ COLLATE .*$/, '');
    return { rows, next: more && last ? encodeCursor(last[col(at)], last[col(id)]) : null };
  }

  // ── calls ──────────────────────────────────────────────────────────────────────────────────────

  async listCalls(filter: CallFilter, page: PageOptions): Promise<Page<CallSummary>> {
    const p = new Params();
    return this.keysetPage<CallSummary>(SUMMARY, 'llm_calls c', callWhere(filter, p), p, 'c.started_at', 'c.id', page);
  }

  async getCall(ref: CallRef): Promise<Row | undefined> {
    const [row] =
      'id' in ref
        ? await this.q(`SELECT ${selectList(STORED_CALL_COLUMNS)} FROM llm_calls WHERE id = $1 LIMIT 1`, [ref.id])
        : await this.q(`SELECT ${selectList(STORED_CALL_COLUMNS)} FROM llm_calls WHERE span_id = $1 LIMIT 1`, [ref.spanId]);
    return row;
  }

  async callMessages(callId: number): Promise<Row[]> {
    return this.q(
      `SELECT ${selectList(MESSAGE_COLUMNS, 'm')} FROM llm_calls c JOIN ${MESSAGES_OF_CALL}
       WHERE c.id = $1 ORDER BY m.direction = 'output', m.position`,
      [callId],
    );
  }

  async messagesOf(callIds: readonly number[]): Promise<Map<number, Row[]>> {
    const out = new Map<number, Row[]>();
    for (let i = 0; i < callIds.length; i += 500) {
      const rows = await this.q(
        `SELECT c.id AS call_id, ${selectList(MESSAGE_COLUMNS, 'm')} FROM llm_calls c JOIN ${MESSAGES_OF_CALL}
         WHERE c.id = ANY($1::bigint[]) ORDER BY c.id, m.direction = 'output', m.position`,
        [callIds.slice(i, i + 500)],
      );
      for (const r of rows) {
        const id = Number(r.call_id);
        let list = out.get(id);
        if (!list) out.set(id, (list = []));
        list.push(r);
      }
    }
    return out;
  }

  async callPrice(spanId: string): Promise<Row | undefined> {
    const [row] = await this.q(
      `SELECT ${PRICE_COLUMNS.map((c) => 'p.' + c).join(', ')} FROM llm_calls c JOIN model_prices p ON p.price_key = c.price_key
       WHERE c.span_id = $1 LIMIT 1`,
      [spanId],
    );
    return row;
  }

  async priceRows(): Promise<Row[]> {
    return (await this.q(`SELECT ${PRICE_COLUMNS.join(', ')} FROM model_prices`)).sort(comparePriceRows);
  }

  async tailStart(filter: CallFilter, limit: number): Promise<TailPage> {
    return tailStart(this, filter, limit);
  }

  async tailNext(filter: CallFilter, cursor: string): Promise<TailPage> {
    return tailNext(this, filter, cursor);
  }

  // ── aggregates ─────────────────────────────────────────────────────────────────────────────────

  async groupStats(by: GroupBy | null, filter: CallFilter, metric: 'duration' | 'ttft' = 'duration'): Promise<GroupStats[]> {
    const p = new Params();
    const f = callWhere(filter, p);
    const where = metric === 'ttft' ? `${f} AND c.ttft_ms IS NOT NULL` : f;
    const key = by ? CALL_KEY[by] : "''::text";
    const value = metric === 'ttft' ? 'c.ttft_ms' : 'c.duration_ms';
    // Nearest-rank percentiles (percentile_disc), as the SQLite store computes them: exact up to
    // EXACT_MAX values a group, beyond that the rank's bucket of the same log histogram (quantiles.ts),
    // so both stores print the same figures.
    const groups = await this.q<{
      key: string | null;
      calls: number;
      errors: number;
      input_tokens: number;
      output_tokens: number;
      n: number;
      avg: number | null;
      max: number | null;
      min: number | null;
      q: string | null;
      qb: string | null;
    }>(
      `SELECT ${key} AS key, count(*) AS calls, count(*) FILTER (WHERE c.status <> 'ok') AS errors,
         coalesce(sum(c.input_tokens), 0) AS input_tokens, coalesce(sum(c.output_tokens), 0) AS output_tokens,
         count(${value}) AS n, avg(${value}) AS avg, max(${value}) AS max, min(${value}) AS min,
         percentile_disc(ARRAY[0.5, 0.9, 0.95, 0.99]::float8[]) WITHIN GROUP (ORDER BY ${value})::text AS q,
         CASE WHEN count(${value}) > ${EXACT_MAX} THEN
           percentile_disc(ARRAY[0.5, 0.9, 0.95, 0.99]::float8[]) WITHIN GROUP (ORDER BY ${bucketSql(value)})::text END AS qb
       FROM llm_calls c WHERE ${where} GROUP BY 1 ORDER BY (${key}) COLLATE "C" NULLS FIRST`,
      p.values,
    );
    const costs = await this.q<{ key: string | null; cur: string; cost: number; priced: number }>(
      `SELECT ${key} AS key, coalesce(nullif(c.currency, ''), 'USD') AS cur, sum(c.cost) AS cost, count(*) AS priced
       FROM llm_calls c WHERE ${where} AND c.cost IS NOT NULL GROUP BY 1, 2`,
      p.values,
    );
    const byKey = new Map<string | null, GroupStats>();
    for (const g of groups) {
      const list = (t: string): number[] => t.replace(/[{}]/g, '').split(',').map(Number);
      const qs: Array<number | null> = g.qb
        ? list(g.qb).map((b) => histogramValue(b, g.min!, g.max!))
        : g.q
          ? list(g.q)
          : [null, null, null, null];
      byKey.set(g.key, {
        key: g.key,
        calls: g.calls,
        errors: g.errors,
        input_tokens: g.input_tokens,
        output_tokens: g.output_tokens,
        priced: 0,
        costs: {},
        latency: {
          n: g.n,
          avg: roundSum(g.avg),
          max: g.max,
          p50: qs[0] ?? null,
          p90: qs[1] ?? null,
          p95: qs[2] ?? null,
          p99: qs[3] ?? null,
        },
      });
    }
    for (const c of costs) {
      const g = byKey.get(c.key);
      if (!g) continue;
      g.priced += c.priced;
      g.costs[c.cur] = (g.costs[c.cur] ?? 0) + c.cost;
    }
    return [...byKey.values()].map((g) => ({ ...g, costs: sortedCosts(g.costs) }));
  }

  private refuseForRollup(filter: CallFilter): void {
    if (filter.session || filter.status || filter.trace || filter.errorText)
      throw new QueryError('the hourly totals (llm_usage_hourly) cannot be filtered by session, status, trace or error text');
  }

  async rollupGroups(by: RollupBy | null, filter: CallFilter): Promise<RollupGroup[]> {
    this.refuseForRollup(filter);
    const p = new Params();
    const w = rollupWhere(filter, p);
    const rkey = by ? ROLLUP_KEY[by] : "''::text";
    // The ledger holds one partial row per writer: summing over them is the fleet's total.
    const rows = await this.q<{
      key: string;
      currency: string;
      calls: number;
      errors: number;
      input_tokens: number;
      output_tokens: number;
      cost: number | null;
      dsum: number;
      dmax: number | null;
    }>(
      `SELECT ${rkey} AS key, currency, sum(calls) AS calls, sum(errors) AS errors,
         sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cost) AS cost,
         sum(duration_ms_sum) AS dsum, max(duration_ms_max) AS dmax
       FROM llm_usage_hourly WHERE ${w} GROUP BY 1, 2 ORDER BY (${rkey}) COLLATE "C", currency COLLATE "C"`,
      p.values,
    );
    const groups = new Map<string, RollupGroup>();
    for (const r of rows) {
      let g = groups.get(r.key);
      if (!g) {
        g = {
          key: r.key === '' ? null : r.key,
          calls: 0,
          errors: 0,
          input_tokens: 0,
          output_tokens: 0,
          costs: {},
          unpriced: 0,
          duration_ms_sum: 0,
          duration_ms_max: null,
        };
        groups.set(r.key, g);
      }
      g.calls += r.calls;
      g.errors += r.errors;
      g.input_tokens += r.input_tokens;
      g.output_tokens += r.output_tokens;
      if (r.cost !== null && r.currency !== '') g.costs[r.currency] = (g.costs[r.currency] ?? 0) + r.cost;
      else g.unpriced += r.calls;
      g.duration_ms_sum += r.dsum;
      if (r.dmax !== null && (g.duration_ms_max === null || r.dmax > g.duration_ms_max)) g.duration_ms_max = r.dmax;
    }
    return [...groups.values()].map((g) => ({ ...g, costs: sortedCosts(g.costs), duration_ms_sum: roundSum(g.duration_ms_sum) }));
  }

  async usageSeries(filter: CallFilter, bucketHours: 1 | 24, by: RollupBy | null): Promise<UsagePoint[]> {
    this.refuseForRollup(filter);
    const p = new Params();
    const w = rollupWhere(filter, p);
    const bucket = bucketHours === 24 ? "date_trunc('day', hour)" : 'hour';
    const key = by ? `nullif(${ROLLUP_KEY[by]}, '')` : 'NULL::text';
    const rows = await this.q<UsagePoint & Row>(
      `SELECT ${bucket} AS bucket, ${key} AS key, nullif(currency, '') AS currency,
         sum(calls) AS calls, sum(errors) AS errors, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cost) AS cost
       FROM llm_usage_hourly WHERE ${w} GROUP BY 1, 2, 3
       ORDER BY 1, (${key}) COLLATE "C" NULLS FIRST, nullif(currency, '') COLLATE "C" NULLS FIRST`,
      p.values,
    );
    return rows.map((r) => ({ ...r, cost: roundSum(r.cost) }));
  }

  async facets(filter: CallFilter): Promise<Facets> {
    const p = new Params();
    const w = rollupWhere({ since: filter.since, until: filter.until }, p);
    const rows = await this.q<{ model: string; provider: string; agent_name: string; user_id: string }>(
      `SELECT DISTINCT model, provider, agent_name, user_id FROM llm_usage_hourly WHERE ${w}`,
      p.values,
    );
    const sets = [new Set<string>(), new Set<string>(), new Set<string>(), new Set<string>()];
    for (const r of rows) {
      const v = [r.model, r.provider, r.agent_name, r.user_id];
      for (let i = 0; i < 4; i++) if (v[i]) sets[i]!.add(v[i]!);
    }
    const list = (s: Set<string>): string[] => [...s].sort().slice(0, 500);
    return { models: list(sets[0]!), providers: list(sets[1]!), agents: list(sets[2]!), users: list(sets[3]!) };
  }

  async errorGroups(filter: CallFilter, limit: number): Promise<ErrorGroup[]> {
    const p = new Params();
    const f = callWhere({ ...filter, status: filter.status ?? 'failed' }, p);
    return this.q<ErrorGroup & Row>(
      `SELECT g.error_type, g.model, g.status, g.calls, g.first_at, g.last_at, e.span_id AS example, e.error_message AS message
       FROM (SELECT c.error_type AS error_type, c.request_model AS model, c.status AS status, count(*) AS calls,
               min(c.started_at) AS first_at, max(c.started_at) AS last_at, max(c.id) AS last_id
             FROM llm_calls c WHERE ${f} AND c.status <> 'ok' GROUP BY 1, 2, 3) g
       JOIN llm_calls e ON e.id = g.last_id
       ORDER BY g.calls DESC, g.last_at DESC LIMIT ${p.add(limit)}`,
      p.values,
    );
  }

  // ── runs ───────────────────────────────────────────────────────────────────────────────────────

  async listRuns(filter: RunFilter, page: PageOptions): Promise<Page<Row & { span_id: string }>> {
    const p = new Params();
    return this.keysetPage<Row & { span_id: string }>(
      `id, span_id, trace_id, parent_call_id, kind, name, session_id, user_id, agent_name, tool_call_id,
          started_at, ended_at, duration_ms, status, error_message`,
      'llm_runs',
      runWhere(filter, p),
      p,
      'started_at',
      'id',
      page,
    );
  }

  async getRun(spanId: string): Promise<Row | undefined> {
    const [row] = await this.q(`SELECT ${selectList(STORED_RUN_COLUMNS)} FROM llm_runs WHERE span_id = $1 LIMIT 1`, [spanId]);
    return row;
  }

  async runTotals(spanIds: readonly string[]): Promise<Map<string, RunTotals>> {
    const out = new Map<string, RunTotals>();
    for (let i = 0; i < spanIds.length; i += 500) {
      // Every call beneath each run, through nested runs and through calls that enclose runs
      // (parent_call_id), as SQLite's llm_run_totals view walks them.
      const rows = await this.q<RunTotals & { span_id: string } & Row>(
        `WITH RECURSIVE tree(root, span_id) AS (
           SELECT span_id, span_id FROM llm_runs WHERE span_id = ANY($1::text[])
           UNION
           SELECT t.root, k.span_id FROM tree t
             JOIN (SELECT span_id, parent_call_id FROM llm_runs UNION ALL SELECT span_id, parent_call_id FROM llm_calls) k
             ON k.parent_call_id = t.span_id
         )
         SELECT t.root AS span_id, count(c.span_id) AS calls, count(c.span_id) FILTER (WHERE c.status <> 'ok') AS errors,
           coalesce(sum(c.input_tokens), 0) AS input_tokens, coalesce(sum(c.output_tokens), 0) AS output_tokens,
           sum(c.cost) AS cost, avg(c.duration_ms) AS avg_duration_ms,
           string_agg(DISTINCT (coalesce(c.response_model, c.request_model) COLLATE "C"), ','
             ORDER BY (coalesce(c.response_model, c.request_model) COLLATE "C")) AS models
         FROM tree t LEFT JOIN llm_calls c ON c.span_id = t.span_id
         GROUP BY t.root`,
        [spanIds.slice(i, i + 500)],
      );
      for (const r of rows) {
        const { span_id, ...t } = r;
        out.set(span_id, { ...t, cost: roundSum(t.cost), avg_duration_ms: roundSum(t.avg_duration_ms) });
      }
    }
    return out;
  }

  // ── traces and sessions ────────────────────────────────────────────────────────────────────────

  async traceIdsByPrefix(prefix: string): Promise<string[]> {
    const s = prefix.toLowerCase();
    const rows = await this.q<{ trace_id: string }>(
      `SELECT DISTINCT trace_id FROM (
         SELECT trace_id FROM llm_calls WHERE trace_id >= $1 AND trace_id < $2 AND starts_with(trace_id, $1)
         UNION SELECT trace_id FROM llm_runs WHERE trace_id >= $1 AND trace_id < $2 AND starts_with(trace_id, $1)) t LIMIT 2`,
      [s, s + 'g'],
    );
    return rows.map((r) => r.trace_id);
  }

  async traceRows(traceId: string): Promise<TraceRows> {
    const calls = await this.q(
      `SELECT id, span_id, parent_span_id, parent_call_id, session_id, operation, request_model, response_model, started_at, duration_ms,
       ttft_ms, stream::int AS stream, status, error_type, error_message, input_tokens, output_tokens, cost, currency
       FROM llm_calls WHERE trace_id = $1 ORDER BY started_at, id`,
      [traceId],
    );
    const runs = await this.q(
      `SELECT id, span_id, parent_span_id, parent_call_id, kind, name, tool_call_id, started_at, duration_ms, status, error_message
       FROM llm_runs WHERE trace_id = $1 ORDER BY started_at, id`,
      [traceId],
    );
    const toolCalls = await this.q<{ call_id: number; tool_calls: string }>(
      `SELECT c.id AS call_id, m.tool_calls AS tool_calls FROM llm_calls c JOIN ${MESSAGES_OF_CALL}
       WHERE c.trace_id = $1 AND m.direction = 'output' AND m.tool_calls IS NOT NULL ORDER BY c.id, m.position`,
      [traceId],
    );
    return { calls, runs, toolCalls };
  }

  async sessionRuns(sessionId: string, limit: number): Promise<Row[]> {
    return this.q(
      `SELECT id, span_id, trace_id, parent_call_id, kind, name, started_at, duration_ms, status, error_message
       FROM llm_runs WHERE session_id = $1 ORDER BY started_at, id LIMIT $2`,
      [sessionId, limit],
    );
  }

  async sessionSpan(filter: CallFilter): Promise<SessionSpan> {
    const p = new Params();
    const f = callWhere(filter, p);
    const [span] = await this.q<{ first: string | null; last: string | null; traces: number }>(
      `SELECT min(c.started_at) AS first, max(c.ended_at) AS last, count(DISTINCT c.trace_id) AS traces FROM llm_calls c WHERE ${f}`,
      p.values,
    );
    // Each list in order of first appearance (time, then id), as the SQLite store gives it.
    const list = async (expr: string): Promise<string[]> =>
      (
        await this.q<{ v: string }>(
          `SELECT v FROM (SELECT ${expr} AS v, min(c.started_at) AS t, min(c.id) AS i FROM llm_calls c
           WHERE ${f} AND ${expr} IS NOT NULL GROUP BY 1) s ORDER BY t, i`,
          p.values,
        )
      ).map((r) => String(r.v));
    return {
      first_at: span?.first ?? null,
      last_at: span?.last ?? null,
      traces: Number(span?.traces ?? 0),
      users: await list('c.user_id'),
      agents: await list('c.agent_name'),
      models: await list('coalesce(c.response_model, c.request_model)'),
    };
  }

  async listSessions(filter: CallFilter, page: PageOptions): Promise<Page<SessionRow>> {
    const p = new Params();
    const where: string[] = [];
    if (filter.since) where.push(`last_at >= ${p.add(filter.since)}::timestamptz`);
    if (filter.until) where.push(`first_at < ${p.add(filter.until)}::timestamptz`);
    if (filter.user) where.push(`user_id = ${p.add(filter.user)}`);
    if (filter.agent) where.push(`agent_name = ${p.add(filter.agent)}`);
    // One session: the view's grouping key, which PostgreSQL pushes into the view (one index probe).
    if (filter.session) {
      where.push(`session_id = ${p.add(filter.session)}`);
      return this.keysetPage<Row & SessionRow>(
        SESSION_COLUMNS,
        'llm_usage_sessions_total',
        where.join(' AND '),
        p,
        'last_at',
        'session_id COLLATE "C"',
        page,
      );
    }
    return this.sessionsInWindows(where, p, filter.since ?? null, page);
  }

  /**
   * A page of sessions without merging every session's ledger rows. A session's last_at is the
   * max over its writers' rows, so a window [lo, hi] of per-writer rows (the last_at index) holds
   * a row of every session whose last_at falls in it; merging just those sessions and keeping the
   * ones whose merged last_at is in the window gives exactly the sessions of that window. The
   * window starts where the page starts (the cursor) and reaches k rows further; when it holds
   * more than a page, nothing outside it can come first. Otherwise it widens (k × 8) until it
   * does or reaches the end, so a filter that keeps few sessions costs at most a few full passes.
   */
  private async sessionsInWindows(where: string[], base: Params, since: string | null, page: PageOptions): Promise<Page<SessionRow>> {
    const desc = page.order !== 'asc';
    const cursor = page.after ? decodeCursor(page.after) : null;
    // The end of the row range the page starts at (inclusive: a tie with the cursor may follow it).
    const start = cursor ? cursor[0] : desc ? null : since;
    for (let k = 4 * (page.limit + 1); ; k *= 8) {
      // The k-th per-writer row from the start, in page order: the window's far end (none: the end).
      const b = new Params();
      const range: string[] = [];
      if (start !== null) range.push(`last_at ${desc ? '<=' : '>='} ${b.add(start)}::timestamptz`);
      if (desc && since !== null) range.push(`last_at >= ${b.add(since)}::timestamptz`);
      const [edgeRow] = await this.q<{ edge: string }>(
        `SELECT last_at::text AS edge FROM llm_usage_sessions ${range.length ? `WHERE ${range.join(' AND ')}` : ''}
         ORDER BY last_at ${desc ? 'DESC' : 'ASC'} OFFSET ${b.add(k)} LIMIT 1`,
        b.values,
      );
      const edge = edgeRow?.edge ?? null;
      const p = new Params();
      for (const v of base.values) p.add(v);
      const lo = desc ? (edge ?? since) : start;
      const hi = desc ? start : edge;
      const win: string[] = [];
      if (lo !== null) win.push(`last_at >= ${p.add(lo)}::timestamptz`);
      if (hi !== null) win.push(`last_at <= ${p.add(hi)}::timestamptz`);
      const cond = [...where, ...win];
      const order = desc ? 'DESC' : 'ASC';
      if (cursor)
        cond.push(`(last_at, session_id COLLATE "C") ${desc ? '<' : '>'} (${p.add(cursor[0])}::timestamptz, ${p.add(cursor[1])})`);
      // OFFSET 0 keeps the lateral subquery apart, so the session id reaches into the view's
      // grouping (an index probe per candidate) instead of merging every session.
      const rows = await this.q<Row & SessionRow>(
        `SELECT t.* FROM (SELECT DISTINCT session_id AS sid FROM llm_usage_sessions ${win.length ? `WHERE ${win.join(' AND ')}` : ''}) c
         CROSS JOIN LATERAL (SELECT ${SESSION_COLUMNS} FROM llm_usage_sessions_total v WHERE v.session_id = c.sid OFFSET 0) t
         ${cond.length ? `WHERE ${cond.join(' AND ')}` : ''}
         ORDER BY last_at ${order}, session_id COLLATE "C" ${order} LIMIT ${p.add(page.limit + 1)}`,
        p.values,
      );
      if (rows.length > page.limit || edge === null) {
        const more = rows.length > page.limit;
        if (more) rows.length = page.limit;
        const last = rows[rows.length - 1];
        return { rows, next: more && last ? encodeCursor(last.last_at, last.session_id) : null };
      }
    }
  }

  async getSession(sessionId: string): Promise<SessionRow | undefined> {
    const [row] = await this.q<SessionRow & Row>(`SELECT ${SESSION_COLUMNS} FROM llm_usage_sessions_total WHERE session_id = $1`, [
      sessionId,
    ]);
    return row;
  }

  async latestRunTrace(kind: string, name: string, since: string): Promise<string | undefined> {
    const [r] = await this.q<{ trace_id: string }>(
      'SELECT trace_id FROM llm_runs WHERE kind = $1 AND name = $2 AND started_at >= $3::timestamptz ORDER BY started_at DESC LIMIT 1',
      [kind, name, since],
    );
    return r?.trace_id;
  }

  // ── bulk and free-form ─────────────────────────────────────────────────────────────────────────

  async exportRows(
    table: ExportTable,
    filter: CallFilter & RunFilter,
    { limit, order = 'id' }: { limit?: number; order?: 'id' | 'time' } = {},
  ): Promise<RowStream> {
    const p = new Params();
    const lim = limit ? ` LIMIT ${Math.floor(limit)}` : '';
    const byTime = order === 'time';
    let sql: string;
    let columns: string[];
    if (table === 'runs') {
      if (filter.model) throw new QueryError('export --table runs: --model does not apply to runs');
      columns = [...STORED_RUN_COLUMNS];
      sql = `SELECT ${selectList(columns)} FROM llm_runs WHERE ${runWhere(filter, p)} ORDER BY ${byTime ? 'started_at, id' : 'id'}${lim}`;
    } else {
      const f = callWhere(filter, p);
      if (table === 'calls') {
        columns = [...STORED_CALL_COLUMNS];
        sql = `SELECT ${selectList(columns, 'c')} FROM llm_calls c WHERE ${f} ORDER BY ${byTime ? 'c.started_at, c.id' : 'c.id'}${lim}`;
      } else {
        columns = ['call_id', 'span_id', 'trace_id', ...MESSAGE_COLUMNS];
        sql = `SELECT c.id AS call_id, c.span_id, c.trace_id, ${selectList(MESSAGE_COLUMNS, 'm')}
            FROM llm_calls c JOIN ${MESSAGES_OF_CALL} WHERE ${f}
            ORDER BY ${byTime ? 'c.started_at, c.id' : 'c.id'}, m.direction = 'output', m.position${lim}`;
      }
    }
    // A cursor on a connection of its own, in one read-only snapshot: the consumer awaits between
    // batches, and the rows never all sit in memory.
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw storeError(this.name, e);
    }
    const name = this.name;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await client.query(extended(`DECLARE llm_otel_export NO SCROLL CURSOR FOR ${sql}`, p.values));
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      client.release();
      throw storeError(name, e);
    }
    async function* batches(): AsyncGenerator<unknown[][]> {
      let broken = false;
      try {
        for (;;) {
          let res: pg.QueryArrayResult;
          try {
            res = await client.query({ text: `FETCH ${BATCH} FROM llm_otel_export`, rowMode: 'array' });
          } catch (e) {
            broken = true;
            throw storeError(name, e);
          }
          if (res.rows.length) yield res.rows;
          if (res.rows.length < BATCH) break;
        }
      } finally {
        if (!broken) await client.query('ROLLBACK').catch(() => {});
        client.release(broken);
      }
    }
    return { columns, batches: batches() };
  }

  async userQuery(sql: string, opts: { limit?: number; timeoutMs?: number } = {}): Promise<UserQueryResult> {
    return userQuery(this, sql, opts);
  }
}
