// Event-loop delay added by the call-log sink at a steady 1,000 calls/s (issue 3: p99 ≤ 2 ms).
// Runs the same load twice through the real SDK pipeline: without the call-log processor
// (baseline) and with it, and prints p50/p99/max of perf_hooks.monitorEventLoopDelay.
// Usage: node bench/calllog-eventloop.bench.mjs [seconds=10] [callsPerSec=1000] [resolutionMs=10]
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { CallLogSpanProcessor } from '../dist/esm/exporter/index.js';
import { makeTracer, emitCall, scratchDir, pct } from './calllog-common.mjs';

const seconds = Number(process.argv[2] ?? 10);
const rate = Number(process.argv[3] ?? 1000);
const resolution = Number(process.argv[4] ?? 10);
const TICK_MS = 5;

async function run(withSink, dbPath) {
  const processors = [];
  let sink;
  if (withSink) { sink = new CallLogSpanProcessor({ path: dbPath }); processors.push(sink); }
  const { provider, tracer } = makeTracer(processors);
  // Warm up (JIT, DB creation) before measuring.
  for (let i = 0; i < 2000; i++) emitCall(tracer, i);
  sink?.flushSync();
  await sleep(300);
  const h = monitorEventLoopDelay({ resolution });
  h.enable();
  const perTick = rate * TICK_MS / 1000;
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  // Paced by wall clock so the offered load stays at `rate` even when ticks arrive late.
  await new Promise((resolve) => {
    const t = setInterval(() => {
      const now = performance.now();
      const due = Math.min(Math.floor((now - start) * rate / 1000), Math.floor(seconds * rate));
      while (n < due) emitCall(tracer, n++);
      if (now >= end) { clearInterval(t); resolve(); }
    }, TICK_MS);
  });
  h.disable();
  await provider.shutdown();
  return { h, n, perTick };
}

const { dir, cleanup } = scratchDir('eventloop');
try {
  const base = await run(false);
  const withSink = await run(true, `${dir}/el.db`);
  const rows = new Database(`${dir}/el.db`, { readonly: true }).prepare('SELECT count(*) n FROM llm_calls').get().n;
  const fmt = (r) => `p50 ${pct(r.h, 50).toFixed(2)} ms  p99 ${pct(r.h, 99).toFixed(2)} ms  max ${(r.h.max / 1e6).toFixed(2)} ms  (${r.n} calls)`;
  console.log(`event-loop delay at ${rate} calls/s for ${seconds}s, resolution ${resolution} ms`);
  console.log(`  baseline (SDK, no call log): ${fmt(base)}`);
  console.log(`  with CallLogSpanProcessor : ${fmt(withSink)}`);
  console.log(`  p99 added by the sink: ${(pct(withSink.h, 99) - pct(base.h, 99)).toFixed(2)} ms; rows written ${rows} (expected ${withSink.n + 2000})`);
} finally {
  cleanup();
}
