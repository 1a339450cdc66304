// The call-log schema (docs/database.md): the public contract users write SQL against.
// Forward-only migrations keyed by PRAGMA user_version, each applied inside one transaction.
// A DB written by a newer llm-otel (user_version above ours) is refused and left untouched.

import { randomBytes } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import { priceKey } from '../src/core/price-key.js';

type Db = BetterSqlite3.Database;

/** A migration: SQL, or a function where a backfill needs code (run inside the same transaction). */
export type Migration = string | ((db: Db) => void);

/** Each entry migrates from version i to i + 1. Never edit a released entry; append a new one. */
export const MIGRATIONS: readonly Migration[] = [
  // 0 → 1: the initial schema.
  `
  CREATE TABLE llm_calls (
    id INTEGER PRIMARY KEY,
    span_id TEXT UNIQUE NOT NULL,
    trace_id TEXT NOT NULL,
    parent_span_id TEXT,
    parent_call_id TEXT,
    service_name TEXT,
    session_id TEXT,
    user_id TEXT,
    agent_name TEXT,
    conversation_id TEXT,
    tags TEXT,
    metadata TEXT,
    operation TEXT NOT NULL,
    api TEXT,
    provider TEXT,
    server_address TEXT,
    server_port INTEGER,
    request_model TEXT,
    response_model TEXT,
    response_id TEXT,
    request_id TEXT,
    temperature REAL,
    top_p REAL,
    max_tokens INTEGER,
    stream INTEGER,
    finish_reasons TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    total_tokens INTEGER,
    cached_input_tokens INTEGER,
    reasoning_tokens INTEGER,
    usage_source TEXT,
    cost REAL,
    currency TEXT,
    price_id INTEGER,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    duration_ms REAL,
    ttft_ms REAL,
    status TEXT NOT NULL,
    error_type TEXT,
    error_message TEXT,
    http_status INTEGER,
    retry_count INTEGER NOT NULL DEFAULT 0,
    attributes TEXT
  );
  CREATE INDEX llm_calls_trace ON llm_calls(trace_id);
  CREATE INDEX llm_calls_session ON llm_calls(session_id, started_at);
  CREATE INDEX llm_calls_user ON llm_calls(user_id, started_at);
  CREATE INDEX llm_calls_agent ON llm_calls(agent_name, started_at);
  CREATE INDEX llm_calls_model ON llm_calls(request_model, started_at);
  CREATE INDEX llm_calls_started ON llm_calls(started_at);
  CREATE INDEX llm_calls_parent_call ON llm_calls(parent_call_id);

  CREATE TABLE llm_messages (
    call_id INTEGER NOT NULL REFERENCES llm_calls(id) ON DELETE CASCADE,
    direction TEXT NOT NULL,
    position INTEGER NOT NULL,
    role TEXT,
    content TEXT,
    content_chars INTEGER,
    truncated INTEGER NOT NULL DEFAULT 0,
    tool_calls TEXT,
    tool_call_id TEXT,
    name TEXT,
    token_estimate INTEGER,
    PRIMARY KEY (call_id, direction, position)
  ) WITHOUT ROWID;
  CREATE INDEX llm_messages_tool_call ON llm_messages(tool_call_id) WHERE tool_call_id IS NOT NULL;

  CREATE TABLE llm_runs (
    id INTEGER PRIMARY KEY,
    span_id TEXT UNIQUE NOT NULL,
    trace_id TEXT NOT NULL,
    parent_span_id TEXT,
    parent_call_id TEXT,
    kind TEXT NOT NULL,
    name TEXT,
    session_id TEXT,
    user_id TEXT,
    agent_name TEXT,
    tool_call_id TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    duration_ms REAL,
    status TEXT NOT NULL,
    error_message TEXT,
    attributes TEXT
  );
  CREATE INDEX llm_runs_trace ON llm_runs(trace_id);
  CREATE INDEX llm_runs_parent_call ON llm_runs(parent_call_id);
  CREATE INDEX llm_runs_session ON llm_runs(session_id, started_at);
  CREATE INDEX llm_runs_started ON llm_runs(started_at);
  CREATE INDEX llm_runs_tool_call ON llm_runs(tool_call_id) WHERE tool_call_id IS NOT NULL;

  CREATE TABLE llm_usage_hourly (
    hour TEXT NOT NULL,
    service_name TEXT NOT NULL DEFAULT '',
    provider TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    user_id TEXT NOT NULL DEFAULT '',
    agent_name TEXT NOT NULL DEFAULT '',
    calls INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost REAL,
    duration_ms_sum REAL NOT NULL DEFAULT 0,
    duration_ms_max REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, service_name, provider, model, user_id, agent_name)
  ) WITHOUT ROWID;

  CREATE TABLE model_prices (
    id INTEGER PRIMARY KEY,
    provider TEXT,
    model_pattern TEXT NOT NULL,
    input_per_mtok REAL,
    cached_input_per_mtok REAL,
    output_per_mtok REAL,
    currency TEXT NOT NULL DEFAULT 'USD',
    valid_from TEXT,
    valid_to TEXT,
    source TEXT NOT NULL DEFAULT 'user'
  );
  CREATE INDEX model_prices_lookup ON model_prices(model_pattern, provider);

  -- Per-run aggregate over every call beneath the run (recursively through parent_call_id,
  -- through nested runs and through calls that enclose runs).
  CREATE VIEW llm_run_totals AS
  WITH RECURSIVE tree(root, span_id) AS (
    SELECT span_id, span_id FROM llm_runs
    UNION
    SELECT tree.root, r.span_id FROM tree JOIN llm_runs r ON r.parent_call_id = tree.span_id
    UNION
    SELECT tree.root, c.span_id FROM tree JOIN llm_calls c ON c.parent_call_id = tree.span_id
  )
  SELECT
    r.span_id AS span_id,
    r.kind AS kind,
    r.name AS name,
    r.trace_id AS trace_id,
    r.session_id AS session_id,
    r.user_id AS user_id,
    r.started_at AS started_at,
    r.duration_ms AS duration_ms,
    r.status AS status,
    count(c.id) AS calls,
    coalesce(sum(c.status <> 'ok'), 0) AS errors,
    coalesce(sum(c.input_tokens), 0) AS input_tokens,
    coalesce(sum(c.output_tokens), 0) AS output_tokens,
    sum(c.cost) AS cost,
    avg(c.duration_ms) AS avg_duration_ms,
    (SELECT group_concat(m, ',') FROM (
       SELECT DISTINCT coalesce(c2.response_model, c2.request_model) AS m
       FROM tree t2 JOIN llm_calls c2 ON c2.span_id = t2.span_id
       WHERE t2.root = r.span_id AND m IS NOT NULL ORDER BY m)) AS models
  FROM llm_runs r
  LEFT JOIN tree t ON t.root = r.span_id
  LEFT JOIN llm_calls c ON c.span_id = t.span_id
  GROUP BY r.span_id;
  `,
  // 1 → 2 (added for the CLI, issue 5): one covering index for `stats`/`latency` scans. Reading
  // these columns from a narrow index instead of the wide table rows makes `stats --by …` over 1M
  // calls several times faster. It leads with started_at, so it also serves every lookup by time
  // and replaces llm_calls_started (one index maintained per insert, as before).
  `
  CREATE INDEX llm_calls_stats ON llm_calls(started_at, request_model, provider, user_id, agent_name,
    session_id, status, duration_ms, input_tokens, output_tokens, cost, currency);
  DROP INDEX llm_calls_started;
  `,
  // 2 → 3 (issue 12): what a model said while reasoning (chat `reasoning_content` / `reasoning`,
  // Responses reasoning summaries), apart from `content` so the answer stays the answer.
  `
  ALTER TABLE llm_messages ADD COLUMN reasoning TEXT;
  `,
  // 3 → 4 (added for the dashboard, issue 13):
  // - llm_run_totals computes each run's totals in a correlated subquery: a lookup by span_id walks
  //   that run's tree only (SQLite does not push a WHERE into a recursive CTE, so the old view
  //   walked every run of the file first). Same columns, plus `currency` (one, or 'mixed').
  // - llm_usage_hourly gains `currency` in its key: cost sums no longer mix currencies. Rows
  //   written before take the currency of their model's latest priced call (USD if none is left);
  //   '' is the currency of calls without a cost.
  // - llm_usage_sessions: one row per session (totals, first/last call), kept by the writer in the
  //   same transaction, so session lists need not group llm_calls. Backfilled from llm_calls.
  // - llm_calls_failed: failed calls by time, for the error views.
  `
  DROP VIEW llm_run_totals;
  CREATE VIEW llm_run_totals AS
  SELECT span_id, kind, name, trace_id, session_id, user_id, started_at, duration_ms, status,
    json_extract(t, '$.calls') AS calls,
    json_extract(t, '$.errors') AS errors,
    json_extract(t, '$.input_tokens') AS input_tokens,
    json_extract(t, '$.output_tokens') AS output_tokens,
    json_extract(t, '$.cost') AS cost,
    json_extract(t, '$.avg_duration_ms') AS avg_duration_ms,
    json_extract(t, '$.models') AS models,
    json_extract(t, '$.currency') AS currency
  FROM (
    SELECT r.span_id, r.kind, r.name, r.trace_id, r.session_id, r.user_id, r.started_at, r.duration_ms, r.status,
      (WITH RECURSIVE tree(span_id) AS (
         SELECT r.span_id
         UNION
         SELECT x.span_id FROM tree JOIN llm_runs x ON x.parent_call_id = tree.span_id
         UNION
         SELECT c.span_id FROM tree JOIN llm_calls c ON c.parent_call_id = tree.span_id
       )
       SELECT json_object(
         'calls', count(c.id),
         'errors', coalesce(sum(c.status <> 'ok'), 0),
         'input_tokens', coalesce(sum(c.input_tokens), 0),
         'output_tokens', coalesce(sum(c.output_tokens), 0),
         'cost', sum(c.cost),
         'avg_duration_ms', avg(c.duration_ms),
         'models', (SELECT group_concat(m, ',') FROM (
            SELECT DISTINCT coalesce(c2.response_model, c2.request_model) AS m
            FROM tree t2 JOIN llm_calls c2 ON c2.span_id = t2.span_id WHERE m IS NOT NULL ORDER BY m)),
         'currency', CASE WHEN min(CASE WHEN c.cost IS NOT NULL THEN coalesce(nullif(c.currency, ''), 'USD') END)
                             = max(CASE WHEN c.cost IS NOT NULL THEN coalesce(nullif(c.currency, ''), 'USD') END)
                          THEN min(CASE WHEN c.cost IS NOT NULL THEN coalesce(nullif(c.currency, ''), 'USD') END)
                          WHEN count(c.cost) > 0 THEN 'mixed' END)
       FROM tree LEFT JOIN llm_calls c ON c.span_id = tree.span_id) AS t
    FROM llm_runs r);

  CREATE TABLE llm_usage_hourly_v3 (
    hour TEXT NOT NULL,
    service_name TEXT NOT NULL DEFAULT '',
    provider TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    user_id TEXT NOT NULL DEFAULT '',
    agent_name TEXT NOT NULL DEFAULT '',
    currency TEXT NOT NULL DEFAULT '',
    calls INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost REAL,
    duration_ms_sum REAL NOT NULL DEFAULT 0,
    duration_ms_max REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, service_name, provider, model, user_id, agent_name, currency)
  ) WITHOUT ROWID;
  INSERT INTO llm_usage_hourly_v3
  SELECT h.hour, h.service_name, h.provider, h.model, h.user_id, h.agent_name,
    CASE WHEN h.cost IS NULL THEN '' ELSE coalesce(m.currency, 'USD') END,
    h.calls, h.errors, h.input_tokens, h.output_tokens, h.cost, h.duration_ms_sum, h.duration_ms_max
  FROM llm_usage_hourly h LEFT JOIN (
    SELECT d.model AS model, (SELECT nullif(c.currency, '') FROM llm_calls c
      WHERE c.request_model = d.model AND c.cost IS NOT NULL ORDER BY c.started_at DESC LIMIT 1) AS currency
    FROM (SELECT DISTINCT model FROM llm_usage_hourly) d
  ) m ON m.model = h.model;
  DROP TABLE llm_usage_hourly;
  ALTER TABLE llm_usage_hourly_v3 RENAME TO llm_usage_hourly;

  CREATE TABLE llm_usage_sessions (
    id INTEGER PRIMARY KEY,
    session_id TEXT UNIQUE NOT NULL,
    first_at TEXT NOT NULL,
    last_at TEXT NOT NULL,
    calls INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost REAL,
    currency TEXT,
    user_id TEXT,
    agent_name TEXT
  );
  CREATE INDEX llm_usage_sessions_last ON llm_usage_sessions(last_at);
  CREATE INDEX llm_usage_sessions_user ON llm_usage_sessions(user_id, last_at);
  INSERT INTO llm_usage_sessions (session_id, first_at, last_at, calls, errors, input_tokens, output_tokens, cost, currency, user_id, agent_name)
  SELECT session_id, first_at, last_at, calls, errors, input_tokens, output_tokens,
    CASE WHEN cur_min = cur_max THEN cost END, CASE WHEN cur_min = cur_max THEN cur_min WHEN cur_min IS NOT NULL THEN 'mixed' END,
    user_id, agent_name
  FROM (
    SELECT session_id, min(started_at) AS first_at, max(started_at) AS last_at, count(*) AS calls, sum(status <> 'ok') AS errors,
      coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(output_tokens), 0) AS output_tokens, sum(cost) AS cost,
      min(CASE WHEN cost IS NOT NULL THEN coalesce(nullif(currency, ''), 'USD') END) AS cur_min,
      max(CASE WHEN cost IS NOT NULL THEN coalesce(nullif(currency, ''), 'USD') END) AS cur_max,
      max(user_id) AS user_id, max(agent_name) AS agent_name
    FROM llm_calls WHERE session_id IS NOT NULL GROUP BY session_id);

  CREATE INDEX llm_calls_failed ON llm_calls(started_at) WHERE status <> 'ok';
  `,
  // 4 → 5 (fleet mode, issue 14; docs/fleet.md):
  // - llm_messages.call_span_id: the call's span id, so both stores join messages to calls the
  //   same way (span ids are stable across stores and processes; call_id is this file's).
  // - model_prices.price_key and llm_calls.price_key: a deterministic key of a price row's content
  //   (src/core/price-key.ts), the same in every call log and in PostgreSQL.
  // - llm_meta: this file's writer_id (random, made here), which names its rows and ledgers in a
  //   fleet database, and ledger_seq, the counter behind change_seq.
  // - change_seq on both ledgers: the ledger_seq of the transaction that last changed the row, so
  //   the shipper finds changed rows by one indexed range (existing rows: 1, shipped once).
  migrateToFleet,
];

