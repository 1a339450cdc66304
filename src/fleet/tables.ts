// The fleet tables' columns with their PostgreSQL types, and how a call-log row (SQLite's names and
// values: 0/1 booleans, JSON as text) becomes the values of one. Rows are sent a column at a time
// (`unnest($1::text[], $2::bigint[], …)`): one parameter per column whatever the batch size, and
// the same statement text every time.

import { CALL_COLUMNS, MESSAGE_COLUMNS, RUN_COLUMNS } from '../../exporter/rows.js';
import { pgJson, pgText } from './sanitize.js';

type PgType = 'text' | 'jsonb' | 'boolean' | 'integer' | 'bigint' | 'double precision' | 'timestamptz';

export interface TableSpec {
  table: string;
  columns: readonly (readonly [name: string, type: PgType])[];
  /** What happens to a row that is there already. */
  conflict: string;
}

const CALL_TYPES: Record<string, PgType> = {
  tags: 'jsonb',
  metadata: 'jsonb',
  finish_reasons: 'jsonb',
  attributes: 'jsonb',
  server_port: 'integer',
  temperature: 'double precision',
  top_p: 'double precision',
  max_tokens: 'bigint',
  stream: 'boolean',
  input_tokens: 'bigint',
  output_tokens: 'bigint',
  total_tokens: 'bigint',
  cached_input_tokens: 'bigint',
  reasoning_tokens: 'bigint',
  cost: 'double precision',
  started_at: 'timestamptz',
  ended_at: 'timestamptz',
  duration_ms: 'double precision',
  ttft_ms: 'double precision',
  http_status: 'integer',
  retry_count: 'integer',
};

function spec(table: string, names: readonly string[], types: Record<string, PgType>, conflict: string): TableSpec {
  return { table, columns: names.map((n) => [n, types[n] ?? 'text'] as const), conflict };
}

// The call log's own column lists (exporter/rows.ts), so a column added there is shipped too: a
// call names its price by key rather than by the spool's row id, and every row its writer.
export const CALLS = spec(
  'llm_calls',
  [...CALL_COLUMNS.map((c) => (c === 'price_id' ? 'price_key' : c)), 'writer_id'],
  CALL_TYPES,
  'ON CONFLICT DO NOTHING',
);

export const MESSAGES = spec(
  'llm_messages',
  ['call_span_id', 'started_at', ...MESSAGE_COLUMNS],
  {
    started_at: 'timestamptz',
    position: 'integer',
    content_chars: 'integer',
    truncated: 'boolean',
    tool_calls: 'jsonb',
    token_estimate: 'integer',
  },
  'ON CONFLICT DO NOTHING',
);

export const RUNS = spec(
  'llm_runs',
  [...RUN_COLUMNS, 'writer_id'],
  { started_at: 'timestamptz', ended_at: 'timestamptz', duration_ms: 'double precision', attributes: 'jsonb' },
  'ON CONFLICT DO NOTHING',
);

const LEDGER_TYPES: Record<string, PgType> = {
  hour: 'timestamptz',
  first_at: 'timestamptz',
  last_at: 'timestamptz',
  calls: 'bigint',
  errors: 'bigint',
  input_tokens: 'bigint',
  output_tokens: 'bigint',
  cost: 'double precision',
  duration_ms_sum: 'double precision',
  duration_ms_max: 'double precision',
};

const absolute = (cols: string[]) => cols.map((c) => `${c} = excluded.${c}`).join(', ');

// Ledgers hold the source's absolute totals: sending a row again sets what is already there.
export const HOURLY = spec(
  'llm_usage_hourly',
  [
    'writer_id',
    'hour',
    'service_name',
    'provider',
    'model',
    'user_id',
    'agent_name',
    'currency',
    'calls',
    'errors',
    'input_tokens',
    'output_tokens',
    'cost',
    'duration_ms_sum',
    'duration_ms_max',
  ],
  LEDGER_TYPES,
  `ON CONFLICT (hour, service_name, provider, model, user_id, agent_name, currency, writer_id) DO UPDATE SET ${absolute([
    'calls',
    'errors',
    'input_tokens',
    'output_tokens',
    'cost',
    'duration_ms_sum',
    'duration_ms_max',
  ])}`,
);

export const SESSIONS = spec(
  'llm_usage_sessions',
  [
    'writer_id',
    'session_id',
    'first_at',
    'last_at',
    'calls',
    'errors',
    'input_tokens',
    'output_tokens',
    'cost',
    'currency',
    'user_id',
    'agent_name',
  ],
  LEDGER_TYPES,
  `ON CONFLICT (session_id, writer_id) DO UPDATE SET ${absolute([
    'first_at',
    'last_at',
    'calls',
    'errors',
    'input_tokens',
    'output_tokens',
    'cost',
    'currency',
    'user_id',
    'agent_name',
  ])}`,
);

// Every writer ships the same built-in rows: an existing one is left alone (no row lock taken),
// except for a retirement (valid_to), which is the one column that can change under a key.
export const PRICES = spec(
  'model_prices',
  [
    'price_key',
    'provider',
    'model_pattern',
    'input_per_mtok',
    'cached_input_per_mtok',
    'output_per_mtok',
    'currency',
    'valid_from',
    'valid_to',
    'source',
  ],
  {
    input_per_mtok: 'double precision',
    cached_input_per_mtok: 'double precision',
    output_per_mtok: 'double precision',
    valid_from: 'timestamptz',
    valid_to: 'timestamptz',
  },
  'ON CONFLICT (price_key) DO UPDATE SET valid_to = excluded.valid_to WHERE model_prices.valid_to IS DISTINCT FROM excluded.valid_to',
);

/** `INSERT … SELECT * FROM unnest(…)` for `spec`: one array parameter per column. */
export function insertSql(s: TableSpec): string {
  const cols = s.columns.map(([n]) => n).join(', ');
  const arrays = s.columns.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ');
  return `INSERT INTO ${s.table} (${cols}) SELECT * FROM unnest(${arrays}) ${s.conflict}`;
}

/** A value as PostgreSQL takes it in a column of `type`. */
function pgValue(v: unknown, type: PgType): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'text':
    case 'timestamptz':
      return pgText(v);
    case 'jsonb':
      return pgJson(v);
    case 'boolean':
      return v === true || v === 1 || v === '1' || v === 'true';
    default:
      return typeof v === 'bigint' ? v.toString() : v;
  }
}

/** The rows as one array per column (what insertSql binds). */
export function columnsOf(s: TableSpec, rows: readonly Record<string, unknown>[]): unknown[][] {
  const out: unknown[][] = s.columns.map(() => new Array(rows.length));
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    for (let c = 0; c < s.columns.length; c++) {
      const [name, type] = s.columns[c]!;
      out[c]![r] = pgValue(row[name], type);
    }
  }
  return out;
}
