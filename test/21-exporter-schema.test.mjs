// Exporter: schema creation, pragmas, file mode, migrations, refusal of newer and foreign DBs,
// and the read-only helper.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { test } from 'vitest';
import { EXPORTER, emit, makeProvider, scratch } from './2x-helpers/spans.mjs';

const X = await import(EXPORTER);
const {
  CallLogWriter,
  SqliteCallLogExporter,
  migrate,
  MIGRATIONS,
  openForWriting,
  openReadOnly,
  SCHEMA_VERSION,
  APPLICATION_ID,
  SchemaVersionError,
  ForeignDatabaseError,
  CallLogMissingError,
} = X;

function capture() {
  const lines = [];
  const seen = new Set();
  return {
    lines,
    warner: {
      warn(k, m) {
        if (!seen.has(k)) {
          seen.add(k);
          lines.push(m);
        }
      },
      reset(k) {
        seen.delete(k);
      },
    },
  };
}

test('a fresh call log: every table, view and index, WAL, pragmas, mode 0600 for the file and its WAL', () => {
  const s = scratch('fresh');
  const path = `${s.dir}/nested/dir/calls.db`; // missing parent directories are created
  const db = openForWriting(path, { busyTimeoutMs: 1234 });
  try {
    const objects = db.prepare("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all();
    const names = (type) => objects.filter((o) => o.type === type).map((o) => o.name);
    assert.deepEqual(names('table'), [
      'llm_calls',
      'llm_messages',
      'llm_meta',
      'llm_runs',
      'llm_usage_hourly',
      'llm_usage_sessions',
      'model_prices',
    ]);
    assert.deepEqual(names('view'), ['llm_run_totals']);
    for (const idx of [
      'llm_calls_trace',
      'llm_calls_session',
      'llm_calls_user',
      'llm_calls_agent',
      'llm_calls_model',
      'llm_calls_stats',
      'llm_calls_parent_call',
      'llm_calls_failed',
      'llm_usage_sessions_last',
      'llm_messages_call_span',
      'llm_usage_hourly_change',
      'llm_usage_sessions_change',
    ]) {
      assert.ok(names('index').includes(idx), idx);
    }
    const cols = db.prepare('SELECT name FROM pragma_table_info(?)').pluck();
    assert.deepEqual(cols.all('llm_messages'), [
      'call_id',
      'direction',
      'position',
      'role',
      'content',
      'content_chars',
      'truncated',
      'tool_calls',
      'tool_call_id',
      'name',
      'token_estimate',
      'reasoning',
      'call_span_id',
    ]);
    assert.deepEqual(cols.all('llm_usage_hourly'), [
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
      'change_seq',
    ]);
    assert.deepEqual(cols.all('model_prices'), [
      'id',
      'provider',
      'model_pattern',
      'input_per_mtok',
      'cached_input_per_mtok',
      'output_per_mtok',
      'currency',
      'valid_from',
      'valid_to',
      'source',
      'price_key',
    ]);
    assert.equal(cols.all('llm_calls').length, 46);
    assert.equal(cols.all('llm_calls').at(-1), 'price_key');
    // A writer id, made with the file: 32 hex digits.
    assert.match(db.prepare("SELECT value FROM llm_meta WHERE key = 'writer_id'").pluck().get(), /^[0-9a-f]{32}$/);
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(db.pragma('application_id', { simple: true }), APPLICATION_ID);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('synchronous', { simple: true }), 1); // NORMAL
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    assert.equal(db.pragma('busy_timeout', { simple: true }), 1234);
    db.exec("INSERT INTO llm_calls (span_id, trace_id, operation, started_at, status) VALUES ('s', 't', 'chat', 'x', 'ok')");
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(`${path}-wal`).mode & 0o777, 0o600);
    // Messages cascade with their call.
    db.exec("INSERT INTO llm_messages (call_id, direction, position) VALUES (1, 'input', 0)");
    db.exec('DELETE FROM llm_calls');
    assert.equal(db.prepare('SELECT count(*) n FROM llm_messages').get().n, 0);
  } finally {
    db.close();
    s.cleanup();
  }
});

test('re-opening migrates nothing and keeps the rows', async () => {
  const s = scratch('reopen');
  const path = `${s.dir}/calls.db`;
  for (let round = 0; round < 3; round++) {
    const exporter = new SqliteCallLogExporter({ path, worker: false });
    const { provider, tracer } = makeProvider({ exporter });
    emit(tracer, {});
    await provider.shutdown();
  }
  const db = new Database(path);
  assert.equal(db.prepare('SELECT count(*) n FROM llm_calls').get().n, 3);
  migrate(db); // no-op at the current version
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  db.close();
  s.cleanup();
});

