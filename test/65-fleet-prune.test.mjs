// Fleet mode, the read side's hard parts on a real PostgreSQL 15: `prune` drops whole day
// partitions (and deletes only inside the day the cutoff falls in) and never touches the ledgers;
// `tail` shows a call whose transaction commits after a later call's (ids are not commit order);
// `sql` is read-only and bounded by a statement timeout; a PostgreSQL that is down, silent or
// restarting gives one line and a non-zero exit, and the dashboard outlives a server restart.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, test } from 'vitest';
import { BIN, callRow, cli, message, runRow, scratch, traceId, writeItems } from './4x-helpers/calllog.mjs';
import { getJson, startUi } from './4x-helpers/ui.mjs';
import { copySqliteToPostgres, ensurePartitions } from './helpers/fleet-copy.mjs';
import { postgresUnavailable, startPostgres } from './helpers/postgres.mjs';

const why = postgresUnavailable();
if (why && process.env.CI) throw new Error(`PostgreSQL is required in CI: ${why}`);
const pgTest = why ? test.skip : test;
if (why) console.log(`65-fleet-prune: skipped: ${why}`);

let s;
let server;

beforeAll(async () => {
  if (why) return;
  s = scratch('fleet-prune');
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
  s?.cleanup();
});

async function withClient(url, fn) {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => {});
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Two calls (with a message each) and a run on each of four days, 06:00 and 18:00 UTC. */
function daysItems() {
  const items = [];
  let n = 0;
  for (const day of ['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19']) {
    for (const hour of ['06', '18']) {
      n++;
      const at = `${day}T${hour}:00:00.000Z`;
      items.push({
        kind: 'call',
        call: callRow({
          span_id: `c${String(n).padStart(15, '0')}`,
          trace_id: traceId(n),
          session_id: `s${day}`,
          user_id: 'u',
          started_at: at,
          cost: 0.001,
          currency: 'USD',
        }),
        messages: [message({ content: `hello ${n}` })],
      });
      items.push({ kind: 'run', run: runRow({ span_id: `a${String(n).padStart(15, '0')}`, trace_id: traceId(n), started_at: at }) });
    }
  }
  return items;
}

const tables = async (c, like) =>
  (await c.query("SELECT relname FROM pg_class WHERE relname LIKE $1 AND relkind = 'r' ORDER BY relname", [like])).rows.map(
    (r) => r.relname,
  );

pgTest(
  'prune drops whole days as partitions, deletes inside the cutoff day only, keeps the ledgers; the same counts as on SQLite',
  async () => {
    const file = join(s.dir, 'days.db');
    await writeItems(file, daysItems());
    const url = await server.createDatabase('prune');
    await copySqliteToPostgres(file, url, { writerId: 'w1' });
    const ledgers = (c) =>
      c.query(
        `SELECT (SELECT count(*) FROM llm_usage_hourly)::int AS hours, (SELECT sum(calls) FROM llm_usage_hourly)::int AS calls,
              (SELECT sum(cost) FROM llm_usage_hourly) AS cost, (SELECT count(*) FROM llm_usage_sessions)::int AS sessions`,
      );
    const before = await withClient(url, async (c) => (await ledgers(c)).rows[0]);
    assert.deepEqual([before.hours, before.calls, before.sessions], [8, 8, 4]);
    const cutoff = '2026-11-18T12:00:00.000Z';

    // --dry-run: counts, drops nothing.
    const dry = cli(['prune', '--older-than', cutoff, '--dry-run', '--json', '--db', url]);
    assert.equal(dry.code, 0, dry.stderr);
    const d = JSON.parse(dry.stdout);
    assert.deepEqual([d.deleted_calls, d.deleted_messages, d.deleted_runs, d.dropped_partitions.length], [5, 5, 5, 6]);
    await withClient(url, async (c) => assert.equal((await tables(c, 'llm_calls_p%')).length, 4, 'dry run dropped nothing'));

    const r = cli(['prune', '--older-than', cutoff, '--json', '--db', url]);
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout);
    assert.deepEqual(got.dropped_partitions, [
      'llm_calls_p20261116',
      'llm_messages_p20261116',
      'llm_runs_p20261116',
      'llm_calls_p20261117',
      'llm_messages_p20261117',
      'llm_runs_p20261117',
    ]);
    // The same meaning as on SQLite: the same numbers deleted.
    const lite = cli(['prune', '--older-than', cutoff, '--json', '--db', file]);
    const l = JSON.parse(lite.stdout);
    assert.deepEqual([got.deleted_calls, got.deleted_messages, got.deleted_runs], [l.deleted_calls, l.deleted_messages, l.deleted_runs]);
    assert.deepEqual([got.deleted_calls, got.deleted_messages, got.deleted_runs], [5, 5, 5]);

    await withClient(url, async (c) => {
      // Whole days gone as tables, not as deleted rows.
      assert.deepEqual(await tables(c, 'llm_%_p2026111%'), [
        'llm_calls_p20261118',
        'llm_calls_p20261119',
        'llm_messages_p20261118',
        'llm_messages_p20261119',
        'llm_runs_p20261118',
        'llm_runs_p20261119',
      ]);
      // The boundary day: the 06:00 rows went, the 18:00 rows stayed.
      const left = (await c.query('SELECT started_at::text AS t FROM llm_calls ORDER BY started_at')).rows.map((x) => x.t);
      assert.deepEqual(left, ['2026-11-18 18:00:00+00', '2026-11-19 06:00:00+00', '2026-11-19 18:00:00+00']);
      assert.equal((await c.query('SELECT count(*)::int AS n FROM llm_messages')).rows[0].n, 3);
      assert.equal((await c.query('SELECT count(*)::int AS n FROM llm_runs')).rows[0].n, 3);
      // The ledgers count every call ever observed: untouched.
      assert.deepEqual((await ledgers(c)).rows[0], before);
    });
    // `stats --rollup` still reports all 8 calls; `stats` the 3 stored.
    assert.equal(JSON.parse(cli(['stats', '--rollup', '--json', '--db', url]).stdout).rows[0].calls, 8);
    assert.equal(JSON.parse(cli(['stats', '--json', '--db', url]).stdout).rows[0].calls, 3);
    assert.match(
      cli(['prune', '--older-than', cutoff, '--db', url]).stdout,
      /^deleted 0 calls, 0 messages, 0 runs started before .* \(0 day partitions dropped\)/,
    );
  },
);

