// Benchmark: the CLI on a 1,000,000-call log (issue 5). The DB is generated through the exporter's
// own write path (CallLogWriter.writeBatch, rollups included), then each query is run as a real
// `llm-otel` process and timed (wall time of the whole process, best of 3).
//   node scripts/build.mjs && node bench/cli-1m.bench.mjs [--calls 1000000] [--keep path]
// Target: each of `stats --by model`, `stats --by day`, `calls --session X`, `trace <id>` < 1 s.

import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BIN } from '../test/4x-helpers/calllog.mjs';
import { CALLS_PER_TRACE, generate, hex } from './lib/seed-calllog.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const N = Number(arg('--calls', '1000000'));
const keep = arg('--keep', null);
const path = keep ?? join(tmpdir(), `llm-otel-bench-${process.pid}.db`);

const T_END = Date.UTC(2026, 10, 22);

function time(args) {
  let best = Infinity;
  let out = null;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, [BIN, ...args, '--db', path], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const ms = performance.now() - t;
    if (r.status !== 0) throw new Error(`llm-otel ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    out = r.stdout;
    best = Math.min(best, ms);
  }
  return { ms: best, out };
}

if (!existsSync(path)) await generate(path, N, { tEnd: T_END });
else console.log(`using existing ${path}`);
const base = time(['--version']);
console.log(`process start-up (llm-otel --version): ${base.ms.toFixed(0)} ms`);
const session = `sess-${Math.floor(N / CALLS_PER_TRACE / 2 / 20)}`;
const trace = hex(Math.floor(N / CALLS_PER_TRACE / 2) + 1, 32);
const cases = [
  ['stats', '--by', 'model'],
  ['stats', '--by', 'day'],
  ['calls', '--session', session],
  ['trace', trace],
  ['latency'],
  ['stats', '--by', 'user'],
];
let ok = true;
for (const args of cases) {
  const { ms, out } = time(args);
  const lines = out.trim().split('\n').length;
  const target = ['stats --by model', 'stats --by day', `calls --session ${session}`, `trace ${trace}`].includes(args.join(' '));
  if (target && ms >= 1000) ok = false;
  console.log(
    `llm-otel ${args.join(' ').padEnd(32)} ${ms.toFixed(0).padStart(6)} ms  (${lines} lines)${target ? (ms < 1000 ? '  < 1 s ✓' : '  ≥ 1 s ✗') : ''}`,
  );
}
// export: the whole log as JSON Lines and as CSV to /dev/null; peak memory must stay flat.
for (const format of ['jsonl', 'csv']) {
  const wrapper = `process.on('exit', () => process.stderr.write('MAXRSS ' + process.resourceUsage().maxRSS + '\\n'));
    process.argv.splice(1, 0, 'llm-otel'); require(${JSON.stringify(BIN)});`;
  const t = performance.now();
  const r = spawnSync(process.execPath, ['-e', wrapper, 'export', '--format', format, '--db', path], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`export failed: ${r.stderr}`);
  const rss = Number(/MAXRSS (\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024;
  console.log(
    `llm-otel export --format ${format.padEnd(5)} (all ${N} calls)  ${(ms / 1000).toFixed(1).padStart(5)} s, peak RSS ${rss.toFixed(0)} MB`,
  );
}
if (!keep) for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
console.log(ok ? 'all targets met' : 'some targets missed');
