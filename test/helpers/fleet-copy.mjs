// TEST-ONLY: copies a SQLite call log into a fleet database in PostgreSQL, the way a shipper would
// (one writer, rows in id order, PostgreSQL assigning its own ids; messages related to their call
// by span id; ledgers as this writer's partial rows; prices by a content key). It stands in for the
// real shipper in the read-side tests until that lands; the lead may swap it for the shipper.
//
//   await copySqliteToPostgres(sqlitePath, pgUrl, { writerId: 'w1' });

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { DIST } from '../4x-helpers/calllog.mjs';

const JSON_COLS = new Set(['tags', 'metadata', 'finish_reasons', 'attributes', 'tool_calls']);
const BOOL_COLS = new Set(['stream', 'truncated']);

export async function fleetApi() {
  return import(join(DIST, 'src', 'fleet', 'schema.js'));
}

/** A price row's key from its content (the same row gives the same key in every call log). */
export function priceKeyOf(p) {
  const parts = [
    p.provider,
    p.model_pattern,
    p.input_per_mtok,
    p.cached_input_per_mtok,
    p.output_per_mtok,
    p.currency,
    p.valid_from,
    p.valid_to,
    p.source,
  ];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

function pgValue(col, v) {
  if (v === null || v === undefined) return null;
  if (BOOL_COLS.has(col)) return v !== 0;
  return v;
}

function cast(col) {
  return JSON_COLS.has(col) ? '::jsonb' : '';
}

async function insert(client, table, cols, rows) {
  let chunk = [];
  const flush = async () => {
    const values = [];
    const tuples = chunk.map(
      (r) =>
        `(${cols
          .map((c) => {
            values.push(pgValue(c, r[c]));
            return `$${values.length}${cast(c)}`;
          })
          .join(', ')})`,
    );
    await client.query(`INSERT INTO ${table} (${cols.join(', ')}) VALUES ${tuples.join(', ')}`, values);
    chunk = [];
  };
  for (const r of rows) {
    chunk.push(r);
    if (chunk.length === 500) await flush();
  }
  if (chunk.length) await flush();
}

/** Rows of a statement, mapped, without holding them all. */
function* mapped(stmt, fn) {
  for (const r of stmt.iterate()) yield fn(r);
}

/** Creates the day partitions of the event tables that rows started at `times` need. */
export async function ensurePartitions(client, times) {
  const { PARTITIONED_TABLES, dayOf, partitionName } = await fleetApi();
  const days = new Set(times.map((t) => dayOf(t).day));
  for (const day of days) {
    const { next } = dayOf(`${day}T00:00:00.000Z`);
    for (const table of PARTITIONED_TABLES) {
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${partitionName(table, day)} PARTITION OF ${table} FOR VALUES FROM ('${day}T00:00:00Z') TO ('${next}T00:00:00Z')`,
      );
    }
  }
}

export async function copySqliteToPostgres(sqlitePath, url, { writerId = 'test-writer', migrate = true } = {}) {
  const { pgMigrate } = await fleetApi();
  const { CALL_COLUMNS, RUN_COLUMNS, MESSAGE_COLUMNS } = await import(join(DIST, 'exporter', 'rows.js'));
  const lite = new Database(sqlitePath, { readonly: true, fileMustExist: true });
  const client = new pg.Client({ connectionString: url, options: '-c TimeZone=UTC' });
  client.on('error', () => {});
  await client.connect();
  try {
    if (migrate) await pgMigrate(client);
    const prices = lite.prepare('SELECT * FROM model_prices ORDER BY id').all();
    const keyOfPriceId = new Map(prices.map((p) => [p.id, p.price_key ?? priceKeyOf(p)]));
    const count = (t) => lite.prepare(`SELECT count(*) AS n FROM ${t}`).get().n;
    const days = lite
      .prepare(
        'SELECT DISTINCT substr(started_at, 1, 10) AS d FROM llm_calls UNION SELECT DISTINCT substr(started_at, 1, 10) FROM llm_runs',
      )
      .pluck()
      .all();
    const last = (t) => lite.prepare(`SELECT coalesce(max(id), 0) AS m FROM ${t}`).get().m;
    await client.query('BEGIN');
    await ensurePartitions(
      client,
      days.map((d) => `${d}T00:00:00.000Z`),
    );
    // Unique: a newer call log's column lists may already name price_key / call_span_id.
    const callCols = [...new Set([...CALL_COLUMNS.filter((c) => c !== 'price_id'), 'price_key', 'writer_id'])];
    await insert(
      client,
      'llm_calls',
      callCols,
      mapped(lite.prepare('SELECT * FROM llm_calls ORDER BY id'), (c) => ({
        ...c,
        price_key: c.price_key ?? (c.price_id == null ? null : (keyOfPriceId.get(c.price_id) ?? null)),
        writer_id: writerId,
      })),
    );
    await insert(
      client,
      'llm_messages',
      [...new Set(['call_span_id', 'started_at', ...MESSAGE_COLUMNS])],
      mapped(
        lite.prepare(
          'SELECT m.*, c.span_id AS call_span_id, c.started_at AS started_at FROM llm_messages m JOIN llm_calls c ON c.id = m.call_id ORDER BY m.call_id, m.direction, m.position',
        ),
        (m) => m,
      ),
    );
    await insert(
      client,
      'llm_runs',
      [...new Set([...RUN_COLUMNS, 'writer_id'])],
      mapped(lite.prepare('SELECT * FROM llm_runs ORDER BY id'), (r) => ({ ...r, writer_id: writerId })),
    );
    const hourCols = [
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
    ];
    await insert(
      client,
      'llm_usage_hourly',
      hourCols,
      mapped(lite.prepare('SELECT * FROM llm_usage_hourly'), (h) => ({ ...h, writer_id: writerId })),
    );
    const sessCols = [
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
    ];
    await insert(
      client,
      'llm_usage_sessions',
      sessCols,
      mapped(lite.prepare('SELECT * FROM llm_usage_sessions ORDER BY id'), (x) => ({ ...x, writer_id: writerId })),
    );
    const priceCols = [
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
    ];
    for (const p of prices) {
      const values = priceCols.map((c) => (c === 'price_key' ? (p.price_key ?? priceKeyOf(p)) : p[c]));
      await client.query(
        `INSERT INTO model_prices (${priceCols.join(', ')}) VALUES (${priceCols.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT (price_key) DO NOTHING`,
        values,
      );
    }
    await client.query(
      `INSERT INTO llm_otel_writers (writer_id, host, source, last_call_id, last_run_id, shipped_calls) VALUES ($1, 'test', $2, $3, $4, $5)
       ON CONFLICT (writer_id) DO UPDATE SET last_call_id = excluded.last_call_id, last_run_id = excluded.last_run_id,
         shipped_calls = llm_otel_writers.shipped_calls + excluded.shipped_calls, last_seen = now()`,
      [writerId, sqlitePath, last('llm_calls'), last('llm_runs'), count('llm_calls')],
    );
    await client.query('COMMIT');
    return { calls: count('llm_calls'), runs: count('llm_runs'), messages: count('llm_messages') };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    lite.close();
    await client.end();
  }
}
