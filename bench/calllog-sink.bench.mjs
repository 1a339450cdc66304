// Sink throughput: calls/s written by CallLogWriter (call + 2 message rows + hourly rollup, from
// real ReadableSpans, including the span → row mapping) against the raw better-sqlite3 rate of
// inserting the same rows with plain prepared statements, one transaction per 512 calls, into the
// same schema. Issue 3 target: sink ≥ 1.0× raw.
// Usage: node bench/calllog-sink.bench.mjs [calls=50000]
import Database from 'better-sqlite3';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { CallLogWriter, spanToItem, openForWriting, CALL_COLUMNS, MESSAGE_COLUMNS } from '../dist/esm/exporter/index.js';
import { makeTracer, emitCall, scratchDir } from './calllog-common.mjs';

const N = Number(process.argv[2] ?? 50_000);
const BATCH = 512;

const mem = new InMemorySpanExporter();
const { tracer } = makeTracer([new SimpleSpanProcessor(mem)]);
for (let i = 0; i < N; i++) emitCall(tracer, i);
const spans = mem.getFinishedSpans();

const { dir, cleanup } = scratchDir('sink');
try {
  // Raw: pre-mapped rows (mapping not timed), one INSERT per row, same schema and pragmas.
  const items = spans.map(spanToItem);
  const rawDb = openForWriting(`${dir}/raw.db`, { busyTimeoutMs: 1000 });
  const insCall = rawDb.prepare(`INSERT INTO llm_calls (${CALL_COLUMNS.join(',')}) VALUES (${CALL_COLUMNS.map(() => '?').join(',')})`);
  const insMsg = rawDb.prepare(`INSERT INTO llm_messages (call_id, ${MESSAGE_COLUMNS.join(',')}) VALUES (?, ${MESSAGE_COLUMNS.map(() => '?').join(',')})`);
  const upsert = rawDb.prepare(`INSERT INTO llm_usage_hourly (hour, service_name, provider, model, user_id, agent_name, calls, errors, input_tokens, output_tokens, duration_ms_sum, duration_ms_max)
    VALUES (?, ?, ?, ?, ?, ?, 1, 0, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET calls = calls + 1, input_tokens = input_tokens + excluded.input_tokens,
    output_tokens = output_tokens + excluded.output_tokens, duration_ms_sum = duration_ms_sum + excluded.duration_ms_sum, duration_ms_max = max(duration_ms_max, excluded.duration_ms_max)`);
  const rawRows = items.map((it) => ({ call: CALL_COLUMNS.map((c) => it.call[c]), msgs: it.messages.map((m) => MESSAGE_COLUMNS.map((c) => m[c])), c: it.call }));
  const rawTx = rawDb.transaction((rows, withRollup) => {
    for (const r of rows) {
      const id = insCall.run(r.call).lastInsertRowid;
      for (const m of r.msgs) insMsg.run(id, ...m);
      if (withRollup) upsert.run(r.c.started_at.slice(0, 13), r.c.service_name ?? '', r.c.provider ?? '', r.c.request_model ?? '', r.c.user_id ?? '', r.c.agent_name ?? '', r.c.input_tokens, r.c.output_tokens, r.c.duration_ms, r.c.duration_ms);
    }
  });
  const timeRaw = (withRollup) => {
    rawDb.exec('DELETE FROM llm_messages; DELETE FROM llm_calls; DELETE FROM llm_usage_hourly;');
    const t = performance.now();
    for (let i = 0; i < rawRows.length; i += BATCH) rawTx(rawRows.slice(i, i + BATCH), withRollup);
    return N / ((performance.now() - t) / 1000);
  };
  timeRaw(false); // warm-up
  const raw = timeRaw(false);
  const rawRollup = timeRaw(true);
  rawDb.close();

  // Sink: mapping from ReadableSpan included in the timing.
  const timeSink = (file) => {
    const w = new CallLogWriter({ path: file });
    const t = performance.now();
    for (let i = 0; i < spans.length; i += BATCH) {
      const batch = [];
      for (let j = i; j < Math.min(i + BATCH, spans.length); j++) batch.push(spanToItem(spans[j]));
      if (!w.writeBatch(batch)) throw new Error('write failed');
    }
    const rate = N / ((performance.now() - t) / 1000);
    const n = w.db.prepare('SELECT count(*) n FROM llm_calls').get().n;
    if (n !== N) throw new Error(`expected ${N} rows, got ${n}`);
    w.close();
    return rate;
  };
  timeSink(`${dir}/warm.db`);
  const sink = timeSink(`${dir}/sink.db`);
  const f = (x) => Math.round(x).toLocaleString('en-US');
  console.log(`sink throughput, ${N} calls (call + 2 messages), one transaction per ${BATCH}`);
  console.log(`  raw better-sqlite3, calls + messages           : ${f(raw)} calls/s`);
  console.log(`  raw better-sqlite3, calls + messages + rollup  : ${f(rawRollup)} calls/s`);
  console.log(`  CallLogWriter (mapping + rows + rollup)        : ${f(sink)} calls/s  = ${(sink / raw).toFixed(2)}× raw, ${(sink / rawRollup).toFixed(2)}× raw+rollup`);
} finally {
  cleanup();
}
