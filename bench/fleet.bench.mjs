// Fleet mode (issue 14), measured on real processes and a real PostgreSQL on this machine: apps
// under `node --import llm-otel/register` (test/apps/fleet-app.mjs: the real openai SDK) with
// LLM_OTEL_DB=postgres://…, against the loopback OpenAI-wire peer of bench/lib/loopback-peers.mjs,
// and a throwaway PostgreSQL cluster (test/helpers/postgres.mjs; or LLM_OTEL_TEST_PG).
//
//   node scripts/build.mjs && node bench/fleet.bench.mjs [--one] [--four] [--outage] [--latency] [--shipper]
//
// Scenarios (all when none is named):
//   --one      one process, as fast as it goes (closed loop, --concurrency 16, --calls 20000): calls/s
//              the app made, rows/s that reached PostgreSQL while it ran, and the lag from a call's
//              end to the commit that stored it (track_commit_timestamp), p50/p99.
//   --four     four such processes at once (--calls 5000 each): rows/s together, lost, deadlocks,
//              rollup sum against the row count.
//   --outage   --procs 4 processes at --rate 100 calls/s each; PostgreSQL stopped for --outage-s 60 s
//              and started again: how long until every call of the spools is in PostgreSQL.
//   --latency  the app's per-call latency (open loop, --rate 200 calls/s for --seconds 10) with a
//              SQLite call log only and in fleet mode, alternating, --latency-runs 2 each.
//   --shipper  the shipper alone, in this process, draining a spool of --backlog 20000 calls (3
//              messages each): calls/s and the duration of each flush (one transaction), p50/p99.
//
// The machine's load matters (2 shared cores): each scenario prints the load average.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startPostgres } from '../test/helpers/postgres.mjs';
import { runApp } from '../test/helpers/run-app.mjs';
import { startOpenAIPeer } from './lib/loopback-peers.mjs';

const require = createRequire(import.meta.url);
const pg = require('pg');
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const APP = join(root, 'test', 'apps', 'fleet-app.mjs');
const argv = process.argv.slice(2);
const has = (name) => argv.includes(`--${name}`);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const num = (name, dflt) => Number(opt(name, dflt));
const ALL = ['one', 'four', 'outage', 'latency', 'shipper'];
const SCENARIOS = ALL.some(has) ? ALL.filter(has) : ALL;

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const f1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : String(n));

