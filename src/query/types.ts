// The read layer's contract: every question the CLI and the dashboard ask a call log, one method
// per query, in terms that do not depend on the store (times are ISO strings, cursors are opaque,
// every method is asynchronous). A store is one implementation of CallLogReader (SQLite today:
// sqlite/reader.ts, PostgreSQL: postgres/reader.ts); what is computed from the rows (trees,
// conversations, formatting) is shared. For the same calls every store returns the same values:
// times as ISO strings with milliseconds and 'Z', counts as numbers, 0/1 flags as 0/1, JSON
// columns as canonical JSON text (rows.ts), ids as the store's own row ids.

/** Filters on calls; every field optional, all that are given must hold. */
export interface CallFilter {
  /** started_at ≥ since (ISO). */
  since?: string;
  /** started_at < until (ISO). */
  until?: string;
  session?: string;
  user?: string;
  agent?: string;
  /** Requested model; `*` is a wildcard. */
  model?: string;
  provider?: string;
  /** ok | error | timeout | cancelled, or `failed` (anything but ok). */
  status?: string;
  /** Calls whose error type or message contains this text (case-insensitive). */
  errorText?: string;
  trace?: string;
}

/** Filters on runs: `agent` also matches an agent run by its name. */
export interface RunFilter extends Omit<CallFilter, 'model' | 'provider' | 'errorText' | 'trace'> {
  kind?: string;
  name?: string;
}

/** Columns of a call in lists (`calls`, `session`, `tail`, the dashboard's list), in this order. */
export const CALL_SUMMARY_COLUMNS = [
  'id',
  'span_id',
  'trace_id',
  'parent_call_id',
  'started_at',
  'duration_ms',
  'ttft_ms',
  'operation',
  'api',
  'provider',
  'request_model',
  'response_model',
  'stream',
  'status',
  'error_type',
  'error_message',
  'http_status',
  'retry_count',
  'session_id',
  'user_id',
  'agent_name',
  'input_tokens',
  'output_tokens',
  'cached_input_tokens',
  'reasoning_tokens',
  'usage_source',
  'cost',
  'currency',
] as const;

export type CallSummary = Record<(typeof CALL_SUMMARY_COLUMNS)[number], unknown> & { id: number; span_id: string };

export type Row = Record<string, unknown>;

/** One page of a keyset-paged list; `next` is passed back as `after` for the following page. */
export interface Page<T> {
  rows: T[];
  next: string | null;
}

export interface PageOptions {
  limit: number;
  /** Opaque cursor from a previous page (never an offset). */
  after?: string | null;
  order?: 'desc' | 'asc';
}

/** A call by its row id or its span id. */
export type CallRef = { id: number } | { spanId: string };

/** Latency summary of a group, computed by the store (exact for small groups, ≤ 0.25% off above). */
export interface LatencySummary {
  n: number;
  avg: number | null;
  max: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
}

/** Calls grouped by one key, from the stored calls (llm_calls): what `stats` and `latency` show. */
export interface GroupStats {
  key: string | null;
  calls: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  /** Calls that have a cost. */
  priced: number;
  /** Cost per currency (a call without a currency counts as USD). */
  costs: Record<string, number>;
  latency: LatencySummary;
}

export const GROUP_BY = ['model', 'user', 'agent', 'session', 'provider', 'hour', 'day'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

/** Groups of the hourly ledger (llm_usage_hourly: every call observed, sampled-out and pruned ones too). */
export type RollupBy = Exclude<GroupBy, 'session'>;

export interface RollupGroup {
  key: string | null;
  calls: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  costs: Record<string, number>;
  /** Calls with no cost (unpriced or failed). */
  unpriced: number;
  duration_ms_sum: number;
  duration_ms_max: number | null;
}

/** One point of a time series from the hourly ledger: a bucket start (ISO) and a series key. */
export interface UsagePoint {
  bucket: string;
  key: string | null;
  calls: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cost: number | null;
  currency: string | null;
}

export interface RunTotals {
  calls: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cost: number | null;
  avg_duration_ms: number | null;
  models: string | null;
}

/** A trace's own rows; trace.ts builds the tree. */
export interface TraceRows {
  calls: Row[];
  runs: Row[];
  /** The tool calls asked for by the trace's assistant messages: call id → tool call ids. */
  toolCalls: Array<{ call_id: number; tool_calls: string }>;
}

export interface SessionSpan {
  first_at: string | null;
  last_at: string | null;
  traces: number;
  users: string[];
  agents: string[];
  models: string[];
}

/** A session of the session ledger (llm_usage_sessions). */
export interface SessionRow {
  session_id: string;
  first_at: string;
  last_at: string;
  calls: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cost: number | null;
  currency: string | null;
  user_id: string | null;
  agent_name: string | null;
}

export interface ErrorGroup {
  error_type: string | null;
  model: string | null;
  status: string;
  calls: number;
  first_at: string;
  last_at: string;
  /** Span id of the most recent call of the group. */
  example: string;
  message: string | null;
}

export type ExportTable = 'calls' | 'messages' | 'runs';

/** Rows in batches (arrays of column values, in `columns` order), so a stream never holds them all. */
export interface RowStream {
  columns: string[];
  batches: AsyncIterable<unknown[][]>;
}

export interface UserQueryResult {
  columns: string[];
  rows: unknown[][];
}

/** A query the read layer refuses or the store rejects; the message is for the user. */
export class QueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryError';
  }
}

