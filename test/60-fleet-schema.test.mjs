// Fleet mode's schema: PostgreSQL migrations (fresh; two processes at once; a newer schema refused
// untouched), the PostgreSQL tables against the SQLite call log's columns, and the SQLite call
// log's own step to schema 5 (span-id and price-key columns, writer id, ledger change marks)
// with its backfill.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, test } from 'vitest';
import { EXPORTER, ROOT, scratch } from './2x-helpers/spans.mjs';
import { pgTest, unavailable, withClient } from './helpers/fleet.mjs';
import { startPostgres } from './helpers/postgres.mjs';

const X = await import(EXPORTER);
const F = await import(join(ROOT, 'dist', 'esm', 'src', 'fleet', 'schema.js'));
const { priceKey } = await import(join(ROOT, 'dist', 'esm', 'src', 'core', 'price-key.js'));

let server;
beforeAll(async () => {
  if (!unavailable) server = await startPostgres();
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

const tables = async (c) =>
  (
    await c.query("SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r','p','v') ORDER BY relname")
  ).rows.map((r) => r.relname);
const columns = async (c, table) =>
  (await c.query('SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position', [table])).rows.map(
    (r) => r.column_name,
  );

pgTest('a fresh database is migrated to the current version: every table, the views, the same columns as the SQLite call log', async () => {
  const url = await server.createDatabase('fresh');
  await withClient(url, async (c) => {
    assert.equal(await F.pgSchemaVersion(c), 0);
    await F.pgMigrate(c);
    assert.equal(await F.pgSchemaVersion(c), F.PG_SCHEMA_VERSION);
    await F.pgMigrate(c); // again: nothing to do
    assert.equal((await c.query('SELECT count(*)::int AS n FROM llm_otel_schema')).rows[0].n, F.PG_SCHEMA_VERSION);
    const names = await tables(c);
    for (const t of [
      'llm_calls',
      'llm_messages',
      'llm_runs',
      'llm_usage_hourly',
      'llm_usage_hourly_total',
      'llm_usage_sessions',
      'llm_usage_sessions_total',
      'model_prices',
      'llm_otel_writers',
      'llm_otel_parked',
      'llm_otel_schema',
    ]) {
      assert.ok(names.includes(t), t);
    }
    // The event tables are partitioned by day (no partition yet: the shipper makes them).
    const parted = (await c.query("SELECT relname FROM pg_class WHERE relkind = 'p' ORDER BY relname")).rows.map((r) => r.relname);
    assert.deepEqual(parted, ['llm_calls', 'llm_messages', 'llm_runs']);
    // The same columns as SQLite's, by name: per-file ids give way to span ids and price keys.
    const db = new Database(':memory:');
    X.migrate(db);
    const sqlite = (t) => db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(t);
    const pgCalls = await columns(c, 'llm_calls');
    assert.deepEqual(
      sqlite('llm_calls').filter((n) => !pgCalls.includes(n)),
      ['price_id'],
      'every llm_calls column but the per-file price id',
    );
    assert.deepEqual(
      pgCalls.filter((n) => !sqlite('llm_calls').includes(n)),
      ['writer_id', 'ingest_xid'],
    );
    const pgMessages = await columns(c, 'llm_messages');
    assert.deepEqual(
      sqlite('llm_messages').filter((n) => !pgMessages.includes(n)),
      ['call_id'],
    );
    assert.deepEqual(
      pgMessages.filter((n) => !sqlite('llm_messages').includes(n)),
      ['started_at'],
      'messages carry their call start: they are partitioned by it',
    );
    const pgRuns = await columns(c, 'llm_runs');
    assert.deepEqual(
      sqlite('llm_runs').filter((n) => !pgRuns.includes(n)),
      [],
    );
    const pgHourly = await columns(c, 'llm_usage_hourly');
    assert.deepEqual(
      sqlite('llm_usage_hourly').filter((n) => !pgHourly.includes(n)),
      ['change_seq'],
    );
    const pgPrices = await columns(c, 'model_prices');
    assert.deepEqual(
      sqlite('model_prices').filter((n) => !pgPrices.includes(n)),
      ['id'],
    );
    db.close();
  });
});

/** Runs pgMigrate in a child process; resolves with its exit code and output. */
function migrateInChild(url) {
  const code = `
    const pg = require('pg');
    import(${JSON.stringify(join(ROOT, 'dist', 'esm', 'src', 'fleet', 'schema.js'))}).then(async (F) => {
      const c = new pg.Client({ connectionString: process.argv[1] });
      await c.connect();
      await F.pgMigrate(c);
      console.log(await F.pgSchemaVersion(c));
      await c.end();
    }).catch((e) => { console.error(e); process.exit(1); });`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', code, url], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    // A hang fails the test instead of stalling the run.
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', () => clearTimeout(kill));
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => resolve({ code, out: out.trim(), err }));
  });
}

