// CLI verbs that change or follow the DB: prune (cascade to messages, rollups kept, --max-size),
// prices set/import (user rows the pricer then uses), tail (follows new calls), export to a file.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { test } from 'vitest';
import {
  BIN,
  callRow,
  cli,
  DIST,
  exporterApi,
  message,
  scratch,
  spanId,
  standardItems,
  traceId,
  writeItems,
} from './4x-helpers/calllog.mjs';

const { createDbPricer } = await import(join(DIST, 'src', 'cost', 'index.js'));

function ok(args) {
  const r = cli(args);
  assert.equal(r.code, 0, `llm-otel ${args.join(' ')}: ${r.stderr}`);
  return r;
}
const j = (args) => JSON.parse(ok([...args, '--json']).stdout);
const rollup = (path) => {
  const d = new Database(path, { readonly: true });
  try {
    return d.prepare('SELECT * FROM llm_usage_hourly ORDER BY hour, model, user_id').all();
  } finally {
    d.close();
  }
};
const count = (path, table) => {
  const d = new Database(path, { readonly: true });
  try {
    return d.prepare(`SELECT count(*) AS n FROM ${table}`).get().n;
  } finally {
    d.close();
  }
};

test('prune --older-than: calls, their messages (cascade) and runs go; llm_usage_hourly is kept', async (t) => {
  const s = scratch('cli-prune');
  t.onTestFinished(s.cleanup);
  const db = join(s.dir, 'calls.db');
  await writeItems(db, standardItems());
  const ledger = rollup(db);
  assert.equal(count(db, 'llm_messages'), 4);

  const dry = j(['prune', '--older-than', '2026-11-20T10:00:01Z', '--dry-run', '--db', db]);
  assert.deepEqual([dry.dry_run, dry.deleted_calls, dry.deleted_messages, dry.deleted_runs], [true, 2, 3, 1]);
  assert.equal(count(db, 'llm_calls'), 6, 'dry run changes nothing');

  const r = j(['prune', '--older-than', '2026-11-20T10:00:01Z', '--db', db]);
  assert.deepEqual(
    [r.dry_run, r.cutoff, r.deleted_calls, r.deleted_messages, r.deleted_runs],
    [false, '2026-11-20T10:00:01.000Z', 2, 3, 1],
  );
  const d = new Database(db, { readonly: true });
  assert.deepEqual(
    d
      .prepare('SELECT id FROM llm_calls ORDER BY id')
      .all()
      .map((x) => x.id),
    [2, 3, 4, 6],
  );
  assert.deepEqual(
    d
      .prepare('SELECT call_id FROM llm_messages')
      .all()
      .map((x) => x.call_id),
    [3],
    'messages of pruned calls are gone',
  );
  assert.deepEqual(
    d
      .prepare('SELECT name FROM llm_runs')
      .all()
      .map((x) => x.name),
    ['search'],
  );
  d.close();
  assert.deepEqual(rollup(db), ledger, 'the hourly ledger is untouched');
  // stats reads what is stored; stats --rollup still counts the pruned calls
  assert.equal(
    j(['stats', '--db', db]).rows.reduce((n, x) => n + x.calls, 0),
    4,
  );
  assert.equal(
    j(['stats', '--rollup', '--db', db]).rows.reduce((n, x) => n + x.calls, 0),
    6,
  );
  // relative durations work too: everything in the fixture is older than 1 minute
  const all = j(['prune', '--older-than', '1m', '--db', db]);
  assert.equal(all.deleted_calls, 4);
  assert.equal(count(db, 'llm_calls'), 0);
  assert.match(ok(['prune', '--older-than', '1d', '--db', db]).stdout, /deleted 0 calls, 0 messages, 0 runs/);
});