export interface TailPage {
  calls: CallSummary[];
  cursor: string;
}

/** The store itself failed (a database server down or restarting), not the query: worth a retry. */
export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreError';
  }
}

export interface Facets {
  models: string[];
  providers: string[];
  agents: string[];
  users: string[];
}

export interface CallLogReader {
  /** Where the log is (a path, or a URL without its password), for messages. */
  readonly name: string;
  close(): Promise<void>;
  /** Changes whenever another connection commits (the dashboard's cheap "anything new?"). */
  dataVersion(): Promise<number>;

  // calls
  listCalls(filter: CallFilter, page: PageOptions): Promise<Page<CallSummary>>;
  getCall(ref: CallRef): Promise<Row | undefined>;
  callMessages(callId: number): Promise<Row[]>;
  /** The messages of several calls, grouped by call id, in conversation order. */
  messagesOf(callIds: readonly number[]): Promise<Map<number, Row[]>>;
  /** The price row that costed this call (PRICE_COLUMNS of rows.ts), if it is still there. */
  callPrice(spanId: string): Promise<Row | undefined>;
  /** Every row of model_prices (PRICE_COLUMNS), in the store-neutral order of rows.ts `comparePriceRows`. */
  priceRows(): Promise<Row[]>;
  /**
   * `tail`'s start: the newest `limit` calls, oldest first, and a cursor that tailNext() follows
   * from there. The cursor is opaque (a row id in SQLite; a transaction horizon in PostgreSQL).
   */
  tailStart(filter: CallFilter, limit: number): Promise<TailPage>;
  /**
   * The calls that became visible since `cursor`, each exactly once, oldest first — also those
   * whose transaction committed after a later one's (ids are not commit order in a shared store).
   */
  tailNext(filter: CallFilter, cursor: string): Promise<TailPage>;

  // aggregates over stored calls
  groupStats(by: GroupBy | null, filter: CallFilter, metric?: 'duration' | 'ttft'): Promise<GroupStats[]>;
  // aggregates over the hourly ledger
  rollupGroups(by: RollupBy | null, filter: CallFilter): Promise<RollupGroup[]>;
  /** Time series: buckets of `bucketHours` hours (1 or 24), per series key (`by`; null: one series). */
  usageSeries(filter: CallFilter, bucketHours: 1 | 24, by: RollupBy | null): Promise<UsagePoint[]>;
  facets(filter: CallFilter): Promise<Facets>;
  errorGroups(filter: CallFilter, limit: number): Promise<ErrorGroup[]>;

  // runs
  listRuns(filter: RunFilter, page: PageOptions): Promise<Page<Row & { span_id: string }>>;
  getRun(spanId: string): Promise<Row | undefined>;
  runTotals(spanIds: readonly string[]): Promise<Map<string, RunTotals>>;

  // traces and sessions
  /** The full trace id for a unique prefix of ≥ 8 hex digits; [] none, 2 ids: ambiguous. */
  traceIdsByPrefix(prefix: string): Promise<string[]>;
  traceRows(traceId: string): Promise<TraceRows>;
  sessionRuns(sessionId: string, limit: number): Promise<Row[]>;
  sessionSpan(filter: CallFilter): Promise<SessionSpan>;
  listSessions(filter: CallFilter, page: PageOptions): Promise<Page<SessionRow>>;
  getSession(sessionId: string): Promise<SessionRow | undefined>;

  // bulk and free-form
  /** The trace id of the latest run of this kind and name started at or after `since`. */
  latestRunTrace(kind: string, name: string, since: string): Promise<string | undefined>;
  /**
   * Every row of a table that matches, streamed. `order: 'id'` (the CLI's) is the order rows were
   * written; `'time'` (by start time, then id) lets a store stream a time window from its index
   * at once instead of sorting it first.
   */
  exportRows(table: ExportTable, filter: CallFilter & RunFilter, opts?: { limit?: number; order?: 'id' | 'time' }): Promise<RowStream>;
  /**
   * One read-only statement of the user's (`llm-otel sql`): at most `limit` rows; `timeoutMs` bounds
   * its run time where the store can (PostgreSQL). Throws QueryError.
   */
  userQuery(sql: string, opts?: { limit?: number; timeoutMs?: number }): Promise<UserQueryResult>;
}
