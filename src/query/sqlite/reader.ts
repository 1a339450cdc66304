// The SQLite read layer: every query the CLI and the dashboard run against a call log file, one
// method each (the contract: ../types.ts). The connection is read-only with query_only on.
// better-sqlite3 is synchronous; the methods are async only to keep one contract for every store.

import Database, { type Statement } from 'better-sqlite3';
import type { Db } from '../../../exporter/open.js';
import { MESSAGE_COLUMNS } from '../../../exporter/rows.js';
import { errorMessage } from '../../core/warn.js';
import {
  canonicalJson,
  canonicalRow,
  comparePriceRows,
  JSON_COLUMNS,
  PRICE_COLUMNS,
  roundSum,
  STORED_CALL_COLUMNS,
  STORED_RUN_COLUMNS,
  sortedCosts,
} from '../rows.js';
import {
  CALL_SUMMARY_COLUMNS,
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
import { callWhere, rollupWhere, runWhere } from './filters.js';
import { groupStats } from './group-stats.js';

/** Group key expressions over llm_calls; every column is in the covering index llm_calls_stats. */
const CALL_KEY: Record<GroupBy, string> = {
  model: 'c.request_model',
  user: 'c.user_id',
  agent: 'c.agent_name',
  session: 'c.session_id',
  provider: 'c.provider',
  hour: "substr(c.started_at, 1, 13) || ':00'",
  day: 'substr(c.started_at, 1, 10)',
};

/** The same groups in llm_usage_hourly (no session there). */
const ROLLUP_KEY: Record<RollupBy, string> = {
  model: 'model',
  user: 'user_id',
  agent: 'agent_name',
  provider: 'provider',
  hour: "substr(hour, 1, 13) || ':00'",
  day: 'substr(hour, 1, 10)',
};

const SUMMARY = CALL_SUMMARY_COLUMNS.map((c) => 'c.' + c).join(', ');

/** Rows per batch of an export stream. */
const BATCH = 256;

/** Keyset cursors: (started_at, id) of the last row, opaque to callers. */
function encodeCursor(at: unknown, id: unknown): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}
function decodeCursor(s: string): [string, number | string] {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && (Number.isSafeInteger(v[1]) || typeof v[1] === 'string'))
      return [v[0], v[1] as number | string];
  } catch {
    /* below */
  }
  throw new QueryError('bad page cursor (pass back the `next` value of the previous page)');
}

/** One keyset page: rows ordered by (`at`, `id`) in `order`, after the cursor. */
function keysetPage<T extends Row>(
  db: Db,
  select: string,
  from: string,
  where: { sql: string; params: unknown[] },
  at: string,
  id: string,
  page: PageOptions,
): Page<T> {
  const order = page.order === 'asc' ? 'ASC' : 'DESC';
  const cmp = order === 'ASC' ? '>' : '<';
  const params = [...where.params];
  let cond = where.sql;
  if (page.after) {
    const [a, i] = decodeCursor(page.after);
    // Written out (not a row value) so SQLite uses the (time, rowid) order of the index.
    cond += ` AND (${at} ${cmp} ? OR (${at} = ? AND ${id} ${cmp} ?))`;
    params.push(a, a, i);
  }
  const rows = db
    .prepare(`SELECT ${select} FROM ${from} WHERE ${cond} ORDER BY ${at} ${order}, ${id} ${order} LIMIT ?`)
    .all(...params, page.limit + 1) as T[];
  const more = rows.length > page.limit;
  if (more) rows.length = page.limit;
  const last = rows[rows.length - 1];
  const atCol = at.replace(/^\w+\./, '');
  const idCol = id.replace(/^\w+\./, '');
  return { rows, next: more && last ? encodeCursor(last[atCol], last[idCol]) : null };
}

function plainNumber(v: unknown): number {
  return typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : 0;
}

export class SqliteReader implements CallLogReader {
  private readonly cache = new Map<string, Statement>();

  constructor(
    readonly db: Db,
    readonly name: string = db.name,
  ) {}

  private stmt(sql: string): Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  async close(): Promise<void> {
    this.db.close();
  }

