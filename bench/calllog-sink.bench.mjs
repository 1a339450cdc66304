// Sink throughput: calls/s written (call + 2 message rows + hourly rollup) against the raw
// better-sqlite3 rate of inserting the same rows with plain prepared statements, one transaction
// per 512 calls, into the same schema (issue 3 target: sink ≥ 1.0× raw). Rounds are interleaved
// and medians reported, because a shared machine is noisy.
//   raw               : pre-mapped rows, INSERT per row (calls + messages), 512 per transaction
//   raw + rollup      : the same plus one llm_usage_hourly upsert per call
//   writer 512 / 2048 : CallLogWriter incl. span → row mapping, batches of 512 / 2048 (one thread)
//   worker sink       : the default pipeline — SpanData pushed on this thread, mapped and written
//                       on the writer thread; timed from the first push until flushSync() returns
// Usage: node bench/calllog-sink.bench.mjs [calls=30000] [rounds=3]

import { rmSync } from 'node:fs';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  CALL_COLUMNS,
  CallLogWriter,
  createSpanSink,
  MESSAGE_COLUMNS,
  openForWriting,
  spanToItem,
  toSpanData,
  WorkerSink,
} from '../dist/esm/exporter/index.js';
import { emitCall, makeTracer, scratchDir } from './calllog-common.mjs';

const N = Number(process.argv[2] ?? 30_000);
const ROUNDS = Number(process.argv[3] ?? 3);

const mem = new InMemorySpanExporter();
const { tracer } = makeTracer([new SimpleSpanProcessor(mem)]);
for (let i = 0; i < N; i++) emitCall(tracer, i);
const spans = mem.getFinishedSpans();
const items = spans.map(spanToItem);
const { dir, cleanup } = scratchDir('sink');
let fileNo = 0;
const freshPath = () => {
  const p = `${dir}/db-${fileNo++}.db`;
  for (const s of ['', '-wal', '-shm']) rmSync(p + s, { force: true });
  return p;
};

function raw(withRollup) {
  const db = openForWriting(freshPath(), { busyTimeoutMs: 1000 });
  const insCall = db.prepare(`INSERT INTO llm_calls (${CALL_COLUMNS.join(',')}) VALUES (${CALL_COLUMNS.map(() => '?').join(',')})`);
  const insMsg = db.prepare(
    `INSERT INTO llm_messages (call_id, ${MESSAGE_COLUMNS.join(',')}) VALUES (?, ${MESSAGE_COLUMNS.map(() => '?').join(',')})`,
  );
  const upsert =
    db.prepare(`INSERT INTO llm_usage_hourly (hour, service_name, provider, model, user_id, agent_name, calls, errors, input_tokens, output_tokens, duration_ms_sum, duration_ms_max)
    VALUES (?, ?, ?, ?, ?, ?, 1, 0, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET calls = calls + 1, input_tokens = input_tokens + excluded.input_tokens,
    output_tokens = output_tokens + excluded.output_tokens, duration_ms_sum = duration_ms_sum + excluded.duration_ms_sum, duration_ms_max = max(duration_ms_max, excluded.duration_ms_max)`);
  const rows = items.map((it) => ({
    call: CALL_COLUMNS.map((c) => it.call[c]),
    msgs: it.messages.map((m) => MESSAGE_COLUMNS.map((c) => m[c])),
    c: it.call,
  }));
  const tx = db.transaction((batch) => {
    for (const r of batch) {
      const id = insCall.run(r.call).lastInsertRowid;
      for (const m of r.msgs) insMsg.run(id, ...m);
      if (withRollup)
        upsert.run(
          r.c.started_at.slice(0, 13),
          r.c.service_name ?? '',
          r.c.provider ?? '',
          r.c.request_model ?? '',
          r.c.user_id ?? '',
          r.c.agent_name ?? '',
          r.c.input_tokens,
          r.c.output_tokens,
          r.c.duration_ms,
          r.c.duration_ms,
        );
    }
  });
  const t = performance.now();
  for (let i = 0; i < rows.length; i += 512) tx(rows.slice(i, i + 512));
  const rate = N / ((performance.now() - t) / 1000);
  db.close();
  return rate;
}

function writer(batchSize) {
  const w = new CallLogWriter({ path: freshPath() });
  const t = performance.now();
  for (let i = 0; i < spans.length; i += batchSize) {
    const batch = [];
    for (let j = i; j < Math.min(i + batchSize, spans.length); j++) batch.push(spanToItem(spans[j]));
    if (!w.writeBatch(batch)) throw new Error('write failed');
  }
  const rate = N / ((performance.now() - t) / 1000);
  if (w.db.prepare('SELECT count(*) n FROM llm_calls').get().n !== N) throw new Error('rows missing');
  w.close();
  return rate;
}

function workerSink() {
  const path = freshPath();
  const sink = createSpanSink({ path, maxQueueSize: N, drainOnExit: false });
  if (!(sink instanceof WorkerSink)) throw new Error('no writer thread');
  sink.flushSync(); // wait until the thread is up (and the schema exists)
  const t = performance.now();
  for (const s of spans) sink.push(toSpanData(s));
  const pushed = performance.now();
  if (!sink.flushSync()) throw new Error('flush incomplete');
  const rate = N / ((performance.now() - t) / 1000);
  sink.shutdown();
  const w = new CallLogWriter({ path });
  w.writeBatch([]);
  return { rate, pushUs: ((pushed - t) * 1000) / N };
}

const results = { raw: [], rawRollup: [], w512: [], w2048: [], worker: [], pushUs: [] };
try {
  raw(false);
  writer(512); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    results.raw.push(raw(false));
    results.rawRollup.push(raw(true));
    results.w512.push(writer(512));
    results.w2048.push(writer(2048));
    const ws = workerSink();
    results.worker.push(ws.rate);
    results.pushUs.push(ws.pushUs);
  }
} finally {
  cleanup();
}
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const f = (x) => Math.round(x).toLocaleString('en-US').padStart(8);
const raw0 = med(results.raw);
console.log(`sink throughput: ${N} calls (call + 2 messages), median of ${ROUNDS} interleaved rounds`);
console.log(`  raw better-sqlite3 (calls + messages, 512/tx)     ${f(raw0)} calls/s   1.00×`);
console.log(
  `  raw better-sqlite3 (+ rollup upsert per call)    ${f(med(results.rawRollup))} calls/s   ${(med(results.rawRollup) / raw0).toFixed(2)}×`,
);
console.log(
  `  CallLogWriter, mapping included, 512/tx           ${f(med(results.w512))} calls/s   ${(med(results.w512) / raw0).toFixed(2)}×`,
);
console.log(
  `  CallLogWriter, mapping included, 2048/tx          ${f(med(results.w2048))} calls/s   ${(med(results.w2048) / raw0).toFixed(2)}×`,
);
console.log(
  `  worker sink end to end (default pipeline)         ${f(med(results.worker))} calls/s   ${(med(results.worker) / raw0).toFixed(2)}×   (app thread: ${med(results.pushUs).toFixed(1)} µs per call)`,
);
console.log(
  `  all rounds: ${JSON.stringify(Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.map((x) => Math.round(x))])))}`,
);
