// Fleet mode end to end: real apps (the openai SDK under --import llm-otel/register, LLM_OTEL_DB
// set to a real PostgreSQL) ship their calls with the real shipper, and every CLI verb and
// dashboard view prints the same from PostgreSQL as from the spool. Two processes run at once on
// one shared spool (each call shipped once, by whichever shipper holds the writer's turn), two more
// later under a shifted clock (calls dated yesterday and last year), so the spool holds exactly
// what PostgreSQL holds. The verb list is test/64's (helpers/fleet-cli-cases.mjs).

import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll } from 'vitest';
import { cli, scratch } from './4x-helpers/calllog.mjs';
import { get, getJson, startUi } from './4x-helpers/ui.mjs';
import { pgTest, unavailable, until, withClient } from './helpers/fleet.mjs';
import { uiPaths, verbCases } from './helpers/fleet-cli-cases.mjs';
import { startOpenAIServer } from './helpers/openai-server.mjs';
import { startPostgres } from './helpers/postgres.mjs';
import { runApp } from './helpers/run-app.mjs';

const APP = join(import.meta.dirname, 'apps', 'fleet-e2e-app.mjs');
const CLOCK = join(import.meta.dirname, 'apps', 'clock-shift.mjs');
const DAY = 86_400_000;

/** The loopback model: answers with the request's model, a tool call when tools are offered and none was answered yet. */
function respond({ path, headers, body }) {
  if (path !== '/v1/chat/completions' || headers['x-scenario']) return null;
  const msgs = body.messages ?? [];
  const wantsTool = Array.isArray(body.tools) && !msgs.some((m) => m.role === 'tool');
  const promptTokens = 9 + (JSON.stringify(msgs).length % 50);
  const usage = { prompt_tokens: promptTokens, completion_tokens: 6, total_tokens: promptTokens + 6 };
  const id = `chatcmpl-e2e-${promptTokens}`;
  const created = Math.floor(Date.now() / 1000);
  const last = msgs.at(-1);
  const text = wantsTool ? null : `answer: ${typeof last?.content === 'string' ? last.content.slice(0, 20) : 'tool result'}`;
  const toolCalls = wantsTool
    ? [{ id: `call_${promptTokens}`, type: 'function', function: { name: 'lookup_order', arguments: '{"order":"A-17"}' } }]
    : undefined;
  const finish = wantsTool ? 'tool_calls' : 'stop';
  if (body.stream) {
    const chunk = (delta, finish_reason = null, extra = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [{ index: 0, delta, finish_reason }], ...extra })}\n\n`;
    return {
      sse: [
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: text.slice(0, 8) }),
        chunk({ content: text.slice(8) }),
        chunk({}, finish),
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [], usage })}\n\n`,
        'data: [DONE]\n\n',
      ],
    };
  }
  return {
    json: {
      id,
      object: 'chat.completion',
      created,
      model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content: text, tool_calls: toolCalls }, finish_reason: finish }],
      usage,
    },
  };
}

let s;
let spool;
let url;
let server;
let openai;
let F;

/** The spool's newest ids and ledger seq, and its writer id. */
function spoolHeads() {
  const db = new Database(spool, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare(
        "SELECT (SELECT coalesce(max(id), 0) FROM llm_calls) AS calls, (SELECT coalesce(max(id), 0) FROM llm_runs) AS runs, (SELECT value FROM llm_meta WHERE key = 'ledger_seq') AS seq, (SELECT value FROM llm_meta WHERE key = 'writer_id') AS writer",
      )
      .get();
  } finally {
    db.close();
  }
}

/** True once PostgreSQL's watermark for the spool's writer is at the spool's heads. */
async function caughtUp() {
  const h = spoolHeads();
  return withClient(url, async (c) => {
    const r = await c.query('SELECT last_call_id, last_run_id, last_ledger_seq FROM llm_otel_writers WHERE writer_id = $1', [h.writer]);
    const w = r.rows[0];
    return (
      !!w && Number(w.last_call_id) === h.calls && Number(w.last_run_id) === h.runs && Number(w.last_ledger_seq) === Number(h.seq ?? 0)
    );
  }).catch(() => false);
}