function migrateToFleet(db: Db): void {
  db.exec(`
  ALTER TABLE llm_messages ADD COLUMN call_span_id TEXT;
  UPDATE llm_messages SET call_span_id = (SELECT span_id FROM llm_calls WHERE id = llm_messages.call_id);
  CREATE INDEX llm_messages_call_span ON llm_messages(call_span_id);
  ALTER TABLE model_prices ADD COLUMN price_key TEXT;
  ALTER TABLE llm_calls ADD COLUMN price_key TEXT;
  ALTER TABLE llm_usage_hourly ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE llm_usage_sessions ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
  UPDATE llm_usage_hourly SET change_seq = 1;
  UPDATE llm_usage_sessions SET change_seq = 1;
  CREATE INDEX llm_usage_hourly_change ON llm_usage_hourly(change_seq);
  CREATE INDEX llm_usage_sessions_change ON llm_usage_sessions(change_seq);
  CREATE TABLE llm_meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
  `);
  const set = db.prepare('UPDATE model_prices SET price_key = ? WHERE id = ?');
  const rows = db
    .prepare(
      'SELECT id, source, provider, model_pattern, input_per_mtok, cached_input_per_mtok, output_per_mtok, currency, valid_from FROM model_prices',
    )
    .all() as (Parameters<typeof priceKey>[0] & { id: number })[];
  for (const r of rows) set.run(priceKey(r), r.id);
  db.exec('UPDATE llm_calls SET price_key = (SELECT price_key FROM model_prices WHERE id = llm_calls.price_id) WHERE price_id IS NOT NULL');
  const hasLedger = (
    db.prepare('SELECT (SELECT count(*) FROM llm_usage_hourly) + (SELECT count(*) FROM llm_usage_sessions) AS n').get() as {
      n: number;
    }
  ).n;
  const meta = db.prepare('INSERT INTO llm_meta (key, value) VALUES (?, ?)');
  meta.run('writer_id', newWriterId());
  meta.run('ledger_seq', hasLedger > 0 ? 1 : 0);
}

