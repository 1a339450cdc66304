// Fleet mode's write path, with real processes under llm-otel/register and a real PostgreSQL: rows
// equal to the local spool's column for column; a batch shipped again changes nothing; calls of
// other days land in their day partitions; NUL characters and lone surrogates; a refused row is
// parked, not blocking; a restart resumes from the watermark; with no writable disk, a bounded
// memory queue (drop-oldest, counted).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, test } from 'vitest';
import { startOpenAIPeer } from '../bench/lib/loopback-peers.mjs';
import { EXPORTER, ROOT } from './2x-helpers/spans.mjs';
import { pgTest, runFleetApp, unavailable, withClient } from './helpers/fleet.mjs';
import { closedPort } from './helpers/openai-server.mjs';
import { startPostgres } from './helpers/postgres.mjs';
import { runApp } from './helpers/run-app.mjs';

const X = await import(EXPORTER);
const dist = (p) => join(ROOT, 'dist', 'esm', 'src', 'fleet', p);
const { SpoolReader } = await import(dist('spool.js'));
const { BatchApplier } = await import(dist('apply.js'));
const { Partitions } = await import(dist('partitions.js'));
const { MemoryQueue } = await import(dist('memory.js'));
const { pgMigrate } = await import(dist('schema.js'));

let server;
let peer;
let dir;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'llm-otel-fleet61-'));
  if (unavailable) return;
  server = await startPostgres();
  peer = await startOpenAIPeer([{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }]);
}, 120_000);
afterAll(async () => {
  await peer?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const count = (url, sql) => withClient(url, async (c) => Number((await c.query(sql)).rows[0].n));
const sqlite = (path) => new Database(path, { readonly: true });

const JSONB = new Set(['tags', 'metadata', 'finish_reasons', 'attributes', 'tool_calls']);
const BOOL = new Set(['stream', 'truncated']);

/** A PostgreSQL value in the call log's SQLite form (ISO text, JSON text parsed, 0/1, numbers). */
function asSqlite(col, v) {
  if (v === null) return null;
  if (v instanceof Date) return v.toISOString();
  if (BOOL.has(col)) return v ? 1 : 0;
  if (JSONB.has(col)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v) && col !== 'span_id' && !col.endsWith('_id') && col !== 'price_key') return Number(v);
  return v;
}
function sqliteValue(col, v) {
  if (v === null) return null;
  if (JSONB.has(col)) return JSON.parse(v);
  return v;
}

/** Every column both stores have, row for row (by span id; messages by call, direction, position). */
async function assertSameRows(url, spoolPath) {
  const db = sqlite(spoolPath);
  try {
    await withClient(url, async (c) => {
      for (const [table, key, order] of [
        ['llm_calls', ['span_id'], 'span_id'],
        ['llm_runs', ['span_id'], 'span_id'],
        ['llm_messages', ['call_span_id', 'direction', 'position'], 'call_span_id, direction, position'],
      ]) {
        const local = db.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).all();
        const remote = (await c.query(`SELECT * FROM ${table} ORDER BY ${order}`)).rows;
        assert.equal(remote.length, local.length, `${table}: as many rows`);
        const shared = Object.keys(local[0] ?? {}).filter((k) => remote[0] && k in remote[0] && k !== 'id');
        assert.ok(local.length === 0 || shared.length >= 10, `${table}: columns compared`);
        for (let i = 0; i < local.length; i++) {
          for (const col of shared) {
            assert.deepEqual(
              asSqlite(col, remote[i][col]),
              sqliteValue(col, local[i][col]),
              `${table} ${key.map((k) => local[i][k]).join('/')} ${col}`,
            );
          }
        }
      }
      // The ledgers: this writer's rows are the spool's, and the totals views sum them.
      const hourly = db
        .prepare(
          'SELECT hour, service_name, provider, model, user_id, agent_name, currency, calls, errors, input_tokens, output_tokens, cost FROM llm_usage_hourly ORDER BY hour, model, user_id, agent_name, service_name, provider, currency',
        )
        .all();
      const remoteHourly = (
        await c.query(
          'SELECT hour, service_name, provider, model, user_id, agent_name, currency, calls, errors, input_tokens, output_tokens, cost FROM llm_usage_hourly_total ORDER BY hour, model, user_id, agent_name, service_name, provider, currency',
        )
      ).rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, asSqlite(k, v)])));
      assert.deepEqual(
        remoteHourly.map((r) => ({ ...r, cost: r.cost === null ? null : Number(r.cost.toFixed(12)) })),
        hourly.map((r) => ({ ...r, cost: r.cost === null ? null : Number(r.cost.toFixed(12)) })),
      );
      const sessions = db
        .prepare(
          'SELECT session_id, first_at, last_at, calls, input_tokens, output_tokens, user_id FROM llm_usage_sessions ORDER BY session_id',
        )
        .all();
      const remoteSessions = (
        await c.query(
          'SELECT session_id, first_at, last_at, calls, input_tokens, output_tokens, user_id FROM llm_usage_sessions_total ORDER BY session_id',
        )
      ).rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, asSqlite(k, v)])));
      assert.deepEqual(remoteSessions, sessions);
      // The price rows the calls name, by key, with the same content.
      const keys = db.prepare('SELECT DISTINCT price_key FROM llm_calls WHERE price_key IS NOT NULL').pluck().all();
      for (const k of keys) {
        const p = db.prepare('SELECT * FROM model_prices WHERE price_key = ?').get(k);
        const r = (await c.query('SELECT * FROM model_prices WHERE price_key = $1', [k])).rows[0];
        assert.ok(r, `price row ${k} shipped`);
        for (const col of [
          'provider',
          'model_pattern',
          'input_per_mtok',
          'cached_input_per_mtok',
          'output_per_mtok',
          'currency',
          'source',
        ]) {
          assert.deepEqual(r[col], p[col], `model_prices ${col}`);
        }
      }
    });
  } finally {
    db.close();
  }
}