test('an older call log is migrated forward in one transaction, keeping its rows', () => {
  const s = scratch('older');
  const path = `${s.dir}/calls.db`;
  const db = new Database(path);
  db.exec(MIGRATIONS[0]);
  db.pragma(`application_id = ${APPLICATION_ID}`);
  db.pragma('user_version = 1');
  db.exec(
    "INSERT INTO llm_calls (span_id, trace_id, operation, started_at, status) VALUES ('s1', 't1', 'chat', '2026-01-01T00:00:00.000Z', 'ok')",
  );
  db.exec("INSERT INTO llm_messages (call_id, direction, position, role, content) VALUES (1, 'output', 0, 'assistant', 'Done.')");
  db.close();
  const w = new CallLogWriter({ path });
  assert.equal(
    w.writeBatch([
      {
        kind: 'run',
        run: {
          span_id: 'r1',
          trace_id: 't1',
          parent_span_id: null,
          parent_call_id: null,
          kind: 'tool',
          name: 't',
          session_id: null,
          user_id: null,
          agent_name: null,
          tool_call_id: null,
          started_at: 'x',
          ended_at: null,
          duration_ms: null,
          status: 'ok',
          error_message: null,
          attributes: null,
        },
      },
    ]),
    true,
  );
  assert.equal(w.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.equal(w.db.prepare('SELECT count(*) n FROM llm_calls').get().n, 1);
  // Migration 3 added llm_messages.reasoning: empty for the rows written before it.
  assert.deepEqual(w.db.prepare('SELECT content, reasoning FROM llm_messages').all(), [{ content: 'Done.', reasoning: null }]);
  w.close();
  s.cleanup();
});

function snapshot(dir) {
  return Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(`${dir}/${f}`).toString('hex')]));
}

test('a DB from a newer llm-otel is refused with one clear warning and left byte-for-byte untouched', () => {
  const s = scratch('newer');
  const path = `${s.dir}/calls.db`;
  const db = new Database(path);
  db.pragma(`application_id = ${APPLICATION_ID}`);
  db.exec("CREATE TABLE llm_calls (id INTEGER PRIMARY KEY, future_column TEXT); INSERT INTO llm_calls VALUES (1, 'x')");
  db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
  db.close();
  const before = snapshot(s.dir);
  const cap = capture();
  const w = new CallLogWriter({ path, warner: cap.warner, retryMinMs: 1 });
  const item = {
    kind: 'run',
    run: {
      span_id: 'a',
      trace_id: 'b',
      parent_span_id: null,
      parent_call_id: null,
      kind: 'tool',
      name: 't',
      session_id: null,
      user_id: null,
      agent_name: null,
      tool_call_id: null,
      started_at: 'x',
      ended_at: null,
      duration_ms: null,
      status: 'ok',
      error_message: null,
      attributes: null,
    },
  };
  assert.equal(w.writeBatch([item]), false);
  assert.equal(w.writeBatch([item], { force: true }), false);
  w.close();
  assert.equal(cap.lines.length, 1, cap.lines.join('\n'));
  assert.match(cap.lines[0], new RegExp(`written by a newer llm-otel \\(schema version ${SCHEMA_VERSION + 5}`));
  assert.match(cap.lines[0], /left untouched/);
  assert.deepEqual(snapshot(s.dir), before);
  assert.throws(() => openReadOnly(path), SchemaVersionError);
  const raw = new Database(path);
  assert.throws(() => migrate(raw), SchemaVersionError);
  raw.close();
  assert.deepEqual(snapshot(s.dir), before);
  s.cleanup();
});

test('a foreign SQLite DB is refused and left untouched (tables without our id, or another app id)', () => {
  const s = scratch('foreign');
  const a = `${s.dir}/app.db`;
  const d1 = new Database(a);
  d1.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT); INSERT INTO users VALUES (1, 'a@b.c')");
  d1.close();
  const b = `${s.dir}/other.db`;
  const d2 = new Database(b);
  d2.pragma('user_version = 3'); // someone else's versioned, still empty DB
  d2.close();
  const before = snapshot(s.dir);
  for (const path of [a, b]) {
    const cap = capture();
    const w = new CallLogWriter({ path, warner: cap.warner });
    assert.equal(w.writeBatch([{ kind: 'run', run: { span_id: 'a', trace_id: 'b', kind: 'tool', started_at: 'x', status: 'ok' } }]), false);
    w.close();
    assert.equal(cap.lines.length, 1);
    assert.match(cap.lines[0], /not an llm-otel call log; refusing to touch it/);
    assert.throws(() => openReadOnly(path), ForeignDatabaseError);
  }
  assert.deepEqual(snapshot(s.dir), before);
  s.cleanup();
});

