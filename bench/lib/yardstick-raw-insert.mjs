// The raw better-sqlite3 baseline of bench/yardstick.bench.mjs: writes the rows llm-otel wrote for
// some calls again, into a fresh call-log file (same schema and pragmas: openForWriting), with
// plain prepared statements — the same INSERTs as the call log's writer, `batch` calls per IMMEDIATE
// transaction, one usage-rollup upsert per key and transaction — and nothing else.
//
//   node bench/lib/yardstick-raw-insert.mjs <source.db> <calls> <batch> <new.db>
//
// Every row of the source is read whatever `calls` is, so that reading cancels out of a difference
// of two runs (N₂ − N₁ calls) and only the inserts remain.
import Database from 'better-sqlite3';
import { CALL_COLUMNS, MESSAGE_COLUMNS, openForWriting } from '../../dist/esm/exporter/index.js';

const [source, callsArg, batchArg, target] = process.argv.slice(2);
const calls = Number(callsArg);
const batch = Number(batchArg);
if (!source || !target || !(calls >= 0) || !(batch >= 1)) {
  console.error('usage: yardstick-raw-insert.mjs <source.db> <calls> <batch> <new.db>');
  process.exit(2);
}

const src = new Database(source, { readonly: true });
const callRows = src.prepare(`SELECT id, ${CALL_COLUMNS.join(', ')} FROM llm_calls ORDER BY id`).all();
const messagesOf = new Map();
for (const m of src
  .prepare(`SELECT call_id, ${MESSAGE_COLUMNS.join(', ')} FROM llm_messages ORDER BY call_id, direction, position`)
  .all()) {
  const list = messagesOf.get(m.call_id) ?? [];
  list.push(MESSAGE_COLUMNS.map((c) => m[c]));
  messagesOf.set(m.call_id, list);
}
src.close();
if (callRows.length < calls) {
  console.error(`${source} holds ${callRows.length} calls, fewer than ${calls}`);
  process.exit(1);
}
const rows = callRows.map((c) => ({ values: CALL_COLUMNS.map((k) => c[k]), messages: messagesOf.get(c.id) ?? [], call: c }));

const db = openForWriting(target, { busyTimeoutMs: 1000 });
const sql = (table, cols) => `INSERT OR IGNORE INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`;
const insertCall = db.prepare(sql('llm_calls', CALL_COLUMNS));
const insertMessage = db.prepare(
  `INSERT INTO llm_messages (call_id, ${MESSAGE_COLUMNS.join(', ')}) VALUES (?, ${MESSAGE_COLUMNS.map(() => '?').join(', ')})`,
);
const upsert = db.prepare(`INSERT INTO llm_usage_hourly (hour, service_name, provider, model, user_id, agent_name,
  calls, errors, input_tokens, output_tokens, cost, duration_ms_sum, duration_ms_max)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (hour, service_name, provider, model, user_id, agent_name) DO UPDATE SET
  calls = calls + excluded.calls, errors = errors + excluded.errors,
  input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens,
  cost = CASE WHEN excluded.cost IS NULL THEN llm_usage_hourly.cost WHEN llm_usage_hourly.cost IS NULL THEN excluded.cost
              ELSE llm_usage_hourly.cost + excluded.cost END,
  duration_ms_sum = duration_ms_sum + excluded.duration_ms_sum, duration_ms_max = max(duration_ms_max, excluded.duration_ms_max)`);

const write = db.transaction((part) => {
  const rollups = new Map();
  for (const r of part) {
    const id = insertCall.run(r.values).lastInsertRowid;
    for (const m of r.messages) insertMessage.run(id, ...m);
    const c = r.call;
    const key = [
      c.started_at.slice(0, 13),
      c.service_name ?? '',
      c.provider ?? '',
      c.request_model ?? c.response_model ?? '',
      c.user_id ?? '',
      c.agent_name ?? '',
    ];
    const k = key.join('\u0000');
    const u = rollups.get(k) ?? { key, calls: 0, errors: 0, input: 0, output: 0, cost: null, sum: 0, max: 0 };
    u.calls += 1;
    if (c.status !== 'ok') u.errors += 1;
    u.input += c.input_tokens ?? 0;
    u.output += c.output_tokens ?? 0;
    if (c.cost !== null) u.cost = (u.cost ?? 0) + c.cost;
    u.sum += c.duration_ms ?? 0;
    u.max = Math.max(u.max, c.duration_ms ?? 0);
    rollups.set(k, u);
  }
  for (const u of rollups.values()) {
    upsert.run(`${u.key[0]}:00:00.000Z`, ...u.key.slice(1), u.calls, u.errors, u.input, u.output, u.cost, u.sum, u.max);
  }
});
for (let i = 0; i < calls; i += batch) write.immediate(rows.slice(i, Math.min(calls, i + batch)));
const stored = db.prepare('SELECT max(rowid) AS n FROM llm_calls').get().n ?? 0; // not count(*): no scan that grows with the calls
db.close();
if (stored !== calls) {
  console.error(`stored ${stored} calls, expected ${calls}`);
  process.exit(1);
}
console.log(`raw inserts: ${calls} calls in batches of ${batch}`);