pgTest(
  'two processes migrating a new database at once: both succeed, the schema is made once',
  async () => {
    for (let round = 0; round < 3; round++) {
      const url = await server.createDatabase(`race${round}`);
      const [a, b] = await Promise.all([migrateInChild(url), migrateInChild(url)]);
      assert.equal(a.code, 0, a.err);
      assert.equal(b.code, 0, b.err);
      assert.equal(a.out, String(F.PG_SCHEMA_VERSION));
      assert.equal(b.out, String(F.PG_SCHEMA_VERSION));
      await withClient(url, async (c) => {
        assert.deepEqual(
          (await c.query('SELECT version FROM llm_otel_schema ORDER BY version')).rows.map((r) => r.version),
          Array.from({ length: F.PG_SCHEMA_VERSION }, (_, i) => i + 1),
        );
      });
    }
  },
  60_000,
);

pgTest('a database of a newer llm-otel is refused and left untouched', async () => {
  const url = await server.createDatabase('newer');
  await withClient(url, async (c) => {
    await F.pgMigrate(c);
    await c.query('INSERT INTO llm_otel_schema (version) VALUES ($1)', [F.PG_SCHEMA_VERSION + 3]);
    const before = await tables(c);
    await assert.rejects(F.pgMigrate(c), (e) => e instanceof F.PgSchemaVersionError && /newer llm-otel/.test(e.message));
    assert.deepEqual(await tables(c), before);
    assert.equal((await c.query('SELECT max(version) AS v FROM llm_otel_schema')).rows[0].v, F.PG_SCHEMA_VERSION + 3);
  });
});

/** A schema-4 call log (the previous release) with calls, messages, prices and ledgers. */
function version4File(path) {
  const db = new Database(path);
  for (const m of X.MIGRATIONS.slice(0, 4)) db.exec(m);
  db.pragma(`application_id = ${X.APPLICATION_ID}`);
  db.pragma('user_version = 4');
  const price = db.prepare(
    "INSERT INTO model_prices (provider, model_pattern, input_per_mtok, cached_input_per_mtok, output_per_mtok, currency, valid_from, valid_to, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'builtin')",
  );
  price.run('openai', 'gpt-4o-mini', 0.15, 0.075, 0.6, 'USD', null, null);
  price.run(null, 'House-Model', 1, null, 2, 'EUR', '2026-01-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z');
  const call = db.prepare(
    "INSERT INTO llm_calls (span_id, trace_id, operation, started_at, status, price_id, cost, currency) VALUES (?, 't', 'chat', ?, 'ok', ?, ?, ?)",
  );
  call.run('aaaa000000000001', '2026-03-01T10:00:00.000Z', 1, 0.001, 'USD');
  call.run('aaaa000000000002', '2026-03-01T11:00:00.000Z', 2, 0.5, 'EUR');
  call.run('aaaa000000000003', '2026-03-01T12:00:00.000Z', null, null, null);
  const msg = db.prepare("INSERT INTO llm_messages (call_id, direction, position, role, content) VALUES (?, 'input', ?, 'user', ?)");
  msg.run(1, 0, 'one');
  msg.run(1, 1, 'one more');
  msg.run(3, 0, 'three');
  db.exec(
    "INSERT INTO llm_usage_hourly (hour, model, currency, calls) VALUES ('2026-03-01T10:00:00.000Z', 'gpt-4o-mini', 'USD', 1), ('2026-03-01T11:00:00.000Z', 'House-Model', 'EUR', 1)",
  );
  db.exec(
    "INSERT INTO llm_usage_sessions (session_id, first_at, last_at, calls) VALUES ('s1', '2026-03-01T10:00:00.000Z', '2026-03-01T12:00:00.000Z', 3)",
  );
  db.close();
}