test('openReadOnly: missing file, read-only connection, current version', () => {
  const s = scratch('ro');
  const path = `${s.dir}/calls.db`;
  assert.throws(
    () => openReadOnly(path),
    (e) => e instanceof CallLogMissingError && e.code === 'ENOENT' && /no call log at/.test(e.message),
  );
  assert.equal(existsSync(path), false, 'a read helper never creates the file');
  openForWriting(path, { busyTimeoutMs: 100 }).close();
  const db = openReadOnly(path);
  assert.equal(db.readonly, true);
  assert.equal(db.prepare('SELECT count(*) n FROM llm_calls').get().n, 0);
  assert.throws(
    () => db.exec("INSERT INTO llm_runs (span_id, trace_id, kind, started_at, status) VALUES ('a','b','tool','x','ok')"),
    /readonly/,
  );
  db.close();
  // An empty file (created but never written) reads as an empty call log.
  const empty = `${s.dir}/empty.db`;
  writeFileSync(empty, '');
  const e = openReadOnly(empty);
  assert.equal(e.prepare('SELECT count(*) n FROM llm_calls').get().n, 0);
  assert.throws(
    () => e.exec("INSERT INTO llm_runs (span_id, trace_id, kind, started_at, status) VALUES ('a','b','tool','x','ok')"),
    /readonly|query_only|attempt to write/i,
  );
  e.close();
  assert.equal(readFileSync(empty).length, 0, 'the empty file was not written');
  s.cleanup();
});