const dir = mkdtempSync(join(tmpdir(), 'llm-otel-fleet-bench-'));
const server = await startPostgres();
let peer;
try {
  if (!server.external) {
    // Commit times, for the lag from a call's end to its commit.
    const c = new pg.Client({ connectionString: server.url });
    await c.connect();
    await c.query('ALTER SYSTEM SET track_commit_timestamp = on');
    await c.end();
    await server.pause();
    await server.start();
  }
  peer = await startOpenAIPeer([{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }]);
  console.log(`node ${process.version}, ${new Date().toISOString()}, load ${load()}`);

  async function q(url, sql) {
    const c = new pg.Client({ connectionString: url });
    c.on('error', () => {});
    await c.connect();
    try {
      return (await c.query(sql)).rows;
    } finally {
      await c.end();
    }
  }
  const count = async (url) => Number((await q(url, 'SELECT count(*) AS n FROM llm_calls').catch(() => [{ n: 0 }]))[0].n);

  function app(url, spool, args, extraEnv = {}) {
    return runApp(APP, {
      preload: 'import',
      args,
      timeoutMs: 600_000,
      env: {
        TEST_OPENAI_URL: peer.baseURL,
        LLM_OTEL_DB: url,
        ...(spool ? { LLM_OTEL_SPOOL: spool } : {}),
        OTEL_TRACES_EXPORTER: 'none',
        OTEL_METRICS_EXPORTER: 'none',
        ...extraEnv,
      },
    }).then((r) => {
      try {
        r.result = JSON.parse(r.stdout.trim().split('\n').at(-1));
      } catch {
        r.result = null;
      }
      return r;
    });
  }

  /**
   * Runs `start(waitFile)` (apps that wait for that file after their calls) and samples the row
   * count every 100 ms until `expected` rows are in PostgreSQL, then lets the apps end. Returns
   * their results and when the first and the last rows arrived (ms after the start).
   */
  async function watch(url, start, expected) {
    const waitFile = join(dir, `go-${Math.random().toString(36).slice(2)}`);
    const started = Date.now();
    let appsDone = false;
    const work = start(waitFile);
    work.then(() => (appsDone = true));
    let firstAt = null;
    let allAt = null;
    while (!appsDone && Date.now() - started < 900_000) {
      const n = await count(url);
      const t = Date.now() - started;
      if (n > 0) firstAt ??= t;
      if (n >= expected) {
        allAt = t;
        break;
      }
      await sleep(100);
    }
    writeFileSync(waitFile, '');
    return { result: await work, firstAt, allAt };
  }

  const LAG_SQL = `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY lag) AS p99, max(lag) AS max
  FROM (SELECT extract(epoch FROM pg_xact_commit_timestamp(((ingest_xid::text)::bigint % 4294967296)::text::xid) - ended_at) * 1000 AS lag FROM llm_calls) x`;

  /** Rows/s into PostgreSQL from the first row to the last. */
  function ingestRate(w, expected) {
    if (w.allAt === null || w.firstAt === null || w.allAt === w.firstAt) return NaN;
    return (expected * 1000) / (w.allAt - w.firstAt);
  }

  if (SCENARIOS.includes('one')) {
    const calls = num('calls', 20000);
    const conc = num('concurrency', 16);
    const url = await server.createDatabase('one');
    console.log(`\n--one: 1 process, ${calls} calls, concurrency ${conc}; load before ${load()}`);
    // The same app with a SQLite call log only: what this machine lets one process make now.
    const base = await app(join(dir, 'one-base.db'), null, ['--calls', String(calls), '--concurrency', String(conc)], {}, '"calls"');
    const baseS = (base.durationMs - (base.afterMarkMs ?? 0)) / 1000;
    console.log(`  baseline (SQLite only): ${base.result?.calls} calls in ${f1(baseS)} s = ${f1(base.result?.calls / baseS)} calls/s`);
    const w = await watch(
      url,
      (go) => app(url, join(dir, 'one.db'), ['--calls', String(calls), '--concurrency', String(conc), '--wait-file', go], {}, '"calls"'),
      calls,
    );
    const r = w.result;
    const appSeconds = (r.durationMs - (r.afterMarkMs ?? 0)) / 1000;
    const [lag] = await q(url, LAG_SQL);
    console.log(
      `  app: ${r.result?.calls} calls in ${f1(appSeconds)} s = ${f1(r.result?.calls / appSeconds)} calls/s (failed ${r.result?.failed}); PostgreSQL: ${await count(url)} rows, the last ${f1(w.allAt / 1000)} s after the start, ${f1(ingestRate(w, calls))} rows/s from the first to the last`,
    );
    console.log(
      `  lag call end → commit: p50 ${f1(Number(lag.p50))} ms, p99 ${f1(Number(lag.p99))} ms, max ${f1(Number(lag.max))} ms; stderr: ${JSON.stringify(r.stderr.trim())}`,
    );
    console.log(`  load after ${load()}`);
  }

  if (SCENARIOS.includes('four')) {
    const calls = num('calls4', 5000);
    const url = await server.createDatabase('four');
    console.log(`\n--four: 4 processes × ${calls} calls, concurrency 16 each; load before ${load()}`);
    const bases = await Promise.all(
      [0, 1, 2, 3].map((i) => app(join(dir, `four-base${i}.db`), null, ['--calls', String(calls), '--concurrency', '16'], {}, '"calls"')),
    );
    const baseMs = Math.max(...bases.map((r) => r.durationMs - (r.afterMarkMs ?? 0)));
    console.log(
      `  baseline (SQLite only): ${4 * calls} calls in ${f1(baseMs / 1000)} s = ${f1((4 * calls * 1000) / baseMs)} calls/s together`,
    );
    const w = await watch(
      url,
      (go) =>
        Promise.all(
          [0, 1, 2, 3].map((i) =>
            app(
              url,
              join(dir, `four${i}.db`),
              ['--calls', String(calls), '--concurrency', '16', '--session', 'shared', '--wait-file', go],
              {},
              '"calls"',
            ),
          ),
        ),
      4 * calls,
    );
    const total = await count(url);
    const [roll] = await q(url, 'SELECT sum(calls) AS n FROM llm_usage_hourly_total');
    const [dl] = await q(url, 'SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()');
    const [lag] = await q(url, LAG_SQL);
    const appMs = Math.max(...w.result.map((r) => r.durationMs - (r.afterMarkMs ?? 0)));
    console.log(
      `  apps: ${w.result.reduce((n, r) => n + (r.result?.calls ?? 0), 0)} calls in ${f1(appMs / 1000)} s = ${f1((4 * calls * 1000) / appMs)} calls/s together (failed ${w.result.reduce((n, r) => n + (r.result?.failed ?? 0), 0)}); the last row in PostgreSQL ${f1(w.allAt / 1000)} s after the start`,
    );
    console.log(
      `  PostgreSQL: ${total} rows (lost ${4 * calls - total}), ${f1(ingestRate(w, 4 * calls))} rows/s from the first to the last, rollup sum ${roll.n}, deadlocks ${dl.deadlocks}; lag p50 ${f1(Number(lag.p50))} ms, p99 ${f1(Number(lag.p99))} ms`,
    );
    console.log(`  load after ${load()}`);
  }

  if (SCENARIOS.includes('outage') && !server.external) {
    const procs = num('procs', 4);
    const rate = num('rate', 100);
    const outageS = num('outage-s', 60);
    const seconds = outageS + 15;
    const url = await server.createDatabase('outage');
    console.log(
      `\n--outage: ${procs} processes at ${rate} calls/s for ${seconds} s; PostgreSQL stopped from 5 s to ${5 + outageS} s; load before ${load()}`,
    );
    const apps = Promise.all(
      Array.from({ length: procs }, (_, i) =>
        app(url, join(dir, `outage${i}.db`), ['--rate', String(rate), '--seconds', String(seconds), '--wait-file', join(dir, 'outage-go')]),
      ),
    );
    await sleep(5000);
    await server.pause();
    const downAt = Date.now();
    await sleep(outageS * 1000);
    await server.start();
    const upAt = Date.now();
    // The backlog is every call the spools hold now; drained when PostgreSQL has them all.
    const spoolCount = () => {
      let n = 0;
      for (let i = 0; i < procs; i++) {
        const db = new Database(join(dir, `outage${i}.db`), { readonly: true });
        n += db.prepare('SELECT count(*) FROM llm_calls').pluck().get();
        db.close();
      }
      return n;
    };
    const backlog = spoolCount() - (await count(url).catch(() => 0));
    let drainedAt = null;
    while (Date.now() - upAt < 120_000) {
      const [have, want] = [await count(url).catch(() => 0), spoolCount()];
      if (have >= want && have > 0) {
        drainedAt = Date.now();
        break;
      }
      await sleep(100);
    }
    rmSync(join(dir, 'outage-go'), { force: true });
    (await import('node:fs')).writeFileSync(join(dir, 'outage-go'), '');
    const rs = await apps;
    const final = spoolCount();
    await sleep(3000);
    console.log(
      `  outage ${f1((upAt - downAt) / 1000)} s; backlog when it came back: ${backlog} calls; caught up (PostgreSQL = spools) ${drainedAt ? `${f1((drainedAt - upAt) / 1000)} s after the restart` : 'NOT within 120 s'}`,
    );
    console.log(
      `  at the end: spools ${final}, PostgreSQL ${await count(url)}; apps failed ${rs.reduce((n, r) => n + (r.result?.failed ?? 0), 0)}; stderr of one: ${JSON.stringify(rs[0].stderr.trim())}`,
    );
    console.log(`  load after ${load()}`);
  }

  if (SCENARIOS.includes('latency')) {
    const rate = num('rate-latency', 200);
    const seconds = num('seconds', 10);
    const runs = num('latency-runs', 2);
    const url = await server.createDatabase('latency');
    console.log(
      `\n--latency: per-call latency in the app, ${rate} calls/s for ${seconds} s, SQLite only vs fleet, ${runs} runs each alternating; load before ${load()}`,
    );
    const all = { sqlite: [], fleet: [] };
    for (let i = 0; i < runs; i++) {
      for (const mode of ['sqlite', 'fleet']) {
        const r =
          mode === 'sqlite'
            ? await app(join(dir, `lat-sqlite${i}.db`), null, ['--rate', String(rate), '--seconds', String(seconds)])
            : await app(url, join(dir, `lat-fleet${i}.db`), ['--rate', String(rate), '--seconds', String(seconds)]);
        const l = r.result?.latencies ?? [];
        all[mode].push(...l);
        console.log(
          `  run ${i + 1} ${mode.padEnd(6)}: ${l.length} calls, p50 ${f1(pct(l, 50))} ms, p90 ${f1(pct(l, 90))} ms, p99 ${f1(pct(l, 99))} ms`,
        );
      }
    }
    for (const mode of ['sqlite', 'fleet']) {
      const l = all[mode];
      console.log(
        `  all ${mode.padEnd(6)}: ${l.length} calls, p50 ${f1(pct(l, 50))} ms, p90 ${f1(pct(l, 90))} ms, p99 ${f1(pct(l, 99))} ms`,
      );
    }
    console.log(`  load after ${load()}`);
  }

  if (SCENARIOS.includes('shipper')) {
    const n = num('backlog', 20000);
    const url = await server.createDatabase('shipper');
    const X = await import(join(root, 'dist', 'esm', 'exporter', 'index.js'));
    const { Shipper } = await import(join(root, 'dist', 'esm', 'src', 'fleet', 'shipper.js'));
    const spool = join(dir, 'shipper.db');
    const w = new X.CallLogWriter({ path: spool });
    const now = Date.now();
    const items = [];
    for (let i = 0; i < n; i++) {
      const at = new Date(now - (n - i) * 10).toISOString();
      items.push({
        kind: 'call',
        call: {
          span_id: `s${String(i).padStart(15, '0')}`,
          trace_id: `t${i}`,
          parent_span_id: null,
          parent_call_id: null,
          service_name: 'bench',
          session_id: `sess${i % 50}`,
          user_id: `u${i % 20}`,
          agent_name: null,
          conversation_id: null,
          tags: '["bench"]',
          metadata: '{"k":"v"}',
          operation: 'chat',
          api: 'chat.completions',
          provider: 'openai',
          server_address: '127.0.0.1',
          server_port: 443,
          request_model: 'gpt-4o-mini',
          response_model: 'gpt-4o-mini-2024-07-18',
          response_id: `r${i}`,
          request_id: `q${i}`,
          temperature: null,
          top_p: null,
          max_tokens: null,
          stream: 0,
          finish_reasons: '["stop"]',
          input_tokens: 20,
          output_tokens: 5,
          total_tokens: 25,
          cached_input_tokens: null,
          reasoning_tokens: null,
          usage_source: 'provider',
          cost: 0.0000065,
          currency: 'USD',
          price_id: null,
          started_at: at,
          ended_at: at,
          duration_ms: 10,
          ttft_ms: null,
          status: 'ok',
          error_type: null,
          error_message: null,
          http_status: 200,
          retry_count: 0,
          attributes: '{"openai.api.type":"chat_completions"}',
        },
        messages: ['system', 'user', 'assistant'].map((role, p) => ({
          direction: role === 'assistant' ? 'output' : 'input',
          position: role === 'assistant' ? 0 : p,
          role,
          content: `${role} text of call ${i}, a sentence or two long as most are.`,
          content_chars: 50,
          truncated: 0,
          tool_calls: null,
          tool_call_id: null,
          name: null,
          token_estimate: 12,
          reasoning: null,
        })),
      });
    }
    for (let i = 0; i < items.length; i += 2000) w.writeBatch(items.slice(i, i + 2000));
    w.close();
    console.log(`\n--shipper: the shipper alone draining a spool of ${n} calls (3 messages each); load before ${load()}`);
    const lines = [];
    const s = new Shipper({ url, spool, warner: { warn: (k, m) => lines.push(m), reset() {} } });
    const t0 = performance.now();
    s.start();
    while ((await count(url)) < n && performance.now() - t0 < 300_000) await sleep(50);
    const secs = (performance.now() - t0) / 1000;
    s.close();
    console.log(
      `  ${n} calls in ${f1(secs)} s = ${f1(n / secs)} calls/s (connect and migrate included); ${s.flushMs.length} flushes of ≤ 500 calls: p50 ${f1(pct(s.flushMs, 50))} ms, p99 ${f1(pct(s.flushMs, 99))} ms, max ${f1(Math.max(...s.flushMs))} ms${lines.length ? `; warnings: ${lines.join(' | ')}` : ''}`,
    );
    console.log(`  load after ${load()}`);

    // Four writers at once into one database (four spools, four shippers, four connections; one
    // process here, so one core's worth of JavaScript for all four): the database side of --four.
    const url4 = await server.createDatabase('shippers4');
    const spools = [0, 1, 2, 3].map((k) => join(dir, `shipper4-${k}.db`));
    for (let k = 0; k < 4; k++) {
      const wk = new X.CallLogWriter({ path: spools[k] });
      const mine = items
        .filter((_, i) => i % 4 === k)
        .map((it) => ({ ...it, call: { ...it.call, span_id: `${k}${it.call.span_id.slice(1)}` } }));
      for (let i = 0; i < mine.length; i += 2000) wk.writeBatch(mine.slice(i, i + 2000));
      wk.close();
    }
    console.log(`\n--shipper (4 writers): four shippers draining four spools of ${n / 4} calls into one database; load before ${load()}`);
    const four = spools.map((sp) => new Shipper({ url: url4, spool: sp, warner: { warn: (k, m) => lines.push(m), reset() {} } }));
    const t4 = performance.now();
    for (const sh of four) sh.start();
    while ((await count(url4)) < n && performance.now() - t4 < 300_000) await sleep(50);
    const secs4 = (performance.now() - t4) / 1000;
    for (const sh of four) sh.close();
    const flushes = four.flatMap((sh) => sh.flushMs);
    const [roll4] = await q(url4, 'SELECT sum(calls) AS n FROM llm_usage_hourly_total');
    const [dl4] = await q(url4, 'SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()');
    console.log(
      `  ${await count(url4)} calls in ${f1(secs4)} s = ${f1(n / secs4)} calls/s together; flush p50 ${f1(pct(flushes, 50))} ms, p99 ${f1(pct(flushes, 99))} ms; rollup sum ${roll4.n}; deadlocks ${dl4.deadlocks}${lines.length ? `; warnings: ${lines.join(' | ')}` : ''}`,
    );
    console.log(`  load after ${load()}`);
  }
} finally {
  // The cluster first: nothing below may leave it running.
  await server.stop();
  if (peer) await Promise.race([peer.close(), sleep(2000)]);
  rmSync(dir, { recursive: true, force: true });
}