pgTest('prune --max-size drops the oldest whole days until the event tables fit; --vacuum runs', async () => {
  const file = join(s.dir, 'size.db');
  await writeItems(file, daysItems());
  const url = await server.createDatabase('prune_size');
  await copySqliteToPostgres(file, url, { writerId: 'w1' });
  const dry = JSON.parse(cli(['prune', '--max-size', '1', '--dry-run', '--json', '--db', url]).stdout);
  assert.equal(dry.cutoff, '2026-11-20T00:00:00.000Z', 'every day would have to go to fit in 1 byte');
  assert.equal(dry.dropped_partitions.length, 12);
  // Fits once the two oldest days are gone: the size of the two newest days' partitions.
  const sizes = await withClient(url, async (c) =>
    (
      await c.query(
        `SELECT substring(relname from '_p(\\d{8})$') AS day, sum(pg_total_relation_size(oid))::bigint AS b FROM pg_class
         WHERE relname ~ '^llm_(calls|messages|runs)_p\\d{8}$' AND relkind = 'r' GROUP BY 1 ORDER BY 1`,
      )
    ).rows.map((r) => Number(r.b)),
  );
  assert.equal(sizes.length, 4);
  const r = cli(['prune', '--max-size', String(sizes[2] + sizes[3]), '--vacuum', '--json', '--db', url]);
  assert.equal(r.code, 0, r.stderr);
  const got = JSON.parse(r.stdout);
  assert.equal(got.cutoff, '2026-11-18T00:00:00.000Z');
  assert.deepEqual([got.deleted_calls, got.deleted_runs, got.vacuumed], [4, 4, true]);
  assert.ok(got.bytes_after < got.bytes_before);
  await withClient(url, async (c) => assert.deepEqual(await tables(c, 'llm_calls_p%'), ['llm_calls_p20261118', 'llm_calls_p20261119']));
});