test('prune --max-size: the oldest calls go until the file fits, and the file is compacted', async (t) => {
  const s = scratch('cli-prune-size');
  t.onTestFinished(s.cleanup);
  const db = join(s.dir, 'calls.db');
  const items = [];
  const body = 'lorem ipsum dolor sit amet '.repeat(40);
  for (let i = 0; i < 4000; i++) {
    const started = new Date(Date.UTC(2026, 9, 1) + i * 60_000).toISOString();
    items.push({
      kind: 'call',
      call: callRow({ span_id: spanId(i), trace_id: traceId(i), started_at: started }),
      messages: [
        message({ content: body, content_chars: body.length }),
        message({ direction: 'output', content: body, content_chars: body.length }),
      ],
    });
  }
  await writeItems(db, items);
  const size =
    statSync(db).size +
    (() => {
      try {
        return statSync(db + '-wal').size;
      } catch {
        return 0;
      }
    })();
  const target = Math.floor(size / 2);
  const r = j(['prune', '--max-size', String(target), '--db', db]);
  assert.ok(r.vacuumed);
  assert.ok(r.bytes_after <= target, `file is ${r.bytes_after} bytes, limit ${target}`);
  assert.ok(r.deleted_calls > 1000 && r.deleted_calls < 4000, `deleted ${r.deleted_calls}`);
  const d = new Database(db, { readonly: true });
  const left = d.prepare('SELECT min(started_at) AS first, max(started_at) AS last, count(*) AS n FROM llm_calls').get();
  const orphans = d.prepare('SELECT count(*) AS n FROM llm_messages WHERE call_id NOT IN (SELECT id FROM llm_calls)').get().n;
  d.close();
  assert.equal(left.n, 4000 - r.deleted_calls);
  assert.equal(left.last, new Date(Date.UTC(2026, 9, 1) + 3999 * 60_000).toISOString(), 'the newest calls stay');
  assert.equal(orphans, 0);
  const units = j(['prune', '--max-size', '10GB', '--db', db]);
  assert.equal(units.deleted_calls, 0, 'already small enough');
});

test('prices set / import: user rows, dated changes, aliases; the pricer uses them', async (t) => {
  const s = scratch('cli-prices');
  t.onTestFinished(s.cleanup);
  const db = join(s.dir, 'calls.db');
  // `prices set` may create the call log (configuring prices before the first run)
  const set = j(['prices', 'set', 'acme-large', '--input', '2', '--output', '6', '--cached', '0.5', '--currency', 'eur', '--db', db]).price;
  assert.deepEqual(
    [set.model_pattern, set.input_per_mtok, set.cached_input_per_mtok, set.output_per_mtok, set.currency, set.source, set.valid_from],
    ['acme-large', 2, 0.5, 6, 'EUR', 'user', null],
  );
  const change = j([
    'prices',
    'set',
    'acme-large',
    '--input',
    '4',
    '--output',
    '12',
    '--currency',
    'EUR',
    '--from',
    '2026-06-01',
    '--db',
    db,
  ]);
  assert.equal(change.closed, 1);
  const alias = j(['prices', 'set', 'prod-gpt4o-deployment', '--like', 'gpt-4o', '--provider', 'azure.ai.openai', '--db', db]).price;
  assert.deepEqual(
    [alias.input_per_mtok, alias.cached_input_per_mtok, alias.output_per_mtok, alias.provider],
    [2.5, 1.25, 10, 'azure.ai.openai'],
  );
  const file = join(s.dir, 'prices.json');
  writeFileSync(
    file,
    JSON.stringify({ prices: [{ model: 'qwen-max', input: 2.4, output: 9.6, currency: 'CNY' }], aliases: { 'team-mini': 'gpt-4o-mini' } }),
  );
  assert.deepEqual(j(['prices', 'import', file, '--db', db]).imported, 2);
  const users = j(['prices', 'list', '--source', 'user', '--db', db]).prices;
  assert.deepEqual(
    users.map((p) => `${p.model_pattern}:${p.input_per_mtok}:${p.currency}:${p.valid_to ?? ''}`),
    [
      'acme-large:2:EUR:2026-06-01T00:00:00.000Z',
      'acme-large:4:EUR:',
      'prod-gpt4o-deployment:2.5:USD:',
      'qwen-max:2.4:CNY:',
      'team-mini:0.15:USD:',
    ],
  );
  assert.equal(j(['prices', 'list', '--model', 'qwen-max', '--db', db]).prices[0].source, 'user', 'user rows override built-in ones');

  // calls written now are priced with those rows (the exporter's writer + createDbPricer)
  await writeItems(
    db,
    [
      {
        kind: 'call',
        messages: [],
        call: callRow({
          span_id: spanId(1),
          request_model: 'acme-large',
          started_at: '2026-05-01T00:00:00.000Z',
          input_tokens: 1000,
          cached_input_tokens: 500,
          output_tokens: 100,
        }),
      },
      {
        kind: 'call',
        messages: [],
        call: callRow({
          span_id: spanId(2),
          request_model: 'acme-large',
          started_at: '2026-07-01T00:00:00.000Z',
          input_tokens: 1000,
          output_tokens: 100,
        }),
      },
      {
        kind: 'call',
        messages: [],
        call: callRow({
          span_id: spanId(3),
          provider: 'azure.ai.openai',
          request_model: 'prod-gpt4o-deployment',
          response_model: 'gpt-4o-2024-08-06',
          input_tokens: 1000,
          output_tokens: 100,
        }),
      },
    ],
    { price: createDbPricer() },
  );
  const rows = j(['calls', '--db', db]).calls.sort((a, b) => a.id - b.id);
  // May: 500 × 2 + 500 × 0.5 + 100 × 6 = 1000 + 250 + 600 = 1850 µ€ ; July: 1000 × 4 + 100 × 12 = 5200 µ€
  assert.deepEqual(
    rows.map((c) => [c.cost, c.currency]),
    [
      [0.00185, 'EUR'],
      [0.0052, 'EUR'],
      [0.0035, 'USD'],
    ],
  );
  const ids = rows.map((c) => j(['show', String(c.id), '--db', db]).price.model_pattern);
  assert.deepEqual(ids, ['acme-large', 'acme-large', 'prod-gpt4o-deployment']);
  // a price that already costed calls cannot be silently replaced from the same date
  const again = cli([
    'prices',
    'set',
    'acme-large',
    '--input',
    '9',
    '--output',
    '9',
    '--currency',
    'EUR',
    '--from',
    '2026-06-01',
    '--db',
    db,
  ]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already costed calls/);
  // stats in several currencies: per-currency totals, never summed together
  const st = j(['stats', '--by', 'provider', '--db', db]).rows.find((r) => r.key === 'openai');
  assert.equal(st.currency, 'EUR');
  const total = j(['stats', '--by', 'day', '--db', db]).rows;
  assert.ok(total.every((r) => r.currency !== 'mixed' || r.cost === null));
});