  async dataVersion(): Promise<number> {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  // ── calls ──────────────────────────────────────────────────────────────────────────────────────

  async listCalls(filter: CallFilter, page: PageOptions): Promise<Page<CallSummary>> {
    return keysetPage<CallSummary>(this.db, SUMMARY, 'llm_calls c', callWhere(filter), 'c.started_at', 'c.id', page);
  }

  async getCall(ref: CallRef): Promise<Row | undefined> {
    const row =
      'id' in ref
        ? (this.stmt(`SELECT ${STORED_CALL_COLUMNS.join(', ')} FROM llm_calls WHERE id = ?`).get(ref.id) as Row | undefined)
        : (this.stmt(`SELECT ${STORED_CALL_COLUMNS.join(', ')} FROM llm_calls WHERE span_id = ?`).get(ref.spanId) as Row | undefined);
    return row && canonicalRow(row);
  }

  async callMessages(callId: number): Promise<Row[]> {
    return (
      this.stmt(
        "SELECT direction, position, role, content, content_chars, truncated, tool_calls, tool_call_id, name, token_estimate, reasoning FROM llm_messages WHERE call_id = ? ORDER BY direction = 'output', position",
      ).all(callId) as Row[]
    ).map(canonicalRow);
  }

  async messagesOf(callIds: readonly number[]): Promise<Map<number, Row[]>> {
    const out = new Map<number, Row[]>();
    for (let i = 0; i < callIds.length; i += 500) {
      const chunk = callIds.slice(i, i + 500);
      const rows = this.db
        .prepare(
          `SELECT call_id, direction, position, role, content, content_chars, truncated, tool_calls, tool_call_id, name, token_estimate, reasoning
           FROM llm_messages WHERE call_id IN (${chunk.map(() => '?').join(',')}) ORDER BY call_id, direction = 'output', position`,
        )
        .all(...chunk) as Row[];
      for (const r of rows) {
        canonicalRow(r);
        const id = Number(r.call_id);
        let list = out.get(id);
        if (!list) out.set(id, (list = []));
        list.push(r);
      }
    }
    return out;
  }

  async callPrice(spanId: string): Promise<Row | undefined> {
    return this.stmt(
      `SELECT ${PRICE_COLUMNS.map((c) => 'p.' + c).join(', ')} FROM llm_calls c JOIN model_prices p ON p.id = c.price_id WHERE c.span_id = ?`,
    ).get(spanId) as Row | undefined;
  }

  async priceRows(): Promise<Row[]> {
    return (this.stmt(`SELECT ${PRICE_COLUMNS.join(', ')} FROM model_prices`).all() as Row[]).sort(comparePriceRows);
  }

  private maxCallId(): number {
    return plainNumber((this.stmt('SELECT coalesce(max(id), 0) AS m FROM llm_calls').get() as { m: number }).m);
  }

  async tailStart(filter: CallFilter, limit: number): Promise<TailPage> {
    const f = callWhere(filter);
    // One read transaction, so the cursor is the max id of the same snapshot the rows come from.
    return this.db.transaction(() => {
      const calls = this.db
        .prepare(`SELECT ${SUMMARY} FROM llm_calls c WHERE ${f.sql} ORDER BY c.id DESC LIMIT ?`)
        .all(...f.params, limit) as CallSummary[];
      return { calls: calls.reverse(), cursor: String(this.maxCallId()) };
    })();
  }

  async tailNext(filter: CallFilter, cursor: string): Promise<TailPage> {
    let from = Number(cursor);
    if (!Number.isSafeInteger(from)) throw new QueryError('bad tail cursor');
    const f = callWhere(filter);
    const page = this.stmt(`SELECT ${SUMMARY} FROM llm_calls c WHERE c.id > ? AND c.id <= ? AND ${f.sql} ORDER BY c.id LIMIT 1000`);
    // SQLite commits one writer at a time and ids grow with commits: reading up to the max id seen
    // now, calls filtered out still move the cursor past them, and later ones come next time.
    return this.db.transaction(() => {
      const upTo = this.maxCallId();
      const calls: CallSummary[] = [];
      while (upTo > from) {
        const rows = page.all(from, upTo, ...f.params) as CallSummary[];
        calls.push(...rows);
        if (rows.length < 1000) break;
        from = rows[rows.length - 1]!.id;
      }
      return { calls, cursor: String(Math.max(Number(cursor), upTo)) };
    })();
  }

  // ── aggregates ─────────────────────────────────────────────────────────────────────────────────

  async groupStats(by: GroupBy | null, filter: CallFilter, metric: 'duration' | 'ttft' = 'duration'): Promise<GroupStats[]> {
    const f = callWhere(filter);
    const where = metric === 'ttft' ? `${f.sql} AND c.ttft_ms IS NOT NULL` : f.sql;
    return groupStats(this.db, by ? CALL_KEY[by] : "''", where, f.params, metric === 'ttft' ? 'c.ttft_ms' : 'c.duration_ms');
  }

  private refuseForRollup(filter: CallFilter): void {
    if (filter.session || filter.status || filter.trace || filter.errorText)
      throw new QueryError('the hourly totals (llm_usage_hourly) cannot be filtered by session, status, trace or error text');
  }

  async rollupGroups(by: RollupBy | null, filter: CallFilter): Promise<RollupGroup[]> {
    this.refuseForRollup(filter);
    const w = rollupWhere(filter);
    const rows = this.db
      .prepare(
        `SELECT ${by ? ROLLUP_KEY[by] : "''"} AS key, currency, sum(calls) AS calls, sum(errors) AS errors, sum(input_tokens) AS input_tokens,
         sum(output_tokens) AS output_tokens, sum(cost) AS cost, sum(duration_ms_sum) AS dsum, max(duration_ms_max) AS dmax
         FROM llm_usage_hourly WHERE ${w.sql} GROUP BY 1, 2`,
      )
      .all(...w.params) as Array<{
      key: string;
      currency: string;
      calls: number;
      errors: number;
      input_tokens: number;
      output_tokens: number;
      cost: number | null;
      dsum: number;
      dmax: number | null;
    }>;
    const groups = new Map<string, RollupGroup>();
    for (const r of rows) {
      let g = groups.get(r.key);
      if (!g) {
        // '' is how the ledger stores "none"
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
    const w = rollupWhere(filter);
    const bucket = bucketHours === 24 ? "substr(hour, 1, 10) || 'T00:00:00.000Z'" : 'hour';
    const rows = this.db
      .prepare(
        `SELECT ${bucket} AS bucket, ${by ? `nullif(${ROLLUP_KEY[by]}, '')` : 'NULL'} AS key, nullif(currency, '') AS currency,
         sum(calls) AS calls, sum(errors) AS errors, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cost) AS cost
         FROM llm_usage_hourly WHERE ${w.sql} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      )
      .all(...w.params) as UsagePoint[];
    return rows.map((r) => ({ ...r, cost: roundSum(r.cost) }));
  }

  async facets(filter: CallFilter): Promise<Facets> {
    const w = rollupWhere({ since: filter.since, until: filter.until });
    // One pass over the window's ledger rows, the four sets kept in JS.
    const sets = [new Set<string>(), new Set<string>(), new Set<string>(), new Set<string>()];
    const stmt = this.db.prepare(`SELECT model, provider, agent_name, user_id FROM llm_usage_hourly WHERE ${w.sql}`).raw(true);
    for (const row of stmt.iterate(...w.params) as IterableIterator<string[]>) {
      for (let i = 0; i < 4; i++) if (row[i]) sets[i]!.add(row[i]!);
    }
    const list = (s: Set<string>): string[] => [...s].sort().slice(0, 500);
    return { models: list(sets[0]!), providers: list(sets[1]!), agents: list(sets[2]!), users: list(sets[3]!) };
  }

  async errorGroups(filter: CallFilter, limit: number): Promise<ErrorGroup[]> {
    const f = callWhere({ ...filter, status: filter.status ?? 'failed' });
    // llm_calls_failed (a partial index on failed calls by time) keeps this to the failed rows.
    return this.db
      .prepare(
        `SELECT g.error_type, g.model, g.status, g.calls, g.first_at, g.last_at, e.span_id AS example, e.error_message AS message
         FROM (SELECT c.error_type AS error_type, c.request_model AS model, c.status AS status, count(*) AS calls,
                 min(c.started_at) AS first_at, max(c.started_at) AS last_at, max(c.id) AS last_id
               FROM llm_calls c WHERE ${f.sql} AND c.status <> 'ok' GROUP BY 1, 2, 3) g
         JOIN llm_calls e ON e.id = g.last_id
         ORDER BY g.calls DESC, g.last_at DESC LIMIT ?`,
      )
      .all(...f.params, limit) as ErrorGroup[];
  }

  // ── runs ───────────────────────────────────────────────────────────────────────────────────────

  async listRuns(filter: RunFilter, page: PageOptions): Promise<Page<Row & { span_id: string }>> {
    return keysetPage<Row & { span_id: string }>(
      this.db,
      `id, span_id, trace_id, parent_call_id, kind, name, session_id, user_id, agent_name, tool_call_id,
          started_at, ended_at, duration_ms, status, error_message`,
      'llm_runs',
      runWhere(filter),
      'started_at',
      'id',
      page,
    );
  }

  async getRun(spanId: string): Promise<Row | undefined> {
    const row = this.stmt(`SELECT ${STORED_RUN_COLUMNS.join(', ')} FROM llm_runs WHERE span_id = ?`).get(spanId) as Row | undefined;
    return row && canonicalRow(row);
  }

  async runTotals(spanIds: readonly string[]): Promise<Map<string, RunTotals>> {
    const out = new Map<string, RunTotals>();
    for (let i = 0; i < spanIds.length; i += 500) {
      const chunk = spanIds.slice(i, i + 500);
      // The view computes each run's totals in a correlated subquery, so a lookup by span id walks
      // that run's tree only.
      const rows = this.db
        .prepare(
          `SELECT span_id, calls, errors, input_tokens, output_tokens, cost, avg_duration_ms, models
           FROM llm_run_totals WHERE span_id IN (${chunk.map(() => '?').join(',')})`,
        )
        .all(...chunk) as Array<RunTotals & { span_id: string }>;
      for (const r of rows) {
        const { span_id, ...t } = r;
        // Rounded: a float sum then reads the same whatever order a store adds in.
        out.set(span_id, { ...t, cost: roundSum(t.cost), avg_duration_ms: roundSum(t.avg_duration_ms) });
      }
    }
    return out;
  }

  // ── traces and sessions ────────────────────────────────────────────────────────────────────────

  async traceIdsByPrefix(prefix: string): Promise<string[]> {
    const s = prefix.toLowerCase();
    return (
      this.stmt(`SELECT DISTINCT trace_id FROM (
        SELECT trace_id FROM llm_calls WHERE trace_id >= ? AND trace_id < ?
        UNION SELECT trace_id FROM llm_runs WHERE trace_id >= ? AND trace_id < ?) LIMIT 2`).all(s, s + 'g', s, s + 'g') as {
        trace_id: string;
      }[]
    ).map((r) => r.trace_id);
  }

  async traceRows(traceId: string): Promise<TraceRows> {
    const calls = this.stmt(
      `SELECT id, span_id, parent_span_id, parent_call_id, session_id, operation, request_model, response_model, started_at, duration_ms,
       ttft_ms, stream, status, error_type, error_message, input_tokens, output_tokens, cost, currency FROM llm_calls WHERE trace_id = ?`,
    ).all(traceId) as Row[];
    const runs = this.stmt(
      'SELECT id, span_id, parent_span_id, parent_call_id, kind, name, tool_call_id, started_at, duration_ms, status, error_message FROM llm_runs WHERE trace_id = ?',
    ).all(traceId) as Row[];
    const toolCalls = this.stmt(
      `SELECT m.call_id AS call_id, m.tool_calls AS tool_calls FROM llm_calls c JOIN llm_messages m ON m.call_id = c.id
       WHERE c.trace_id = ? AND m.direction = 'output' AND m.tool_calls IS NOT NULL`,
    ).all(traceId) as Array<{ call_id: number; tool_calls: string }>;
    return { calls, runs, toolCalls };
  }

  async sessionRuns(sessionId: string, limit: number): Promise<Row[]> {
    return this.stmt(
      'SELECT id, span_id, trace_id, parent_call_id, kind, name, started_at, duration_ms, status, error_message FROM llm_runs WHERE session_id = ? ORDER BY started_at, id LIMIT ?',
    ).all(sessionId, limit) as Row[];
  }

  async sessionSpan(filter: CallFilter): Promise<SessionSpan> {
    const f = callWhere(filter);
    const span = this.db
      .prepare(`SELECT min(c.started_at) AS first, max(c.ended_at) AS last, count(DISTINCT c.trace_id) AS traces
        FROM llm_calls c WHERE ${f.sql}`)
      .get(...f.params) as Record<string, string | number | null>;
    // Each list in order of first appearance (time, then id): the same order in every store.
    const list = (expr: string): string[] =>
      (
        this.db
          .prepare(
            `SELECT v FROM (SELECT ${expr} AS v, min(c.started_at) AS t, min(c.id) AS i FROM llm_calls c WHERE ${f.sql} AND ${expr} IS NOT NULL GROUP BY 1) ORDER BY t, i`,
          )
          .pluck()
          .all(...f.params) as unknown[]
      ).map(String);
    return {
      first_at: (span.first as string | null) ?? null,
      last_at: (span.last as string | null) ?? null,
      traces: Number(span.traces ?? 0),
      users: list('c.user_id'),
      agents: list('c.agent_name'),
      models: list('coalesce(c.response_model, c.request_model)'),
    };
  }

  async listSessions(filter: CallFilter, page: PageOptions): Promise<Page<SessionRow>> {
    const where: string[] = [];
    const params: unknown[] = [];
    // A session belongs to a window when it was active in it.
    if (filter.since) {
      where.push('last_at >= ?');
      params.push(filter.since);
    }
    if (filter.until) {
      where.push('first_at < ?');
      params.push(filter.until);
    }
    if (filter.user) {
      where.push('user_id = ?');
      params.push(filter.user);
    }
    if (filter.agent) {
      where.push('agent_name = ?');
      params.push(filter.agent);
    }
    if (filter.session) {
      where.push('session_id = ?');
      params.push(filter.session);
    }
    // Ends on the session id, not the row id: a shared store's sessions have no row id of their own.
    return keysetPage<Row & SessionRow>(
      this.db,
      'session_id, first_at, last_at, calls, errors, input_tokens, output_tokens, cost, currency, user_id, agent_name',
      'llm_usage_sessions',
      { sql: where.length ? where.join(' AND ') : '1', params },
      'last_at',
      'session_id',
      page,
    );
  }

  async getSession(sessionId: string): Promise<SessionRow | undefined> {
    return this.stmt(
      'SELECT session_id, first_at, last_at, calls, errors, input_tokens, output_tokens, cost, currency, user_id, agent_name FROM llm_usage_sessions WHERE session_id = ?',
    ).get(sessionId) as SessionRow | undefined;
  }

  async latestRunTrace(kind: string, name: string, since: string): Promise<string | undefined> {
    const r = this.stmt(
      'SELECT trace_id FROM llm_runs WHERE kind = ? AND name = ? AND started_at >= ? ORDER BY started_at DESC LIMIT 1',
    ).get(kind, name, since) as { trace_id: string } | undefined;
    return r?.trace_id;
  }

  // ── bulk and free-form ─────────────────────────────────────────────────────────────────────────

  async exportRows(
    table: ExportTable,
    filter: CallFilter & RunFilter,
    { limit, order = 'id' }: { limit?: number; order?: 'id' | 'time' } = {},
  ): Promise<RowStream> {
    const lim = limit ? ` LIMIT ${Math.floor(limit)}` : '';
    const byTime = order === 'time';
    let sql: string;
    let params: unknown[];
    let columns: string[];
    if (table === 'runs') {
      if (filter.model) throw new QueryError('export --table runs: --model does not apply to runs');
      const r = runWhere(filter);
      columns = [...STORED_RUN_COLUMNS];
      sql = `SELECT ${columns.join(', ')} FROM llm_runs WHERE ${r.sql} ORDER BY ${byTime ? 'started_at, id' : 'id'}${lim}`;
      params = r.params;
    } else {
      const f = callWhere(filter);
      params = f.params;
      if (table === 'calls') {
        columns = [...STORED_CALL_COLUMNS];
        sql = `SELECT ${columns.map((c) => 'c.' + c).join(', ')} FROM llm_calls c WHERE ${f.sql} ORDER BY ${byTime ? 'c.started_at, c.id' : 'c.id'}${lim}`;
      } else {
        columns = ['call_id', 'span_id', 'trace_id', ...MESSAGE_COLUMNS];
        sql = `SELECT m.call_id, c.span_id, c.trace_id, ${MESSAGE_COLUMNS.map((x) => 'm.' + x).join(', ')}
            FROM llm_calls c JOIN llm_messages m ON m.call_id = c.id WHERE ${f.sql}
            ORDER BY ${byTime ? 'c.started_at, c.id' : 'm.call_id'}, m.direction = 'output', m.position${lim}`;
      }
    }
    // A connection with an open iterator can run nothing else, and the consumer awaits between
    // batches: a stream gets a read-only connection of its own (a file's; the in-memory empty
    // log has none to share and nothing to wait for).
    const own = this.db.memory ? null : new Database(this.db.name, { readonly: true, fileMustExist: true });
    own?.pragma('query_only = ON');
    own?.pragma('busy_timeout = 2000');
    let stmt: Statement;
    try {
      stmt = (own ?? this.db).prepare(sql).raw(true);
    } catch (e) {
      own?.close();
      throw e;
    }
    const jsonAt = columns.flatMap((c, i) => (JSON_COLUMNS.has(c) ? [i] : []));
    async function* batches(): AsyncGenerator<unknown[][]> {
      try {
        let batch: unknown[][] = [];
        for (const row of stmt.iterate(...params) as IterableIterator<unknown[]>) {
          for (const i of jsonAt) if (typeof row[i] === 'string') row[i] = canonicalJson(row[i] as string);
          batch.push(row);
          if (batch.length === BATCH) {
            yield batch;
            batch = [];
          }
        }
        if (batch.length) yield batch;
      } finally {
        own?.close();
      }
    }
    return { columns, batches: batches() };
  }

  async userQuery(sql: string, { limit }: { limit?: number; timeoutMs?: number } = {}): Promise<UserQueryResult> {
    let stmt: Statement;
    try {
      stmt = this.db.prepare(sql);
    } catch (e) {
      throw new QueryError(`sql: ${errorMessage(e)}`);
    }
    if (!stmt.reader || /^\s*(attach|detach|vacuum|reindex|analyze)\b/i.test(sql) || /^\s*pragma\b[^;]*=/i.test(sql)) {
      throw new QueryError('sql: only queries that read are allowed (the connection is read-only; nothing was changed)');
    }
    try {
      const cols = stmt.columns();
      const columns = cols.map((c) => c.name);
      // A column read straight from one of the call log's JSON columns is given canonical, as every
      // store gives it (rows.ts).
      const jsonAt = cols.flatMap((c, i) => (c.column && c.table?.startsWith('llm_') && JSON_COLUMNS.has(c.column) ? [i] : []));
      stmt.raw(true);
      const rows: unknown[][] = [];
      for (const r of stmt.iterate() as IterableIterator<unknown[]>) {
        for (const i of jsonAt) if (typeof r[i] === 'string') r[i] = canonicalJson(r[i] as string);
        rows.push(r);
        if (limit && rows.length >= limit) break;
      }
      return { columns, rows };
    } catch (e) {
      throw new QueryError(`sql: ${errorMessage(e)}`);
    }
  }
}