pgTest('tail shows a call whose transaction commits after a later call has been shown — once', async () => {
  const url = await server.createDatabase('tail');
  const file = join(s.dir, 'tail.db');
  await writeItems(file, [
    { kind: 'call', call: callRow({ span_id: 'e000000000000001', started_at: '2026-11-20T10:00:00.000Z' }), messages: [] },
  ]);
  await copySqliteToPostgres(file, url, { writerId: 'w1' });
  await withClient(url, (c) => ensurePartitions(c, ['2026-11-20T00:00:00.000Z']));

  const child = spawn(process.execPath, [BIN, 'tail', '--json', '--interval', '100ms', '--db', url], { stdio: ['ignore', 'pipe', 'pipe'] });
  // SIGINT ends it below; this bound kills it whatever happens.
  const kill = setTimeout(() => child.kill('SIGKILL'), 120_000);
  child.on('exit', () => clearTimeout(kill));
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  const lines = () =>
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  const until = async (pred, what) => {
    const t0 = Date.now();
    while (!pred()) {
      if (Date.now() - t0 > 20_000) throw new Error(`timed out waiting for ${what}; tail printed ${out} ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const insert = (c, span) =>
    c.query(
      "INSERT INTO llm_calls (span_id, trace_id, operation, started_at, status, writer_id) VALUES ($1, $2, 'chat', '2026-11-20T11:00:00Z', 'ok', 'w2') RETURNING id",
      [span, traceId(50)],
    );
  const t1 = new pg.Client({ connectionString: url });
  const t2 = new pg.Client({ connectionString: url });
  t1.on('error', () => {});
  t2.on('error', () => {});
  await t1.connect();
  await t2.connect();
  try {
    await until(() => lines().length === 1, 'the first call');
    // T1 takes the lower id but commits last.
    await t1.query('BEGIN');
    const idA = Number((await insert(t1, 'e00000000000000a')).rows[0].id);
    await t2.query('BEGIN');
    const idB = Number((await insert(t2, 'e00000000000000b')).rows[0].id);
    assert.ok(idA < idB);
    await t2.query('COMMIT');
    await until(() => lines().some((c) => c.span_id === 'e00000000000000b'), 'the later call');
    await new Promise((r) => setTimeout(r, 400)); // a few more polls with T1 still open
    await t1.query('COMMIT');
    await until(() => lines().some((c) => c.span_id === 'e00000000000000a'), 'the call committed out of id order');
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(
      lines().map((c) => c.span_id),
      ['e000000000000001', 'e00000000000000b', 'e00000000000000a'],
      'each call once, in the order they became visible',
    );
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
    await t1.end();
    await t2.end();
  }
  assert.equal(err, '');
});

pgTest('tail outlives a PostgreSQL restart: one line when it goes, one when it is back, no call missed', async () => {
  const url = await server.createDatabase('tail_restart');
  const file = join(s.dir, 'tail-restart.db');
  await writeItems(file, [
    { kind: 'call', call: callRow({ span_id: 'e100000000000001', started_at: '2026-11-20T10:00:00.000Z' }), messages: [] },
  ]);
  await copySqliteToPostgres(file, url, { writerId: 'w1' });
  const child = spawn(process.execPath, [BIN, 'tail', '--json', '--interval', '100ms', '--db', url], { stdio: ['ignore', 'pipe', 'pipe'] });
  // SIGINT ends it below; this bound kills it whatever happens.
  const kill = setTimeout(() => child.kill('SIGKILL'), 120_000);
  child.on('exit', () => clearTimeout(kill));
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  const exited = new Promise((r) => child.once('exit', (code) => r(code)));
  const until = async (pred, what) => {
    const t0 = Date.now();
    while (!pred()) {
      if (Date.now() - t0 > 30_000) throw new Error(`timed out waiting for ${what}; tail printed ${out} ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    await until(() => out.includes('e100000000000001'), 'the first call');
    await server.pause();
    await until(() => /retrying/.test(err), 'the outage line');
    assert.equal(child.exitCode, null, 'still following');
    await server.start();
    await withClient(url, (c) =>
      c.query(
        "INSERT INTO llm_calls (span_id, trace_id, operation, started_at, status, writer_id) VALUES ('e100000000000002', $1, 'chat', '2026-11-20T11:00:00Z', 'ok', 'w2')",
        [traceId(60)],
      ),
    );
    await until(() => out.includes('e100000000000002'), 'the call written after the restart');
  } finally {
    await server.start().catch(() => {});
    child.kill('SIGINT');
  }
  assert.equal(await exited, 0);
  assert.deepEqual(
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).span_id),
    ['e100000000000001', 'e100000000000002'],
  );
  const lines = err.split('\n').filter(Boolean);
  assert.equal(lines.length, 2, err);
  assert.match(lines[0], /^llm-otel: tail: PostgreSQL at postgres:\/\/postgres:\*\*\*@[^ ]+: .*; retrying every 100 ms$/);
  assert.match(lines[1], /^llm-otel: tail: postgres:\/\/postgres:\*\*\*@[^ ]+ is back$/);
});

