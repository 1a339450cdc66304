// Load: a steady 5,000 calls/s for 30 s through the real SDK pipeline (BasicTracerProvider +
// CallLogSpanProcessor, default writer thread). Prints rows lost (target 0), drops, peak RSS, and
// how long the final flush took. Usage: node bench/calllog-load.bench.mjs [seconds=30] [callsPerSec=5000]
import Database from 'better-sqlite3';
import { CallLogSpanProcessor } from '../dist/esm/exporter/index.js';
import { emitCall, makeTracer, scratchDir } from './calllog-common.mjs';

const seconds = Number(process.argv[2] ?? 30);
const rate = Number(process.argv[3] ?? 5000);
const variant = process.argv[4] ?? 'worker'; // worker | inline | none (SDK only, for the RSS baseline)
const { dir, cleanup } = scratchDir('load');
const path = `${dir}/load.db`;
try {
  const processor = variant === 'none' ? null : new CallLogSpanProcessor({ path, worker: variant === 'worker' });
  const { provider, tracer } = makeTracer(processor ? [processor] : []);
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  let peakMem = null;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss > peak) {
      peak = m.rss;
      peakMem = m;
    }
  }, 100);
  let n = 0;
  let maxPending = 0;
  const start = performance.now();
  const total = Math.floor(seconds * rate);
  await new Promise((resolve) => {
    const t = setInterval(() => {
      const due = Math.min(Math.floor(((performance.now() - start) * rate) / 1000), total);
      while (n < due) emitCall(tracer, n++);
      maxPending = Math.max(maxPending, processor?.sink.pending ?? 0);
      if (n >= total) {
        clearInterval(t);
        resolve();
      }
    }, 2);
  });
  const offeredFor = (performance.now() - start) / 1000;
  const f0 = performance.now();
  const flushed = processor ? processor.flushSync() : true;
  const flushMs = performance.now() - f0;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const dropped = processor?.sink.dropped ?? 0;
  await provider.shutdown();
  const mb = (b) => (b / 1048576).toFixed(0);
  if (!processor) {
    console.log(
      `load baseline (SDK only, no call log): ${n} calls in ${((performance.now() - start) / 1000).toFixed(1)} s; RSS ${mb(rss0)} MB at start, peak ${mb(peak)} MB (app-thread heap ${mb(peakMem?.heapTotal ?? 0)} MB)`,
    );
  } else {
    report();
  }
  function report() {
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT count(*) n FROM llm_calls').get().n;
    const msgs = db.prepare('SELECT count(*) n FROM llm_messages').get().n;
    const rollup = db.prepare('SELECT sum(calls) n FROM llm_usage_hourly').get().n;
    db.close();
    console.log(
      `load (${variant}): ${n} calls offered in ${offeredFor.toFixed(1)} s (${Math.round(n / offeredFor)} calls/s) through BasicTracerProvider + CallLogSpanProcessor`,
    );
    console.log(
      `  rows: ${rows} calls, ${msgs} messages, rollup ${rollup}; lost ${n - rows}; dropped ${dropped}; final flush ${flushed ? 'complete' : 'INCOMPLETE'} in ${flushMs.toFixed(0)} ms`,
    );
    console.log(
      `  most spans waiting at once: ${maxPending}; RSS ${mb(rss0)} MB at start, peak ${mb(peak)} MB (app-thread heap ${mb(peakMem?.heapTotal ?? 0)} MB, external ${mb(peakMem?.external ?? 0)} MB)`,
    );
  }
} finally {
  cleanup();
}