pgTest(
  'an app in fleet mode: every call, message, run, ledger row and price row in PostgreSQL equals the local spool',
  async () => {
    const url = await server.createDatabase('same');
    const spool = join(dir, 'same.db');
    const r = await runFleetApp({
      runApp,
      dir,
      openaiUrl: peer.baseURL,
      url,
      spool,
      args: ['--calls', '60', '--agent'],
      ready: async () => (await count(url, 'SELECT count(*) AS n FROM llm_calls')) === 60,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.result.failed, 0);
    assert.equal(r.result.pgLoaded, false, "the app's thread never loads the PostgreSQL driver");
    assert.equal(r.stderr, '', 'no warning: nothing went wrong');
    await assertSameRows(url, spool);
    const db = sqlite(spool);
    const writerId = db.prepare("SELECT value FROM llm_meta WHERE key = 'writer_id'").pluck().get();
    const maxId = db.prepare('SELECT max(id) FROM llm_calls').pluck().get();
    const runs = db.prepare('SELECT count(*) FROM llm_runs').pluck().get();
    db.close();
    assert.equal(runs, 15);
    await withClient(url, async (c) => {
      const w = (await c.query('SELECT * FROM llm_otel_writers')).rows;
      assert.equal(w.length, 1);
      assert.equal(w[0].writer_id, writerId);
      assert.equal(Number(w[0].last_call_id), maxId);
      assert.equal(Number(w[0].shipped_calls), 60);
      assert.equal(Number(w[0].dropped_calls), 0);
      assert.equal(w[0].source, spool);
      assert.equal((await c.query('SELECT count(DISTINCT writer_id)::int AS n FROM llm_calls')).rows[0].n, 1);
      // Today's and tomorrow's partitions exist ahead of time.
      const today = new Date().toISOString().slice(0, 10).replaceAll('-', '');
      const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');
      for (const t of ['llm_calls', 'llm_messages', 'llm_runs']) {
        for (const d of [today, tomorrow])
          assert.equal((await c.query('SELECT to_regclass($1) IS NOT NULL AS ok', [`${t}_p${d}`])).rows[0].ok, true);
      }
    });
  },
  120_000,
);

/** A spool written by the exporter's writer with the given calls (kind 'call' items). */
function writeSpool(path, items) {
  const w = new X.CallLogWriter({ path });
  assert.equal(w.writeBatch(items), true);
  w.close();
}

function callItem(spanId, startedAt, over = {}, messages = 1) {
  return {
    kind: 'call',
    call: {
      span_id: spanId,
      trace_id: `trace-${spanId}`,
      parent_span_id: null,
      parent_call_id: null,
      service_name: 'svc',
      session_id: 'sess',
      user_id: 'u',
      agent_name: null,
      conversation_id: null,
      tags: '["t"]',
      metadata: null,
      operation: 'chat',
      api: 'chat.completions',
      provider: 'openai',
      server_address: null,
      server_port: 443,
      request_model: 'gpt-4o-mini',
      response_model: null,
      response_id: null,
      request_id: null,
      temperature: null,
      top_p: null,
      max_tokens: null,
      stream: 1,
      finish_reasons: '["stop"]',
      input_tokens: 10,
      output_tokens: 3,
      total_tokens: 13,
      cached_input_tokens: null,
      reasoning_tokens: null,
      usage_source: 'provider',
      cost: 0.001,
      currency: 'USD',
      price_id: null,
      started_at: startedAt,
      ended_at: startedAt,
      duration_ms: 12.5,
      ttft_ms: null,
      status: 'ok',
      error_type: null,
      error_message: null,
      http_status: 200,
      retry_count: 0,
      attributes: '{"k":"v"}',
      ...over,
    },
    messages: Array.from({ length: messages }, (_, i) => ({
      direction: 'input',
      position: i,
      role: 'user',
      content: `m${i}`,
      content_chars: 2,
      truncated: 0,
      tool_calls: null,
      tool_call_id: null,
      name: null,
      token_estimate: null,
      reasoning: null,
    })),
  };
}

pgTest(
  'calls dated yesterday, tomorrow and last year land in their day partitions; NUL and lone surrogates are stored as U+FFFD; a refused row is parked',
  async () => {
    const url = await server.createDatabase('days');
    const spool = join(dir, 'days.db');
    const now = Date.now();
    const at = (ms) => new Date(ms).toISOString();
    const yesterday = at(now - 86_400_000);
    const tomorrow = at(now + 86_400_000);
    const lastYear = at(now - 366 * 86_400_000);
    writeSpool(spool, [
      callItem('a000000000000001', yesterday),
      callItem('a000000000000002', tomorrow),
      callItem('a000000000000003', lastYear, {
        user_id: 'nul\u0000user',
        attributes: JSON.stringify({ nul: 'a\u0000b', lone: 'x\ud800y', 'k\u0000': 1 }),
        tags: JSON.stringify(['t\u0000']),
      }),
      // Out of range for PostgreSQL's integer: this row alone is set aside.
      callItem('a000000000000004', yesterday, { server_port: 99_999_999_999 }),
    ]);
    const r = await runFleetApp({
      runApp,
      dir,
      openaiUrl: peer.baseURL,
      url,
      spool,
      args: ['--calls', '2', '--nul'],
      ready: async () => (await count(url, 'SELECT count(*) AS n FROM llm_calls')) === 5,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /refused a row \(.*out of range.*\); it was set aside in llm_otel_parked/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    await withClient(url, async (c) => {
      const where = async (table, col, id) =>
        (await c.query(`SELECT tableoid::regclass::text AS p FROM ${table} WHERE ${col} = $1`, [id])).rows.map((x) => x.p);
      const part = (table, iso) => `${table}_p${iso.slice(0, 10).replaceAll('-', '')}`;
      assert.deepEqual(await where('llm_calls', 'span_id', 'a000000000000001'), [part('llm_calls', yesterday)]);
      assert.deepEqual(await where('llm_calls', 'span_id', 'a000000000000002'), [part('llm_calls', tomorrow)]);
      assert.deepEqual(await where('llm_calls', 'span_id', 'a000000000000003'), [part('llm_calls', lastYear)]);
      assert.deepEqual(await where('llm_messages', 'call_span_id', 'a000000000000003'), [part('llm_messages', lastYear)]);
      const odd = (await c.query("SELECT user_id, attributes, tags FROM llm_calls WHERE span_id = 'a000000000000003'")).rows[0];
      assert.equal(odd.user_id, 'nul\uFFFDuser');
      assert.deepEqual(odd.attributes, { nul: 'a\uFFFDb', lone: 'x\uFFFDy', 'k\uFFFD': 1 });
      assert.deepEqual(odd.tags, ['t\uFFFD']);
      // The app's own calls with NUL in content, user and metadata.
      const app = (
        await c.query(
          "SELECT c.user_id, c.metadata, m.content FROM llm_calls c JOIN llm_messages m ON m.call_span_id = c.span_id WHERE m.role = 'user' AND c.span_id NOT LIKE 'a00%' ORDER BY m.content",
        )
      ).rows;
      assert.equal(app.length, 2);
      for (const row of app) {
        assert.match(row.user_id, /^user\uFFFD\d$/);
        assert.deepEqual(row.metadata, { note: 'a\uFFFDb' });
        assert.match(row.content, /^hello\uFFFDworld \d$/);
      }
      // The refused row: parked with its error, counted, and the rest of its batch shipped.
      const parked = (await c.query('SELECT kind, span_id, error FROM llm_otel_parked')).rows;
      assert.equal(parked.length, 1);
      assert.equal(parked[0].kind, 'call');
      assert.equal(parked[0].span_id, 'a000000000000004');
      assert.match(parked[0].error, /out of range/);
      const w = (await c.query('SELECT parked_rows, shipped_calls FROM llm_otel_writers')).rows[0];
      assert.equal(Number(w.parked_rows), 1);
      assert.equal(Number(w.shipped_calls), 5);
      // The ledger counts every call of the spool, the parked one too (it happened).
      assert.equal(Number((await c.query('SELECT sum(calls) AS n FROM llm_usage_hourly_total')).rows[0].n), 6);
    });
  },
  120_000,
);

/** The whole content of the fleet tables, as text (volatile bookkeeping left out). */
async function snapshot(c) {
  const out = {};
  for (const [t, order] of [
    ['llm_calls', 'span_id'],
    ['llm_messages', 'call_span_id, direction, position'],
    ['llm_runs', 'span_id'],
    ['llm_usage_hourly', 'hour, model, user_id, currency, writer_id'],
    ['llm_usage_sessions', 'session_id, writer_id'],
    ['model_prices', 'price_key'],
  ]) {
    out[t] = (
      await c.query(`SELECT count(*)::int AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY ${order}), '')) AS h FROM ${t} x`)
    ).rows[0];
  }
  const w = (await c.query('SELECT last_call_id, last_run_id, last_ledger_seq, shipped_calls FROM llm_otel_writers')).rows;
  out.writers = w;
  return out;
}

pgTest(
  'the same batch shipped three times: no row added, no total changed (watermark first, row keys and absolute ledgers behind it)',
  async () => {
    const url = await server.createDatabase('thrice');
    const spool = join(dir, 'thrice.db');
    const items = [];
    const base = Date.now() - 3_600_000;
    for (let i = 0; i < 30; i++)
      items.push(
        callItem(`b0000000000000${String(i).padStart(2, '0')}`, new Date(base + i * 1000).toISOString(), { session_id: `s${i % 4}` }, 2),
      );
    writeSpool(spool, items);
    await withClient(url, async (c) => {
      await pgMigrate(c);
      const reader = new SpoolReader({ path: spool, maxCalls: 500 });
      const writer = { writerId: reader.writerId(), source: spool };
      const applier = new BatchApplier(new Partitions(), writer);
      const batch = reader.read({ callId: 0, runId: 0, ledgerSeq: 0 });
      assert.equal(batch.calls.length, 30);
      const first = await applier.apply(c, batch);
      assert.equal(first.kind, 'done');
      assert.equal(first.inserted, 30);
      const after = await snapshot(c);
      assert.equal(after.llm_calls.n, 30);
      assert.equal(after.llm_messages.n, 60);
      // Sent again (a retry after a lost answer): the stored watermark says it is done.
      for (let i = 0; i < 2; i++) {
        const again = await applier.apply(c, batch);
        assert.equal(again.kind, 'moved');
        assert.deepEqual(await snapshot(c), after);
      }
      // Even forced through past the watermark, the rows and totals stay as they are.
      for (let i = 0; i < 2; i++) {
        await c.query('UPDATE llm_otel_writers SET last_call_id = 0, last_run_id = 0, last_ledger_seq = 0');
        const forced = await applier.apply(c, batch);
        assert.equal(forced.kind, 'done');
        assert.equal(forced.inserted, 0);
        const s = await snapshot(c);
        for (const t of ['llm_calls', 'llm_messages', 'llm_runs', 'llm_usage_hourly', 'llm_usage_sessions', 'model_prices'])
          assert.deepEqual(s[t], after[t], t);
      }
      assert.equal(Number((await c.query('SELECT sum(calls) AS n FROM llm_usage_hourly_total')).rows[0].n), 30);
      reader.close();
    });
  },
);

pgTest(
  'a restart resumes from the stored watermark: calls kept while the database was unreachable are shipped by the next run, nothing twice',
  async () => {
    const url = await server.createDatabase('resume');
    const spool = join(dir, 'resume.db');
    const dead = new URL(url);
    dead.port = String(await closedPort());
    const down = await runFleetApp({ runApp, dir, openaiUrl: peer.baseURL, url: dead.toString(), spool, args: ['--calls', '20'] });
    assert.equal(down.code, 0, down.stderr);
    assert.match(
      down.stderr,
      /fleet database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/resume_\d+ cannot be reached \(.*\); calls are kept in the spool .*resume\.db and shipped when it is back/,
    );
    assert.doesNotMatch(down.stderr, /password|:test@/, 'the password is never printed');
    assert.equal(sqlite(spool).prepare('SELECT count(*) FROM llm_calls').pluck().get(), 20);
    // The next run (database up) ships the backlog with its own calls.
    const up = await runFleetApp({
      runApp,
      dir,
      openaiUrl: peer.baseURL,
      url,
      spool,
      args: ['--calls', '20'],
      ready: async () => (await count(url, 'SELECT count(*) AS n FROM llm_calls')) === 40,
    });
    assert.equal(up.code, 0, up.stderr);
    assert.equal(await count(url, 'SELECT count(*) AS n FROM llm_calls'), 40);
    // A row removed below the watermark stays removed: the third run starts where the second ended.
    await withClient(url, (c) => c.query('DELETE FROM llm_calls WHERE span_id = (SELECT min(span_id) FROM llm_calls)'));
    const third = await runFleetApp({
      runApp,
      dir,
      openaiUrl: peer.baseURL,
      url,
      spool,
      args: ['--calls', '5'],
      ready: async () => (await count(url, 'SELECT count(*) AS n FROM llm_calls')) === 44,
    });
    assert.equal(third.code, 0, third.stderr);
    assert.equal(await count(url, 'SELECT count(*) AS n FROM llm_calls'), 44);
    await withClient(url, async (c) => {
      const w = (await c.query('SELECT shipped_calls, last_call_id FROM llm_otel_writers')).rows[0];
      assert.equal(Number(w.shipped_calls), 45);
      assert.equal(Number(w.last_call_id), 45);
    });
    assert.equal(await count(url, 'SELECT sum(calls) AS n FROM llm_usage_hourly_total'), 45);
  },
  180_000,
);

pgTest(
  'two processes sharing one spool: every call shipped once and counted once',
  async () => {
    const url = await server.createDatabase('shared');
    const spool = join(dir, 'shared.db');
    const all = async () => (await count(url, 'SELECT count(*) AS n FROM llm_calls')) === 600;
    const [a, b] = await Promise.all([
      runFleetApp({ runApp, dir, openaiUrl: peer.baseURL, url, spool, args: ['--calls', '300', '--session', 'a'], ready: all }),
      runFleetApp({ runApp, dir, openaiUrl: peer.baseURL, url, spool, args: ['--calls', '300', '--session', 'b'], ready: all }),
    ]);
    for (const r of [a, b]) assert.equal(r.code, 0, r.stderr);
    assert.equal(a.stderr + b.stderr, '');
    assert.equal(await count(url, 'SELECT count(*) AS n FROM llm_calls'), 600);
    await withClient(url, async (c) => {
      const w = (await c.query('SELECT shipped_calls FROM llm_otel_writers')).rows;
      assert.deepEqual(
        w.map((x) => Number(x.shipped_calls)),
        [600],
        'one writer (one spool), each call counted once',
      );
      assert.equal(Number((await c.query('SELECT sum(calls) AS n FROM llm_usage_hourly_total')).rows[0].n), 600);
    });
  },
  120_000,
);

pgTest(
  'no writable disk: one warning, the calls reach PostgreSQL through the memory queue',
  async () => {
    const url = await server.createDatabase('nodisk');
    const r = await runFleetApp({
      runApp,
      dir,
      openaiUrl: peer.baseURL,
      url,
      spool: '/proc/llm-otel-no-such-dir/spool.db',
      args: ['--calls', '30', '--agent'],
      ready: async () => (await count(url, 'SELECT count(*) AS n FROM llm_calls')) === 30,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /fleet mode: the spool \/proc\/llm-otel-no-such-dir\/spool\.db cannot be used \(.*\); calls for .* wait in a bounded memory queue instead/,
    );
    assert.equal(await count(url, 'SELECT count(*) AS n FROM llm_calls'), 30);
    assert.equal(await count(url, 'SELECT count(*) AS n FROM llm_runs'), 8);
    assert.equal(await count(url, "SELECT count(*) AS n FROM llm_messages WHERE role = 'user'"), 30);
    assert.equal(await count(url, 'SELECT sum(calls) AS n FROM llm_usage_hourly_total'), 30);
    await withClient(url, async (c) => {
      const w = (await c.query('SELECT source, shipped_calls, dropped_calls FROM llm_otel_writers')).rows;
      assert.deepEqual(
        w.map((x) => [x.source, Number(x.shipped_calls), Number(x.dropped_calls)]),
        [['memory', 30, 0]],
      );
    });
  },
  120_000,
);

test('the memory queue drops the oldest calls first and counts them; the ledgers still count every call', () => {
  const drops = [];
  const q = new MemoryQueue({ maxItems: 5, maxCalls: 100, onDrop: (n) => drops.push(n) });
  for (let i = 0; i < 8; i++) q.push(callItem(`c${i}`, '2026-03-01T10:00:00.000Z'), true);
  assert.equal(q.pending, 5);
  assert.equal(q.dropped, 3);
  assert.deepEqual(drops, [1]);
  const b = q.next();
  assert.deepEqual(
    b.calls.map((c) => c.call.span_id),
    ['c3', 'c4', 'c5', 'c6', 'c7'],
  );
  assert.equal(b.dropped, 3);
  assert.equal(b.hourly.length, 1);
  assert.equal(b.hourly[0].calls, 8);
  assert.equal(b.sessions[0].calls, 8);
  // Not acknowledged: the same rows again; acknowledged: gone, and the ledgers sent only when changed.
  assert.equal(q.next().calls.length, 5);
  q.ack();
  assert.equal(q.pending, 0);
  assert.equal(q.next().hourly.length, 0);
  q.ack();
  q.push(callItem('c8', '2026-03-01T10:00:00.000Z'), false); // sampled out: counted, not stored
  const c = q.next();
  assert.equal(c.calls.length, 0);
  assert.equal(c.hourly[0].calls, 9);
});