pgTest('sql: read-only (writes refused in one line, nothing changed) and bounded by a statement timeout', async () => {
  const url = await server.createDatabase('sql');
  const file = join(s.dir, 'sql.db');
  await writeItems(file, [{ kind: 'call', call: callRow({ span_id: 'f000000000000001' }), messages: [] }]);
  await copySqliteToPostgres(file, url, { writerId: 'w1' });
  for (const q of [
    "INSERT INTO llm_calls (span_id, trace_id, operation, started_at, status, writer_id) VALUES ('x', 'y', 'chat', now(), 'ok', 'w')",
    'DELETE FROM llm_calls',
    'CREATE TABLE evil (x int)',
    'DROP TABLE llm_calls CASCADE',
    'SELECT 1; DELETE FROM llm_calls',
    'SELECT 1; COMMIT; DELETE FROM llm_calls',
    'WITH d AS (DELETE FROM llm_calls RETURNING 1) SELECT * FROM d',
    "SELECT set_config('transaction_read_only', 'off', true), count(*) FROM llm_calls",
    "SELECT nextval(pg_get_serial_sequence('llm_calls', 'id'))",
  ]) {
    const r = cli(['sql', q, '--db', url]);
    assert.equal(r.code, 2, `${q}: ${r.stdout}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^llm-otel: sql: [^\n]+\n$/, `${q}: one line`);
  }
  assert.match(cli(['sql', 'DELETE FROM llm_calls', '--db', url]).stderr, /only queries that read are allowed/);
  await withClient(url, async (c) => {
    assert.equal((await c.query('SELECT count(*)::int AS n FROM llm_calls')).rows[0].n, 1, 'nothing changed');
    assert.equal((await c.query("SELECT to_regclass('evil') AS t")).rows[0].t, null);
  });
  const t0 = Date.now();
  const slow = cli(['sql', 'SELECT pg_sleep(10)', '--timeout', '1s', '--db', url]);
  assert.ok(Date.now() - t0 < 8000, 'cancelled by the statement timeout, not run to the end');
  assert.equal(slow.code, 2);
  assert.match(slow.stderr, /^llm-otel: sql: the query ran longer than the statement timeout \(1000 ms\) and was cancelled\n$/);
  // The row limit: a cursor fetched in batches, stopped at --limit.
  const many = JSON.parse(cli(['sql', 'SELECT g FROM generate_series(1, 100000) g', '--limit', '3', '--json', '--db', url]).stdout);
  assert.deepEqual(many.rows, [{ g: 1 }, { g: 2 }, { g: 3 }]);
});

pgTest('PostgreSQL down, silent or restarting: one line, exit 2, no stack; the dashboard outlives a restart', async () => {
  const url = await server.createDatabase('down');
  const file = join(s.dir, 'down.db');
  await writeItems(file, [
    { kind: 'call', call: callRow({ span_id: 'f000000000000002', started_at: new Date().toISOString() }), messages: [] },
  ]);
  await copySqliteToPostgres(file, url, { writerId: 'w1' });

  // Nothing listening.
  const free = await new Promise((resolve) => {
    const t = createServer().listen(0, '127.0.0.1', () => {
      const { port } = t.address();
      t.close(() => resolve(port));
    });
  });
  const refused = cli(['calls', '--db', `postgres://postgres:secret@127.0.0.1:${free}/x`]);
  assert.equal(refused.code, 2);
  assert.equal(refused.stdout, '');
  assert.match(refused.stderr, /^llm-otel: cannot read postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/x: .*ECONNREFUSED.*\n$/);

  // A server that accepts and never answers: the connect timeout ends it.
  const silent = createServer(() => {}).listen(0, '127.0.0.1');
  await new Promise((r) => silent.once('listening', r));
  try {
    const t0 = Date.now();
    const hung = cli(['stats', '--db', `postgres://u:p@127.0.0.1:${silent.address().port}/x`]);
    assert.ok(Date.now() - t0 < 15_000, 'bounded');
    assert.equal(hung.code, 2);
    assert.match(hung.stderr, /^llm-otel: cannot read postgres:\/\/u:\*\*\*@.*timeout.*\n$/i);
  } finally {
    silent.close();
  }

  // The dashboard on a server that stops and comes back: no crash (an 'error' listener on every
  // client), 503 while it is down, answers again once it is back.
  const ui = await startUi(url);
  try {
    assert.equal((await getJson(ui, '/api/calls?window=24h')).json.rows.length, 1);
    await server.pause();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(ui.child.exitCode, null, 'still running with the server gone');
    const down = await getJson(ui, '/api/calls?window=24h');
    assert.equal(down.status, 503);
    assert.match(down.json.error, /^PostgreSQL at postgres:\/\/postgres:\*\*\*@.*; try again$/);
    // the CLI against the stopped server
    const r = cli(['calls', '--db', url]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^llm-otel: cannot read postgres:\/\/postgres:\*\*\*@[^\n]+\n$/);
    await server.start();
    const back = await getJson(ui, '/api/calls?window=24h');
    assert.equal(back.status, 200);
    assert.equal(back.json.rows.length, 1);
    assert.equal(ui.child.exitCode, null);
  } finally {
    await server.start().catch(() => {});
    await ui.stop();
  }
  assert.doesNotMatch(ui.output().stderr, /\n\s+at /, 'no stack trace');
});