test('tail: prints the last calls, then each new one as it is written; Ctrl-C stops it', async (t) => {
  const s = scratch('cli-tail');
  t.onTestFinished(s.cleanup);
  const db = join(s.dir, 'calls.db');
  await writeItems(db, standardItems());
  const child = spawn(process.execPath, [BIN, 'tail', '--json', '--limit', '2', '--interval', '100ms', '--db', db], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.onTestFinished(() => child.kill('SIGKILL'));
  const lines = [];
  let buf = '';
  let wake = () => {};
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
    }
    wake();
  });
  const waitFor = (n) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tail printed ${lines.length} lines, waiting for ${n}`)), 10_000);
      wake = () => {
        if (lines.length >= n) {
          clearTimeout(timer);
          resolve();
        }
      };
      wake();
    });
  await waitFor(2);
  assert.deepEqual(
    lines.map((l) => l.id),
    [5, 6],
    'the last two by id, oldest first',
  );
  const { CallLogWriter } = await exporterApi();
  const w = new CallLogWriter({ path: db, busyTimeoutMs: 2000 });
  w.writeBatch(
    [
      {
        kind: 'call',
        messages: [],
        call: callRow({ span_id: 'dddddddddddddd01', request_model: 'gpt-4.1', started_at: new Date().toISOString() }),
      },
      {
        kind: 'call',
        messages: [],
        call: callRow({ span_id: 'dddddddddddddd02', request_model: 'gpt-4.1-mini', started_at: new Date().toISOString() }),
      },
    ],
    { force: true },
  );
  w.close();
  await waitFor(4);
  assert.deepEqual(
    lines.slice(2).map((l) => [l.id, l.span_id, l.request_model]),
    [
      [7, 'dddddddddddddd01', 'gpt-4.1'],
      [8, 'dddddddddddddd02', 'gpt-4.1-mini'],
    ],
  );
  const exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  assert.equal(await exit, 0);
});

test('export --out writes a private file; large exports stream (20k calls)', async (t) => {
  const s = scratch('cli-export');
  t.onTestFinished(s.cleanup);
  const db = join(s.dir, 'calls.db');
  const items = [];
  for (let i = 0; i < 20_000; i++)
    items.push({
      kind: 'call',
      messages: [],
      call: callRow({
        span_id: spanId(i),
        trace_id: traceId(i),
        started_at: new Date(Date.UTC(2026, 9, 1) + i * 1000).toISOString(),
        session_id: `s${i % 7}`,
      }),
    });
  await writeItems(db, items);
  const out = join(s.dir, 'calls.csv');
  const r = ok(['export', '--format', 'csv', '--out', out, '--db', db]);
  assert.match(r.stderr, /exported 20000 rows to/);
  assert.equal(statSync(out).mode & 0o777, 0o600);
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(lines.length, 20_001);
  const jl = ok(['export', '--format', 'jsonl', '--session', 's3', '--db', db]).stdout.trim().split('\n');
  assert.equal(jl.length, Math.ceil((20_000 - 3) / 7));
  assert.ok(jl.every((l) => JSON.parse(l).session_id === 's3'));
});