test('a version-2 call log (the previous release) migrates to 3: run totals by lookup, hourly cost per currency, sessions backfilled', () => {
  const s = scratch('v2');
  const path = `${s.dir}/calls.db`;
  const db = new Database(path);
  db.exec(MIGRATIONS[0]);
  db.exec(MIGRATIONS[1]);
  db.pragma(`application_id = ${APPLICATION_ID}`);
  db.pragma('user_version = 2');
  const call = db.prepare(
    `INSERT INTO llm_calls (span_id, trace_id, parent_call_id, session_id, user_id, operation, request_model, started_at, status,
      input_tokens, output_tokens, cost, currency, duration_ms) VALUES (?, 't1', ?, ?, ?, 'chat', ?, ?, ?, 10, 5, ?, ?, 100)`,
  );
  db.prepare(
    "INSERT INTO llm_runs (span_id, trace_id, parent_call_id, kind, name, started_at, status) VALUES ('r1', 't1', NULL, 'agent', 'a', '2026-01-01T00:00:00.000Z', 'ok')",
  ).run();
  db.prepare(
    "INSERT INTO llm_runs (span_id, trace_id, parent_call_id, kind, name, started_at, status) VALUES ('r2', 't1', 'c1', 'tool', 't', '2026-01-01T00:00:01.000Z', 'ok')",
  ).run();
  call.run('c1', 'r1', 's1', 'u1', 'gpt-4o', '2026-01-01T00:00:00.100Z', 'ok', 0.5, 'USD');
  call.run('c2', 'r2', 's1', 'u2', 'qwen-plus', '2026-01-01T00:00:02.000Z', 'ok', 2, 'CNY');
  call.run('c3', 'r1', 's1', 'u2', 'gpt-4o', '2026-01-01T00:00:03.000Z', 'error', null, null);
  call.run('c4', null, 's2', null, 'qwen-plus', '2026-01-01T01:00:00.000Z', 'ok', 3, 'CNY');
  const hourly = db.prepare(
    'INSERT INTO llm_usage_hourly (hour, model, calls, errors, cost, duration_ms_sum, duration_ms_max) VALUES (?, ?, ?, ?, ?, 0, 0)',
  );
  hourly.run('2026-01-01T00:00:00.000Z', 'gpt-4o', 2, 1, 0.5);
  hourly.run('2026-01-01T00:00:00.000Z', 'qwen-plus', 1, 0, 2);
  hourly.run('2026-01-01T01:00:00.000Z', 'qwen-plus', 1, 0, 3);
  hourly.run('2026-01-01T01:00:00.000Z', 'o3', 4, 4, null); // failed calls only: no cost
  const totalsBefore = db
    .prepare('SELECT span_id, calls, errors, input_tokens, output_tokens, cost, models FROM llm_run_totals ORDER BY 1')
    .all();
  db.close();

  const ro = openReadOnly(path); // an older file is migrated forward once, then opened read-only
  try {
    assert.equal(ro.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.deepEqual(
      ro.prepare('SELECT span_id, calls, errors, input_tokens, output_tokens, cost, models FROM llm_run_totals ORDER BY 1').all(),
      totalsBefore,
    );
    assert.deepEqual(ro.prepare("SELECT calls, cost, currency FROM llm_run_totals WHERE span_id = 'r1'").get(), {
      calls: 3,
      cost: 2.5,
      currency: 'mixed',
    });
    const plan = ro
      .prepare("EXPLAIN QUERY PLAN SELECT * FROM llm_run_totals WHERE span_id = 'r1'")
      .all()
      .map((r) => r.detail)
      .join('\n');
    assert.match(plan, /SEARCH r USING INDEX sqlite_autoindex_llm_runs_1 \(span_id=\?\)/, 'a lookup by run does not scan every run');
    assert.deepEqual(ro.prepare('SELECT hour, model, currency, calls, cost FROM llm_usage_hourly ORDER BY 1, 2').all(), [
      { hour: '2026-01-01T00:00:00.000Z', model: 'gpt-4o', currency: 'USD', calls: 2, cost: 0.5 },
      { hour: '2026-01-01T00:00:00.000Z', model: 'qwen-plus', currency: 'CNY', calls: 1, cost: 2 },
      { hour: '2026-01-01T01:00:00.000Z', model: 'o3', currency: '', calls: 4, cost: null },
      { hour: '2026-01-01T01:00:00.000Z', model: 'qwen-plus', currency: 'CNY', calls: 1, cost: 3 },
    ]);
    assert.deepEqual(
      ro
        .prepare('SELECT session_id, first_at, last_at, calls, errors, input_tokens, cost, currency FROM llm_usage_sessions ORDER BY 1')
        .all(),
      [
        {
          session_id: 's1',
          first_at: '2026-01-01T00:00:00.100Z',
          last_at: '2026-01-01T00:00:03.000Z',
          calls: 3,
          errors: 1,
          input_tokens: 30,
          cost: null,
          currency: 'mixed',
        },
        {
          session_id: 's2',
          first_at: '2026-01-01T01:00:00.000Z',
          last_at: '2026-01-01T01:00:00.000Z',
          calls: 1,
          errors: 0,
          input_tokens: 10,
          cost: 3,
          currency: 'CNY',
        },
      ],
    );
  } finally {
    ro.close();
  }
  s.cleanup();
});

test('the writer keeps llm_usage_sessions: totals, first/last call, one currency or mixed, the latest user', async () => {
  const s = scratch('sessions');
  const path = `${s.dir}/calls.db`;
  const { callRow } = await import('./4x-helpers/calllog.mjs');
  const w = new CallLogWriter({ path });
  const c = (n, over) => ({ kind: 'call', messages: [], call: callRow({ span_id: `c${n}`.padEnd(16, '0'), ...over }) });
  assert.equal(
    w.writeBatch([
      c(1, { session_id: 's1', user_id: 'ann', started_at: '2026-01-01T00:00:05.000Z', cost: 1, currency: 'USD' }),
      c(2, { session_id: 's1', user_id: 'bob', started_at: '2026-01-01T00:00:01.000Z', cost: 2, currency: 'USD' }),
      c(3, { session_id: 's2', started_at: '2026-01-01T00:00:02.000Z', status: 'error', cost: null }),
      c(4, { started_at: '2026-01-01T00:00:02.000Z' }),
    ]),
    true,
  );
  assert.equal(
    w.writeBatch([
      c(5, { session_id: 's1', user_id: 'cat', started_at: '2026-01-01T00:00:09.000Z', cost: 4, currency: 'USD' }),
      c(6, { session_id: 's2', user_id: 'dan', started_at: '2026-01-01T00:00:00.000Z', cost: 1, currency: 'CNY' }),
      c(7, { session_id: 's2', started_at: '2026-01-01T00:00:03.000Z', cost: 1, currency: 'EUR' }),
    ]),
    true,
  );
  assert.deepEqual(
    w.db.prepare('SELECT session_id, first_at, last_at, calls, errors, cost, currency, user_id FROM llm_usage_sessions ORDER BY 1').all(),
    [
      {
        session_id: 's1',
        first_at: '2026-01-01T00:00:01.000Z',
        last_at: '2026-01-01T00:00:09.000Z',
        calls: 3,
        errors: 0,
        cost: 7,
        currency: 'USD',
        user_id: 'cat',
      },
      {
        session_id: 's2',
        first_at: '2026-01-01T00:00:00.000Z',
        last_at: '2026-01-01T00:00:03.000Z',
        calls: 3,
        errors: 1,
        cost: null,
        currency: 'mixed',
        user_id: 'dan',
      },
    ],
  );
  w.close();
  s.cleanup();
});
