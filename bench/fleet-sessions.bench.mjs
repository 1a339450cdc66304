// Benchmark: the sessions list (the dashboard's sessions page, `listSessions`) on a fleet call log
// with many sessions. A throwaway PostgreSQL 15 cluster (or LLM_OTEL_TEST_PG) gets the fleet schema
// and N sessions, each with ledger rows from W writers (llm_usage_sessions, as shippers leave them),
// ANALYZEd; then the PostgreSQL read layer pages through them in-process (best of 3 per case).
//   node scripts/build.mjs && node bench/fleet-sessions.bench.mjs [--sessions 1000000] [--writers 2]

import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { startPostgres } from '../test/helpers/postgres.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const N = Number(arg('--sessions', '1000000'));
const W = Number(arg('--writers', '2'));
// The sessions end one every 10 s up to END; each writer saw a part of every session (the
// writers' last_at differ, so a session's last_at is the max over its writers' rows).
const END = Date.UTC(2026, 11, 7);

async function best(fn) {
  let ms = Infinity;
  let out;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    out = await fn();
    ms = Math.min(ms, performance.now() - t);
  }
  return { ms, out };
}

// LLM_OTEL_BENCH_DIST=<folder> measures another build (e.g. a copy of dist/ made before a change).
const dist = new URL(`${process.env.LLM_OTEL_BENCH_DIST ?? '../dist'}/esm/src/`, import.meta.url);
const { pgMigrate } = await import(new URL('fleet/schema.js', dist).href);
const { openPostgresReader } = await import(new URL('query/postgres/open.js', dist).href);

const server = await startPostgres();
try {
  const url = await server.createDatabase('fleet_sessions_bench');
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await pgMigrate(c);
  let t = performance.now();
  for (let w = 0; w < W; w++) {
    await c.query(
      `INSERT INTO llm_usage_sessions (writer_id, session_id, first_at, last_at, calls, errors, input_tokens, output_tokens, cost, currency, user_id, agent_name)
       SELECT 'w' || $1::int, 'sess-' || lpad(g::text, 8, '0'),
              to_timestamp(($2::bigint - (g::bigint * 10000) - 600000 - $1::int * 7000) / 1000.0),
              to_timestamp(($2::bigint - (g::bigint * 10000) - (($1::int * 7919 + g * 31) % 20000)) / 1000.0),
              3, (g % 7 = 0 AND $1::int = 0)::int, 300, 120, 0.0042, 'USD', 'user-' || (g % 1000), 'agent-' || (g % 5)
       FROM generate_series(1, $3::int) g
       WHERE $1::int = 0 OR g % ($1::int + 1) <> 1`,
      [w, END, N],
    );
  }
  const rows = (await c.query('SELECT count(*)::int AS n FROM llm_usage_sessions')).rows[0].n;
  console.log(`${N} sessions, ${rows} ledger rows from ${W} writers, in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  t = performance.now();
  await c.query('VACUUM ANALYZE');
  console.log(`VACUUM ANALYZE ${((performance.now() - t) / 1000).toFixed(1)} s`);
  await c.end();

  const r = await openPostgresReader(url);
  try {
    const day = new Date(END - 86_400_000).toISOString();
    const page1 = await r.listSessions({}, { limit: 50 });
    let deep = page1;
    for (let i = 0; i < 20; i++) deep = await r.listSessions({}, { limit: 50, after: deep.next });
    const mid = `sess-${String(Math.floor(N / 2)).padStart(8, '0')}`;
    const cases = [
      ['first page (50), no filter', () => r.listSessions({}, { limit: 50 })],
      ['next page (cursor after page 1)', () => r.listSessions({}, { limit: 50, after: page1.next })],
      ['page 22 (cursor)', () => r.listSessions({}, { limit: 50, after: deep.next })],
      ['first page, oldest first (asc)', () => r.listSessions({}, { limit: 50, order: 'asc' })],
      ['first page, since = last 24 h', () => r.listSessions({ since: day }, { limit: 50 })],
      ['first page, one user (1 in 1000)', () => r.listSessions({ user: 'user-7' }, { limit: 50 })],
      ['first page, one agent (1 in 5)', () => r.listSessions({ agent: 'agent-3' }, { limit: 50 })],
      ['getSession (one id)', () => r.getSession(mid)],
    ];
    console.log(`\n${'sessions page'.padEnd(40)} ${'time'.padStart(9)}  rows`);
    for (const [name, fn] of cases) {
      const { ms, out } = await best(fn);
      const n = out?.rows ? out.rows.length : out ? 1 : 0;
      console.log(`${name.padEnd(40)} ${ms.toFixed(1).padStart(6)} ms  ${n}`);
    }
  } finally {
    await r.close();
  }
} finally {
  await server.stop();
}
