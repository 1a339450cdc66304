// Benchmark: the CLI reading the same calls from SQLite and from a fleet call log in PostgreSQL
// (issue 14, the read side). The SQLite log is written through the exporter's own write path
// (bench/lib/seed-calllog.mjs, with messages), copied into a throwaway PostgreSQL 15 cluster by the
// test copier (one writer, as a shipper would), ANALYZEd; then each verb runs as a real `llm-otel`
// process on both stores (wall time of the whole process, best of 3), and the outputs are compared.
//   node scripts/build.mjs && node bench/fleet-read.bench.mjs [--calls 200000]
// (LLM_OTEL_TEST_PG=postgres://… uses an existing server instead of a throwaway cluster.)

import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { BIN } from '../test/4x-helpers/calllog.mjs';
import { copySqliteToPostgres } from '../test/helpers/fleet-copy.mjs';
import { startPostgres } from '../test/helpers/postgres.mjs';
import { CALLS_PER_TRACE, generate, hex } from './lib/seed-calllog.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const N = Number(arg('--calls', '200000'));
const path = join(tmpdir(), `llm-otel-fleet-read-${process.pid}.db`);

function time(args, db) {
  let best = Infinity;
  let out = null;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, [BIN, ...args, '--db', db], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    const ms = performance.now() - t;
    if (r.status !== 0) throw new Error(`llm-otel ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    out = r.stdout;
    best = Math.min(best, ms);
  }
  return { ms: best, out };
}

const server = await startPostgres();
try {
  await generate(path, N, { tEnd: Date.UTC(2026, 10, 22), messages: true });
  const url = await server.createDatabase('fleet_read_bench');
  let t = performance.now();
  const copied = await copySqliteToPostgres(path, url, { writerId: 'bench' });
  console.log(
    `copied ${copied.calls} calls, ${copied.messages} messages, ${copied.runs} runs into PostgreSQL in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  t = performance.now();
  await c.query('VACUUM ANALYZE');
  console.log(`VACUUM ANALYZE ${((performance.now() - t) / 1000).toFixed(1)} s`);
  await c.end();

  const session = `sess-${Math.floor(N / CALLS_PER_TRACE / 2 / 20)}`;
  const trace = hex(Math.floor(N / CALLS_PER_TRACE / 2) + 1, 32);
  const cases = [
    ['--version'],
    ['calls'],
    ['calls', '--session', session],
    ['show', String(Math.floor(N / 2))],
    ['trace', trace],
    ['session', session],
    ['stats', '--by', 'model'],
    ['stats', '--by', 'day'],
    ['stats', '--by', 'user'],
    ['stats', '--rollup', '--by', 'model'],
    ['latency'],
    ['runs', '--limit', '50'],
    ['sql', 'SELECT count(*) AS n FROM llm_calls'],
  ];
  console.log(`\n${'verb'.padEnd(40)} ${'SQLite'.padStart(8)} ${'PostgreSQL'.padStart(11)}  output`);
  for (const args of cases) {
    const a = time(args, path);
    const b = args[0] === '--version' ? a : time(args, url);
    const same = a.out === b.out ? 'identical' : 'DIFFERS';
    console.log(
      `llm-otel ${args.join(' ').slice(0, 31).padEnd(31)} ${a.ms.toFixed(0).padStart(6)} ms ${b.ms.toFixed(0).padStart(8)} ms  ${same}`,
    );
  }
  for (const format of ['jsonl', 'csv']) {
    const a = time(['export', '--format', format], path);
    const b = time(['export', '--format', format], url);
    console.log(
      `llm-otel export --format ${format.padEnd(13)} ${(a.ms / 1000).toFixed(1).padStart(6)} s  ${(b.ms / 1000).toFixed(1).padStart(7)} s   ${a.out === b.out ? 'identical' : 'DIFFERS'} (${N} calls)`,
    );
  }
} finally {
  await server.stop();
  for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
}