/** Runs the app (one part) in fleet mode; lets it go once PostgreSQL has caught up with the spool. */
async function runPart(part, { shiftMs = 0, label = part } = {}) {
  const wait = join(s.dir, `go-${label}`);
  const running = runApp(APP, {
    preload: 'import',
    nodeArgs: shiftMs ? ['--import', CLOCK] : [],
    timeoutMs: 120_000,
    args: ['--part', part, '--label', label, '--wait-file', wait],
    env: {
      TEST_OPENAI_URL: openai.baseURL,
      LLM_OTEL_DB: url,
      LLM_OTEL_SPOOL: spool,
      TEST_CLOCK_SHIFT_MS: shiftMs || undefined,
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_METRICS_EXPORTER: 'none',
    },
  });
  let done = false;
  running.finally(() => (done = true));
  // Once the app's calls are made, wait for the shipper.
  await until(async () => done || (existsSync(`${wait}.made`) && (await caughtUp())), 60_000, 200);
  writeFileSync(wait, '');
  const r = await running;
  assert.equal(r.code, 0, `${label}: ${r.stderr}`);
  assert.equal(r.stderr, '', `${label}: no warning`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

beforeAll(async () => {
  if (unavailable) return;
  s = scratch('fleet-e2e');
  spool = join(s.dir, 'spool.db');
  server = await startPostgres();
  url = await server.createDatabase('fleet_e2e');
  openai = await startOpenAIServer({ respond });
  // A user price row in the spool (EUR) before any call: the acme-large calls are costed from it.
  const set = cli(['prices', 'set', 'acme-large', '--input', '2', '--output', '6', '--currency', 'EUR', '--db', spool]);
  assert.equal(set.code, 0, set.stderr);
  // Two writers at once on one spool, then calls dated yesterday and last year.
  const [a, b] = await Promise.all([runPart('a'), runPart('b')]);
  assert.deepEqual(
    [a.errors, b.errors],
    [[429, 'APIConnectionTimeoutError'], [500]],
    'the 429, the timeout, the 500 and nothing else failed',
  );
  await runPart('old', { shiftMs: -DAY, label: 'yesterday' });
  await runPart('old', { shiftMs: -366 * DAY, label: 'lastyear' });
  assert.ok(await caughtUp(), 'PostgreSQL holds the whole spool');

  // What the data holds, read from the spool, for the verb list.
  const db = new Database(spool, { readonly: true });
  const col = (sql) => db.prepare(sql).pluck().all();
  const times = col('SELECT started_at FROM llm_calls ORDER BY started_at');
  const mid = times[Math.floor(times.length / 2)];
  const yesterday = new Date(Date.now() - DAY).toISOString().slice(0, 10);
  F = {
    session: 'e2e-s1',
    user: 'alice',
    agent: 'support-bot',
    model: 'gpt-4o-mini',
    modelGlob: 'gpt-4o*',
    modelCharGlob: 'acme-?arge',
    windows: [
      [times[1], mid],
      ['2020-01-01', yesterday],
    ],
    rollupSince: yesterday,
    callIds: col('SELECT id FROM llm_calls ORDER BY id'),
    spanIds: col('SELECT span_id FROM llm_calls ORDER BY id LIMIT 4'),
    runSpanIds: col('SELECT span_id FROM llm_runs ORDER BY id'),
    traces: col('SELECT DISTINCT trace_id FROM llm_calls ORDER BY trace_id'),
    sessions: col('SELECT DISTINCT session_id FROM llm_calls WHERE session_id IS NOT NULL ORDER BY session_id'),
    priceModel: 'acme-large',
    builtinModel: 'gpt-4o-mini-2024-07-18',
    window: `since=${times[0].slice(0, 10)}T00:00:00.000Z&until=${new Date(Date.now() + DAY).toISOString()}`,
  };
  db.close();
}, 300_000);

afterAll(async () => {
  await openai?.close();
  await server?.stop();
  s?.cleanup();
});

/** Runs the verb on the spool and on PostgreSQL; the same stdout and exit code. */
function same(args, { code = 0 } = {}) {
  const a = cli([...args, '--db', spool]);
  const b = cli([...args, '--db', url]);
  assert.equal(a.code, code, `spool: llm-otel ${args.join(' ')}: ${a.stderr}`);
  assert.equal(b.code, a.code, `postgres: llm-otel ${args.join(' ')}: ${b.stderr}`);
  assert.equal(b.stdout, a.stdout, `llm-otel ${args.join(' ')}: stdout differs`);
  return { sqlite: a, postgres: b };
}

pgTest('the apps made the traffic the verbs are about: every kind of call, shipped once', async () => {
  const calls = JSON.parse(same(['calls', '--json']).postgres.stdout).calls;
  const statuses = new Set(calls.map((c) => c.status));
  for (const st of ['ok', 'error', 'timeout']) assert.ok(statuses.has(st), `a call with status ${st}`);
  assert.ok(
    calls.some((c) => c.cost !== null && c.currency === 'EUR'),
    'a call costed from the user price',
  );
  assert.ok(
    calls.some((c) => c.cost !== null && c.currency === 'USD'),
    'a call costed from the built-in prices',
  );
  assert.ok(
    calls.some((c) => c.request_model === 'acme-local-7b' && c.cost === null),
    'an unpriced model',
  );
  const days = new Set(calls.map((c) => c.started_at.slice(0, 10)));
  assert.equal(days.size >= 3, true, `calls on three days at least: ${[...days]}`);
  const h = spoolHeads();
  assert.equal(calls.length, h.calls, 'every call of the spool, once');
  await withClient(url, async (c) => {
    const n = (await c.query('SELECT count(*)::int AS n, count(DISTINCT span_id)::int AS d FROM llm_calls')).rows[0];
    assert.deepEqual(n, { n: h.calls, d: h.calls });
    const w = (await c.query('SELECT count(*)::int AS n FROM llm_otel_writers')).rows[0];
    assert.equal(w.n, 1, 'one shared spool is one writer');
  });
  assert.ok(F.traces.length >= 10 && F.sessions.length >= 5 && F.runSpanIds.length >= 8, JSON.stringify(F));
  const prices = same(['prices', 'list', '--model', 'acme-large']).postgres.stdout;
  assert.match(prices, /acme-large.*EUR/, 'the user price row, shipped with the calls it costed');
  const redacted = same(['show', calls.find((c) => c.user_id === 'alice' && c.request_model === 'gpt-4o-mini').span_id]).postgres.stdout;
  assert.ok(!redacted.includes('alice@example.com'), 'the email is masked in both');
});

pgTest('calls: every filter, human and --json, identical on both stores', () => {
  for (const c of verbCases(F).calls) same(c.args, c);
});

pgTest('show: every call by id and --json, calls and runs by span id; not found', () => {
  for (const c of verbCases(F).show) same(c.args, c);
});

pgTest('trace and session: every trace and session, human and --json', () => {
  for (const c of verbCases(F).traceSession) same(c.args, c);
});

pgTest('stats, latency, runs: every grouping, the rollup ledger, percentiles', () => {
  for (const c of verbCases(F).stats) same(c.args, c);
});

pgTest('export: calls, messages and runs as CSV and JSON Lines, byte for byte', () => {
  for (const c of verbCases(F).export) same(c.args, c);
});

pgTest('sql and prices list', () => {
  for (const c of verbCases(F).sqlPrices) same(c.args, c);
});

pgTest('llm-otel ui: every view answers as on the spool', async () => {
  const a = await startUi(spool);
  const b = await startUi(url);
  try {
    const paths = uiPaths(F);
    for (const path of paths.json) {
      const [x, y] = [await getJson(a, path), await getJson(b, path)];
      assert.equal(y.status, x.status, `${path}: ${y.body}`);
      assert.deepEqual(y.json, x.json, path);
    }
    for (const path of paths.text) {
      const [x, y] = [await get(a, path), await get(b, path)];
      assert.equal(y.status, 200);
      assert.equal(y.body, x.body, path);
    }
  } finally {
    await a.stop();
    await b.stop();
  }
});