/** A writer id: 128 random bits, as 32 hex digits. */
export function newWriterId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Makes llm_meta's rows where they are missing (a writer id deleted to give a copied call log its
 * own). When both exist, the file is not written.
 */
export function ensureMeta(db: Db): void {
  // Read first: an open that finds both (every open but a copied file's) takes no write lock.
  const have = db.prepare("SELECT count(*) AS n FROM llm_meta WHERE key IN ('writer_id', 'ledger_seq')").get() as { n: number };
  if (have.n === 2) return;
  db.prepare("INSERT OR IGNORE INTO llm_meta (key, value) VALUES ('writer_id', ?), ('ledger_seq', 0)").run(newWriterId());
}

/** This call log's writer id (llm_meta), or null before schema 5. */
export function writerId(db: Db): string | null {
  try {
    const r = db.prepare("SELECT value FROM llm_meta WHERE key = 'writer_id'").get() as { value: unknown } | undefined;
    return r ? String(r.value) : null;
  } catch {
    return null;
  }
}

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * `PRAGMA application_id` of every llm-otel call log ('LLOT'): tells our files apart from other
 * SQLite databases that also use `user_version`.
 */
export const APPLICATION_ID = 0x4c4c4f54;

export class SchemaVersionError extends Error {
  constructor(
    public readonly file: string,
    public readonly found: number,
  ) {
    super(
      `${file} was written by a newer llm-otel (schema version ${found}; this one knows up to ${SCHEMA_VERSION}). ` +
        'Upgrade llm-otel to use it; the file was left untouched.',
    );
    this.name = 'SchemaVersionError';
  }
}