test('SQLite 4 → 5: messages get their call span id, prices and calls their price key, the file a writer id, ledger rows a change mark', () => {
  const s = scratch('v4to5');
  const path = `${s.dir}/calls.db`;
  version4File(path);
  const db = X.openForWriting(path, { busyTimeoutMs: 1000 });
  try {
    assert.equal(db.pragma('user_version', { simple: true }), X.SCHEMA_VERSION);
    assert.deepEqual(db.prepare('SELECT call_id, call_span_id FROM llm_messages ORDER BY call_id, position').all(), [
      { call_id: 1, call_span_id: 'aaaa000000000001' },
      { call_id: 1, call_span_id: 'aaaa000000000001' },
      { call_id: 3, call_span_id: 'aaaa000000000003' },
    ]);
    const prices = db.prepare('SELECT * FROM model_prices ORDER BY id').all();
    for (const p of prices) assert.equal(p.price_key, priceKey(p));
    assert.match(prices[0].price_key, /^[0-9a-f]{16}$/);
    assert.notEqual(prices[0].price_key, prices[1].price_key);
    assert.deepEqual(db.prepare('SELECT span_id, price_key FROM llm_calls ORDER BY id').all(), [
      { span_id: 'aaaa000000000001', price_key: prices[0].price_key },
      { span_id: 'aaaa000000000002', price_key: prices[1].price_key },
      { span_id: 'aaaa000000000003', price_key: null },
    ]);
    assert.deepEqual(db.prepare('SELECT DISTINCT change_seq FROM llm_usage_hourly').pluck().all(), [1]);
    assert.deepEqual(db.prepare('SELECT DISTINCT change_seq FROM llm_usage_sessions').pluck().all(), [1]);
    const meta = Object.fromEntries(
      db
        .prepare('SELECT key, value FROM llm_meta')
        .all()
        .map((r) => [r.key, r.value]),
    );
    assert.match(meta.writer_id, /^[0-9a-f]{32}$/);
    assert.equal(meta.ledger_seq, 1);
  } finally {
    db.close();
  }
  // The writer goes on from there: the next transaction's ledger rows get the next mark.
  const w = new X.CallLogWriter({ path });
  const call = {
    span_id: 'bbbb000000000001',
    trace_id: 't2',
    parent_span_id: null,
    parent_call_id: null,
    service_name: null,
    session_id: 's1',
    user_id: null,
    agent_name: null,
    conversation_id: null,
    tags: null,
    metadata: null,
    operation: 'chat',
    api: null,
    provider: 'openai',
    server_address: null,
    server_port: null,
    request_model: 'gpt-4o-mini',
    response_model: null,
    response_id: null,
    request_id: null,
    temperature: null,
    top_p: null,
    max_tokens: null,
    stream: 0,
    finish_reasons: null,
    input_tokens: 10,
    output_tokens: 2,
    total_tokens: 12,
    cached_input_tokens: null,
    reasoning_tokens: null,
    usage_source: null,
    cost: 0.002,
    currency: 'USD',
    price_id: 1,
    started_at: '2026-03-01T10:30:00.000Z',
    ended_at: null,
    duration_ms: 5,
    ttft_ms: null,
    status: 'ok',
    error_type: null,
    error_message: null,
    http_status: null,
    retry_count: 0,
    attributes: null,
  };
  const messages = [
    {
      direction: 'input',
      position: 0,
      role: 'user',
      content: 'x',
      content_chars: 1,
      truncated: 0,
      tool_calls: null,
      tool_call_id: null,
      name: null,
      token_estimate: null,
      reasoning: null,
    },
  ];
  assert.equal(w.writeBatch([{ kind: 'call', call, messages }]), true);
  const d = w.db;
  assert.equal(
    d.prepare("SELECT price_key FROM llm_calls WHERE span_id = 'bbbb000000000001'").pluck().get(),
    d.prepare('SELECT price_key FROM model_prices WHERE id = 1').pluck().get(),
  );
  assert.equal(
    d
      .prepare("SELECT call_span_id FROM llm_messages m JOIN llm_calls c ON c.id = m.call_id WHERE c.span_id = 'bbbb000000000001'")
      .pluck()
      .get(),
    'bbbb000000000001',
  );
  assert.equal(
    d.prepare("SELECT change_seq FROM llm_usage_hourly WHERE hour = '2026-03-01T10:00:00.000Z' AND provider = 'openai'").pluck().get(),
    2,
  );
  assert.equal(
    d.prepare("SELECT change_seq FROM llm_usage_hourly WHERE hour = '2026-03-01T10:00:00.000Z' AND provider = ''").pluck().get(),
    1,
    'untouched rows keep theirs',
  );
  assert.equal(d.prepare("SELECT change_seq FROM llm_usage_sessions WHERE session_id = 's1'").pluck().get(), 2);
  assert.equal(d.prepare("SELECT value FROM llm_meta WHERE key = 'ledger_seq'").pluck().get(), 2);
  w.close();
  s.cleanup();
});

test('price_key: content only — the same row in two files has one key, retiring it keeps it, any rate or start changes it', () => {
  const row = {
    source: 'builtin',
    provider: 'openai',
    model_pattern: 'GPT-4o-mini',
    input_per_mtok: 0.15,
    cached_input_per_mtok: 0.075,
    output_per_mtok: 0.6,
    currency: 'USD',
    valid_from: '2026-01-01',
    valid_to: null,
  };
  const k = priceKey(row);
  assert.equal(priceKey({ ...row, model_pattern: 'gpt-4o-mini', valid_from: '2026-01-01T00:00:00.000Z' }), k);
  assert.equal(priceKey({ ...row, valid_to: '2026-06-01T00:00:00.000Z' }), k);
  for (const change of [
    { output_per_mtok: 0.61 },
    { cached_input_per_mtok: null },
    { currency: 'EUR' },
    { valid_from: '2026-01-02' },
    { source: 'user' },
    { provider: null },
  ]) {
    assert.notEqual(priceKey({ ...row, ...change }), k, JSON.stringify(change));
  }
  // Written by two call logs: the rows' keys agree.
  const s = scratch('pricekey');
  const keys = [];
  for (const name of ['a.db', 'b.db']) {
    const db = X.openForWriting(`${s.dir}/${name}`, { busyTimeoutMs: 1000 });
    db.prepare(
      "INSERT INTO model_prices (provider, model_pattern, input_per_mtok, output_per_mtok, currency, source) VALUES ('openai', 'm', 1, 2, 'USD', 'user')",
    ).run();
    keys.push(db.prepare('SELECT * FROM model_prices').get());
    db.close();
  }
  assert.equal(priceKey(keys[0]), priceKey(keys[1]));
  s.cleanup();
});
