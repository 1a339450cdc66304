// Event-loop delay added by the call-log sink at a steady 1,000 calls/s (issue 3: p99 ≤ 2 ms).
// The same load runs through the real SDK pipeline without a call log (baseline), with the default
// CallLogSpanProcessor (writer thread), and with the writer on the app's thread (worker: false).
// monitorEventLoopDelay reports timer lateness plus its own resolution, so numbers below have the
// resolution subtracted. Rounds are interleaved; medians reported (shared machines are noisy).
// Usage: node bench/calllog-eventloop.bench.mjs [seconds=10] [callsPerSec=1000] [rounds=3] [resolutionMs=10]
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { CallLogSpanProcessor } from '../dist/esm/exporter/index.js';
import { emitCall, makeTracer, scratchDir } from './calllog-common.mjs';

const seconds = Number(process.argv[2] ?? 10);
const rate = Number(process.argv[3] ?? 1000);
const rounds = Number(process.argv[4] ?? 3);
const resolution = Number(process.argv[5] ?? 10);

async function run(variant, dbPath) {
  const processor = variant === 'none' ? null : new CallLogSpanProcessor({ path: dbPath, worker: variant === 'worker' });
  const { provider, tracer } = makeTracer(processor ? [processor] : []);
  for (let i = 0; i < 2000; i++) emitCall(tracer, i); // warm-up: JIT, DB creation, writer start
  processor?.flushSync();
  await sleep(300);
  const h = monitorEventLoopDelay({ resolution });
  h.enable();
  let n = 0;
  const start = performance.now();
  const total = Math.floor(seconds * rate);
  // Paced by the wall clock in 5 ms ticks, so the offered load stays at `rate`.
  await new Promise((resolve) => {
    const t = setInterval(() => {
      const due = Math.min(Math.floor(((performance.now() - start) * rate) / 1000), total);
      while (n < due) emitCall(tracer, n++);
      if (n >= total) {
        clearInterval(t);
        resolve();
      }
    }, 5);
  });
  h.disable();
  await provider.shutdown();
  let rows = null;
  if (processor) {
    const db = new Database(dbPath, { readonly: true });
    rows = db.prepare('SELECT count(*) n FROM llm_calls').get().n;
    db.close();
  }
  const ms = (ns) => Math.max(0, ns / 1e6 - resolution);
  return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), rows, expected: n + 2000 };
}

const { dir, cleanup } = scratchDir('eventloop');
const res = { none: [], worker: [], inline: [] };
try {
  let k = 0;
  for (let r = 0; r < rounds; r++) {
    for (const v of ['none', 'worker', 'inline']) res[v].push(await run(v, `${dir}/el-${k++}.db`));
  }
} finally {
  cleanup();
}
const med = (a, key) => [...a.map((x) => x[key])].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(
  `event-loop delay at ${rate} calls/s for ${seconds} s, resolution ${resolution} ms, median of ${rounds} interleaved rounds (ms beyond the resolution)`,
);
for (const [v, label] of [
  ['none', 'baseline (SDK, no call log)   '],
  ['worker', 'CallLogSpanProcessor (default)'],
  ['inline', 'CallLogSpanProcessor worker:false'],
]) {
  const lost = res[v].filter((x) => x.rows !== null && x.rows !== x.expected).length;
  console.log(
    `  ${label}  p50 ${med(res[v], 'p50').toFixed(2)}  p99 ${med(res[v], 'p99').toFixed(2)}  max ${med(res[v], 'max').toFixed(2)}${v === 'none' ? '' : `  rows complete in ${rounds - lost}/${rounds} rounds`}`,
  );
}
console.log(
  `  p99 added: writer thread ${(med(res.worker, 'p99') - med(res.none, 'p99')).toFixed(2)} ms, app thread ${(med(res.inline, 'p99') - med(res.none, 'p99')).toFixed(2)} ms`,
);
console.log(
  `  per round p99: ${JSON.stringify(Object.fromEntries(Object.entries(res).map(([k, v]) => [k, v.map((x) => +x.p99.toFixed(2))])))}`,
);
