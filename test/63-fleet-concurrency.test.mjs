// Many writers, one fleet database: 4 processes × 2,000 calls at once → exactly 8,000 rows, ledgers
// that sum to exactly what the rows say (each writer upserts only its own ledger rows), and no
// deadlock (pg_stat_database and the server's log).

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startOpenAIPeer } from '../bench/lib/loopback-peers.mjs';
import { pgTest, runFleetApp, unavailable, withClient } from './helpers/fleet.mjs';
import { startPostgres } from './helpers/postgres.mjs';
import { runApp } from './helpers/run-app.mjs';

let server;
let peer;
let dir;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'llm-otel-fleet63-'));
  if (unavailable) return;
  server = await startPostgres();
  peer = await startOpenAIPeer([{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }]);
}, 120_000);
afterAll(async () => {
  await peer?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

pgTest(
  '4 processes × 2,000 calls into one database: exactly 8,000 rows, an exact rollup, no deadlock',
  async () => {
    const url = await server.createDatabase('many');
    const n = async (sql) => withClient(url, async (c) => Number((await c.query(sql)).rows[0].n));
    const runs = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        runFleetApp({
          runApp,
          dir,
          openaiUrl: peer.baseURL,
          url,
          spool: join(dir, `writer${i}.db`),
          // The same sessions and users in every process: the shared keys many writers would contend on.
          args: ['--calls', '2000', '--concurrency', '8', '--session', 'shared', '--agent'],
          ready: async () => (await n('SELECT count(*) AS n FROM llm_calls')) === 8000,
          readyMs: 150_000,
          timeoutMs: 240_000,
        }),
      ),
    );
    for (const r of runs) {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.result.failed, 0);
      assert.equal(r.stderr, '');
    }
    await withClient(url, async (c) => {
      const one = async (sql) => (await c.query(sql)).rows[0];
      assert.equal(Number((await one('SELECT count(*) AS n FROM llm_calls')).n), 8000);
      assert.equal(Number((await one('SELECT count(DISTINCT span_id) AS n FROM llm_calls')).n), 8000);
      assert.equal(Number((await one('SELECT count(*) AS n FROM llm_runs')).n), 4 * 500);
      assert.equal(Number((await one("SELECT count(*) AS n FROM llm_messages WHERE role = 'user'")).n), 8000);
      // The rollup equals the rows, summed over four writers' ledgers.
      const rows = await one('SELECT count(*) AS calls, sum(input_tokens) AS i, sum(output_tokens) AS o, sum(cost) AS cost FROM llm_calls');
      const roll = await one(
        'SELECT sum(calls) AS calls, sum(input_tokens) AS i, sum(output_tokens) AS o, sum(cost) AS cost FROM llm_usage_hourly_total',
      );
      assert.equal(Number(roll.calls), 8000);
      assert.equal(Number(roll.i), Number(rows.i));
      assert.equal(Number(roll.o), Number(rows.o));
      assert.ok(Math.abs(Number(roll.cost) - Number(rows.cost)) < 1e-9, `${roll.cost} vs ${rows.cost}`);
      const sessions = await one('SELECT sum(calls) AS calls FROM llm_usage_sessions_total');
      assert.equal(Number(sessions.calls), 8000);
      // Each shared session is one row of the totals view, from four writers' rows.
      const shared = (await c.query('SELECT session_id, calls FROM llm_usage_sessions_total ORDER BY session_id')).rows;
      assert.equal(shared.length, 5);
      for (const s of shared) assert.equal(Number(s.calls), 1600);
      assert.equal(Number((await one('SELECT count(DISTINCT writer_id) AS n FROM llm_usage_sessions')).n), 4);
      const writers = (await c.query('SELECT shipped_calls, dropped_calls, parked_rows FROM llm_otel_writers')).rows;
      assert.deepEqual(
        writers.map((w) => [Number(w.shipped_calls), Number(w.dropped_calls), Number(w.parked_rows)]),
        [
          [2000, 0, 0],
          [2000, 0, 0],
          [2000, 0, 0],
          [2000, 0, 0],
        ],
      );
      assert.equal(Number((await one('SELECT deadlocks AS n FROM pg_stat_database WHERE datname = current_database()')).n), 0);
    });
    const log = join(server.dir ?? '', 'log');
    if (existsSync(log)) assert.doesNotMatch(readFileSync(log, 'utf8'), /deadlock detected/);
  },
  300_000,
);
