// Fleet mode when PostgreSQL misbehaves, with real processes: stopped mid-run and started again
// (the app's output unchanged, no call lost, the backlog shipped, one line per change of state); a
// server that accepts connections and never answers (the shipper times out, the app is unaffected
// and ends in bounded time); a restart while the shipper's connection is idle (its 'error' event
// must not kill llm-otel's thread).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll } from 'vitest';
import { startOpenAIPeer } from '../bench/lib/loopback-peers.mjs';
import { pgTest, runFleetApp, unavailable, withClient } from './helpers/fleet.mjs';
import { startPostgres } from './helpers/postgres.mjs';
import { runApp } from './helpers/run-app.mjs';

let server;
let peer;
let dir;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'llm-otel-fleet62-'));
  if (unavailable) return;
  server = await startPostgres();
  peer = await startOpenAIPeer([{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }]);
}, 120_000);
afterAll(async () => {
  await peer?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const count = (url, sql = 'SELECT count(*) AS n FROM llm_calls') => withClient(url, async (c) => Number((await c.query(sql)).rows[0].n));
const spoolCount = (path) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM llm_calls').pluck().get();
  } finally {
    db.close();
  }
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A server that accepts connections and never answers, posing as PostgreSQL at `url`. */
async function startSilentServer() {
  const sockets = new Set();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `postgres://u:secret@127.0.0.1:${server.address().port}/db`,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** The app's output without its timings: what must not change whatever the database does. */
const outcome = (r) => ({ code: r.code, calls: r.result?.calls, failed: r.result?.failed });

pgTest(
  'PostgreSQL stopped mid-run and started again: the app runs as without it, no call is lost, the backlog is shipped',
  async () => {
    const url = await server.createDatabase('outage');
    const spool = join(dir, 'outage.db');
    const args = ['--rate', '50', '--seconds', '8'];
    // The same app with a local call log only: what its output must be.
    const plain = await runApp(join(import.meta.dirname, 'apps', 'fleet-app.mjs'), {
      preload: 'import',
      args,
      env: {
        TEST_OPENAI_URL: peer.baseURL,
        LLM_OTEL_DB: join(dir, 'plain.db'),
        OTEL_TRACES_EXPORTER: 'none',
        OTEL_METRICS_EXPORTER: 'none',
      },
    });
    plain.result = JSON.parse(plain.stdout.trim().split('\n').at(-1));
    let outageDone = false;
    const outage = (async () => {
      // Once the shipper is at work (rows arriving), the database goes away for 3 s.
      while ((await count(url).catch(() => 0)) < 50) await sleep(50);
      await server.pause();
      await sleep(3000);
      await server.start();
      outageDone = true;
    })();
    const r = await runFleetApp({
      runApp,
      dir,
      openaiUrl: peer.baseURL,
      url,
      spool,
      args,
      ready: async () => outageDone && (await count(url)) === 400,
      readyMs: 60_000,
    });
    await outage;
    assert.deepEqual(outcome(r), outcome(plain));
    assert.deepEqual(outcome(r), { code: 0, calls: 400, failed: 0 });
    assert.equal(spoolCount(spool), 400);
    assert.equal(await count(url), 400, 'every call reached PostgreSQL');
    assert.equal(await count(url, 'SELECT sum(calls) AS n FROM llm_usage_hourly_total'), 400);
    assert.equal(await count(url, 'SELECT count(*) AS n FROM (SELECT span_id FROM llm_calls GROUP BY span_id HAVING count(*) > 1) d'), 0);
    // One line when it went away and one when it was caught up (with "reachable again" when a
    // backlog took more than a batch); nothing about llm-otel's thread.
    const lines = r.stderr.trim().split('\n');
    assert.match(
      lines[0],
      /fleet database .* cannot be reached \(.*\); calls are kept in the spool .*outage\.db and shipped when it is back \(the app is not affected\)/,
    );
    assert.match(lines.at(-1), /fleet database .*: caught up \(\d+ calls shipped since it came back\)/);
    assert.ok(lines.length <= 3, r.stderr);
    assert.doesNotMatch(r.stderr, /thread|Unhandled|error event/i);
  },
  180_000,
);

pgTest(
  'a server that accepts connections and never answers: the shipper times out, the app is unaffected and ends in bounded time',
  async () => {
    const silent = await startSilentServer();
    const spool = join(dir, 'silent.db');
    try {
      const url = silent.url;
      const r = await runFleetApp({
        runApp,
        dir,
        openaiUrl: peer.baseURL,
        url,
        spool,
        args: ['--rate', '20', '--seconds', '8'],
        timeoutMs: 60_000,
        mark: '"calls"',
      });
      assert.deepEqual(outcome(r), { code: 0, calls: 160, failed: 0 });
      assert.equal(spoolCount(spool), 160, 'the spool has every call, for a later run to ship');
      assert.match(r.stderr, /fleet database postgres:\/\/u:\*\*\*@127\.0\.0\.1:\d+\/db cannot be reached \(.*(timeout|terminated).*\)/i);
      assert.doesNotMatch(r.stderr, /secret/);
      assert.ok(silent.sockets.size >= 1, 'the shipper did connect');
      // The exit does not wait for the silent server beyond the shipper's share of the exit budget
      // (a bound that proves "does not hang", not a speed: the exit budget is 1.25 s).
      assert.ok(r.afterMarkMs !== null && r.afterMarkMs < 5000, `ended ${r.afterMarkMs} ms after the app's last line`);
    } finally {
      await silent.close();
    }
  },
  90_000,
);

pgTest(
  'a silent server and an app that ends before any timeout: one line says nothing was shipped, the spool keeps every call',
  async () => {
    const silent = await startSilentServer();
    const spool = join(dir, 'silent-short.db');
    try {
      const url = silent.url;
      const r = await runFleetApp({
        runApp,
        dir,
        openaiUrl: peer.baseURL,
        url,
        spool,
        args: ['--rate', '20', '--seconds', '1'],
        timeoutMs: 60_000,
        mark: '"calls"',
      });
      assert.deepEqual(outcome(r), { code: 0, calls: 20, failed: 0 });
      assert.equal(spoolCount(spool), 20);
      const ours = r.stderr.split('\n').filter((l) => l.startsWith('[llm-otel]'));
      assert.equal(ours.length, 1, r.stderr);
      assert.match(
        ours[0],
        /fleet database postgres:\/\/u:\*\*\*@127\.0\.0\.1:\d+\/db had no answer before the app ended; calls are kept in the spool .* shipped by the next run/,
      );
      assert.doesNotMatch(r.stderr, /secret/);
    } finally {
      await silent.close();
    }
  },
  90_000,
);

pgTest(
  "PostgreSQL restarted while the shipper's connection is idle: the 'error' event is handled, shipping goes on",
  async () => {
    const url = await server.createDatabase('restart');
    const spool = join(dir, 'restart.db');
    let restarted = false;
    const restart = (async () => {
      // First rows shipped: the connection is open and idle between rounds.
      while ((await count(url).catch(() => 0)) < 20) await sleep(100);
      await server.pause();
      await server.start();
      restarted = true;
    })();
    const r = await runFleetApp({
      runApp,
      dir,
      openaiUrl: peer.baseURL,
      url,
      spool,
      args: ['--rate', '25', '--seconds', '6'],
      ready: async () => restarted && (await count(url)) === 150,
      readyMs: 60_000,
    });
    await restart;
    assert.deepEqual(outcome(r), { code: 0, calls: 150, failed: 0 });
    assert.equal(await count(url), 150);
    // The thread lived on: no fallback to the main thread, nothing lost there.
    assert.doesNotMatch(r.stderr, /thread|Unhandled|error event|lost/i);
  },
  120_000,
);