export class ForeignDatabaseError extends Error {
  constructor(public readonly file: string) {
    super(`${file} is a SQLite database but not an llm-otel call log; refusing to touch it (choose another file).`);
    this.name = 'ForeignDatabaseError';
  }
}

/** Current schema version of an open DB (0 for a new file). */
export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Read-only identification: the schema version of an llm-otel DB (0 for an empty file).
 * Throws SchemaVersionError for a newer llm-otel DB and ForeignDatabaseError for anyone else's.
 */
export function checkDatabase(db: Db, file = db.name): number {
  const appId = db.pragma('application_id', { simple: true }) as number;
  const version = schemaVersion(db);
  if (appId === APPLICATION_ID) {
    if (version > SCHEMA_VERSION) throw new SchemaVersionError(file, version);
    return version;
  }
  if (appId !== 0 || version !== 0) throw new ForeignDatabaseError(file);
  const objects = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").get() as { n: number };
  if (objects.n > 0) throw new ForeignDatabaseError(file);
  return 0;
}

/**
 * Brings the DB to SCHEMA_VERSION. Throws SchemaVersionError for a newer DB and
 * ForeignDatabaseError for a SQLite file that holds someone else's tables; both leave it untouched.
 */
export function migrate(db: Db, file = db.name): void {
  // The quick check reads three things (application_id, user_version, sqlite_master); in one read
  // transaction they come from one snapshot. Outside one, each read is its own, and a process
  // starting while another creates the same new file saw the tables without the application id
  // yet — "not an llm-otel call log" (found by test/24 with 4 processes on a new file).
  if (db.transaction(() => checkDatabase(db, file))() === SCHEMA_VERSION) return;
  // IMMEDIATE: processes opening a fresh file at once serialise here, and the check is repeated
  // under the write lock so the loser sees the winner's schema instead of "foreign tables".
  const run = db.transaction(() => {
    const now = checkDatabase(db, file);
    for (let v = now; v < SCHEMA_VERSION; v++) {
      const m = MIGRATIONS[v]!;
      if (typeof m === 'string') db.exec(m);
      else m(db);
    }
    if (now === 0) db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  });
  run.immediate();
}
