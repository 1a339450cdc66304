// Fleet mode, the read side: every CLI verb on a PostgreSQL call log prints exactly what it prints
// on the SQLite call log holding the same calls (stdout and exit code compared byte for byte). The
// SQLite log is the standard CLI fixture (4x-helpers) plus calls with JSON columns in unsorted key
// order, a priced call, and a call from last year; it is copied into a real PostgreSQL 15 by the
// test-only copier (helpers/fleet-copy.mjs), as a shipper would copy it.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, test } from 'vitest';
import { callRow, cli, DIST, message, runRow, scratch, standardItems, traceId, writeItems } from './4x-helpers/calllog.mjs';
import { get, getJson, startUi } from './4x-helpers/ui.mjs';
import { uiPaths, verbCases } from './helpers/fleet-cli-cases.mjs';
import { copySqliteToPostgres } from './helpers/fleet-copy.mjs';
import { postgresUnavailable, startPostgres } from './helpers/postgres.mjs';

const why = postgresUnavailable();
// In CI a missing PostgreSQL is a failure, not a skip.
if (why && process.env.CI) throw new Error(`PostgreSQL is required in CI: ${why}`);
const pgTest = why ? test.skip : test;
if (why) console.log(`64-fleet-cli: skipped: ${why}`);

let s;
let file;
let server;
let url;

/** Extra calls: JSON columns whose keys are not in sorted order, a priced call, a call from last year. */
function extraItems() {
  return [
    {
      kind: 'call',
      call: callRow({
        trace_id: traceId(7),
        span_id: 'c000000000000007',
        session_id: 's3',
        user_id: 'carol',
        agent_name: 'writer',
        request_model: 'acme-large',
        response_model: 'acme-large-001',
        started_at: '2026-11-21T09:15:30.250Z',
        duration_ms: 321.5,
        ttft_ms: 42.25,
        stream: 1,
        input_tokens: 1200,
        output_tokens: 345,
        cost: 0.00447,
        currency: 'EUR',
        price_id: 1,
        tags: '["zeta","alpha"]',
        metadata: '{"tenant":"t-9","region":"eu","nested":{"b":2,"a":1}}',
        attributes: '{"gen_ai.request.model":"acme-large","a.first":true,"z.last":[3,1,2],"n":1.5}',
        finish_reasons: '["stop","length"]',
        temperature: 0.7,
        top_p: 0.9,
        max_tokens: 512,
      }),
      messages: [
        message({ role: 'user', content: 'Tell me about\nnewlines\tand tabs', content_chars: 5000, truncated: 1, token_estimate: 9 }),
        message({
          direction: 'output',
          role: 'assistant',
          content: null,
          content_chars: null,
          tool_calls: '[{"name":"lookup","id":"call_9","arguments":"{\\"b\\":1,\\"a\\":2}"}]',
        }),
      ],
    },
    {
      kind: 'run',
      run: runRow({
        span_id: 'a000000000000007',
        trace_id: traceId(8),
        kind: 'workflow',
        name: 'nightly',
        session_id: 's4',
        started_at: '2025-11-20T23:59:59.999Z',
        duration_ms: 1500,
        status: 'error',
        error_message: 'boom',
        attributes: '{"y":1,"x":{"d":4,"c":3}}',
      }),
    },
    {
      kind: 'call',
      call: callRow({
        trace_id: traceId(8),
        span_id: 'c000000000000008',
        parent_span_id: 'a000000000000007',
        parent_call_id: 'a000000000000007',
        session_id: 's4',
        request_model: 'gpt-4o-mini',
        started_at: '2025-11-21T00:00:00.000Z',
        duration_ms: 1000,
        input_tokens: 10,
        output_tokens: 20,
        cost: 0.00001,
        currency: 'USD',
        status: 'timeout',
        error_type: 'APIConnectionTimeoutError',
        error_message: 'Request timed out.',
      }),
      messages: [],
    },
  ];
}

beforeAll(async () => {
  if (why) return;
  s = scratch('fleet-cli');
  file = join(s.dir, 'calls.db');
  // A user price row first (id 1 in the file), then the calls through the exporter's writer.
  const set = cli(['prices', 'set', 'acme-large', '--input', '2', '--output', '6', '--currency', 'EUR', '--db', file]);
  assert.equal(set.code, 0, set.stderr);
  await writeItems(file, [...standardItems(), ...extraItems()]);
  server = await startPostgres();
  url = await server.createDatabase('fleet_cli');
  const copied = await copySqliteToPostgres(file, url, { writerId: 'writer-a' });
  assert.deepEqual(copied, { calls: 8, runs: 3, messages: 6 });
});

afterAll(async () => {
  await server?.stop();
  s?.cleanup();
});

/** What this file's call log holds, for the shared verb list (helpers/fleet-cli-cases.mjs). */
const F = {
  session: 's1',
  user: 'alice',
  agent: 'planner',
  model: 'gpt-4o-mini',
  modelGlob: 'gpt-4o*',
  modelCharGlob: 'acme-?arge',
  windows: [
    ['2026-11-20T10:00:01Z', '2026-11-20T12:00:00Z'],
    ['2025-01-01', '2026-01-01'],
  ],
  rollupSince: '2026-11-19',
  callIds: [1, 4, 7, 8],
  spanIds: ['c000000000000007', 'c000000000000003'],
  runSpanIds: ['a000000000000001', 'a000000000000007'],
  traces: [traceId(1), traceId(2), traceId(8)],
  sessions: ['s1', 's2', 's3', 's4'],
  ambiguousTracePrefix: traceId(7).slice(0, 8),
  priceModel: 'acme-large',
  builtinModel: 'gpt-4o-mini-2024-07-18',
  window: 'since=2025-01-01T00:00:00.000Z&until=2026-12-31T00:00:00.000Z',
};
const CASES = verbCases(F);

/** Runs the verb on both stores and asserts the same stdout and exit code; returns them. */
function same(args, { code = 0 } = {}) {
  const a = cli([...args, '--db', file]);
  const b = cli([...args, '--db', url]);
  assert.equal(a.code, code, `sqlite: llm-otel ${args.join(' ')}: ${a.stderr}`);
  assert.equal(b.code, a.code, `postgres: llm-otel ${args.join(' ')}: ${b.stderr}`);
  assert.equal(b.stdout, a.stdout, `llm-otel ${args.join(' ')}: stdout differs`);
  return { sqlite: a, postgres: b };
}

pgTest('calls: every filter, human and --json, identical on both stores', () => {
  const all = same(['calls', '--json']).postgres;
  assert.deepEqual(
    JSON.parse(all.stdout).calls.map((c) => c.id),
    [7, 6, 4, 3, 2, 1, 5, 8],
  );
  for (const c of CASES.calls) same(c.args, c);
});

pgTest('show: columns, canonical JSON columns, messages, the price row, a run; not found', () => {
  const priced = JSON.parse(same(['show', '7', '--json']).postgres.stdout);
  assert.deepEqual(priced.call.metadata, { nested: { a: 1, b: 2 }, region: 'eu', tenant: 't-9' });
  assert.equal(priced.call.stream, 1, 'flags are 0/1 on both stores');
  assert.equal(priced.call.started_at, '2026-11-21T09:15:30.250Z');
  assert.equal(priced.price.model_pattern, 'acme-large');
  assert.equal(priced.price.currency, 'EUR');
  assert.equal(priced.call.price_id, undefined, 'no per-file price id');
  const human = same(['show', 'c000000000000007']).postgres.stdout;
  assert.match(human, /metadata\s+\{"nested":\{"a":1,"b":2\},"region":"eu","tenant":"t-9"\}/, 'keys sorted, no spaces');
  assert.match(human, /price \(user\): \* acme-large — input 2, cached -, output 6 EUR\/1M tokens/);
  assert.match(human, /tool calls: \[\{"arguments":"\{\\"b\\":1,\\"a\\":2\}","id":"call_9","name":"lookup"\}\]/);
  for (const c of CASES.show) same(c.args, c);
  same(['show', '999'], { code: 1 });
});

pgTest('trace and session: trees, prefixes, conversations; errors alike', () => {
  for (const c of CASES.traceSession) same(c.args, c);
});

pgTest('stats, latency, runs: every grouping, the rollup ledger, percentiles', () => {
  for (const c of CASES.stats) same(c.args, c);
});

pgTest('export: calls, messages and runs as CSV and JSON Lines, byte for byte', () => {
  for (const c of CASES.export) same(c.args, c);
  const csv = same(['export', '--format', 'csv']).postgres.stdout;
  assert.ok(!csv.split('\n')[0].includes('price_id'), 'no per-file price id column');
  assert.match(csv, /"\{""a.first"":true,""gen_ai.request.model"":""acme-large"",""n"":1.5,""z.last"":\[3,1,2\]\}"/);
});

pgTest('sql and prices list: the same rows where the query means the same in both dialects', () => {
  for (const c of CASES.sqlPrices) same(c.args, c);
});

pgTest('LLM_OTEL_DB=postgres://… works like --db; the URL password never reaches the output', () => {
  const a = cli(['stats', '--by', 'model'], { env: { LLM_OTEL_DB: url } });
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, cli(['stats', '--by', 'model', '--db', file]).stdout);
  const missing = cli(['show', '999'], { env: { LLM_OTEL_DB: url } });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^llm-otel: no call with id 999 in postgres:\/\/postgres:\*\*\*@/);
  assert.ok(!missing.stderr.includes(':test@'), 'password redacted');
});

pgTest('a database without llm-otel tables: one line, exit 1, and nothing is created', async () => {
  const empty = await server.createDatabase('fleet_empty');
  const r = cli(['calls', '--db', empty]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(
    r.stderr,
    /^llm-otel: no llm-otel tables at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/fleet_empty_\d+ \(.*reading creates nothing\)\n$/,
  );
  const c = new pg.Client({ connectionString: empty });
  await c.connect();
  try {
    const { rows } = await c.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'");
    assert.equal(rows[0].n, 0, 'reading created no table');
  } finally {
    await c.end();
  }
  // No such database at all: "not found" too.
  const u = new URL(url);
  u.pathname = '/no_such_db';
  const nodb = cli(['stats', '--db', u.toString()]);
  assert.equal(nodb.code, 1);
  assert.match(
    nodb.stderr,
    /^llm-otel: cannot read postgres:\/\/postgres:\*\*\*@[^/]+\/no_such_db: database "no_such_db" does not exist\n$/,
  );
  // The verbs that write a local call log refuse a URL, in one line.
  for (const args of [
    ['prices', 'set', 'acme-large', '--input', '1', '--output', '2'],
    ['prices', 'import', join(s.dir, 'none.json')],
    ['demo'],
  ]) {
    const w = cli([...args, '--db', empty]);
    assert.equal(w.code, 2, args.join(' '));
    assert.match(w.stderr, /^llm-otel: (prices set|prices import|demo): [^\n]+\n$/);
  }
  // A fleet schema newer than this llm-otel knows: refused, untouched.
  const newer = await server.createDatabase('fleet_newer');
  await copySqliteToPostgres(file, newer, { writerId: 'w' });
  const n = new pg.Client({ connectionString: newer });
  await n.connect();
  await n.query('INSERT INTO llm_otel_schema (version) VALUES (99)');
  await n.end();
  const refused = cli(['calls', '--db', newer]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /^llm-otel: .* was written by a newer llm-otel \(fleet schema version 99; .*\n$/);
});

pgTest('llm-otel ui --db postgres://…: every view answers as on SQLite; data_version moves when a writer ships', async () => {
  const a = await startUi(file);
  const b = await startUi(url);
  try {
    assert.ok(!b.output().stdout.includes(':test@') && !b.output().stderr.includes(':test@'), 'no password printed');
    const w = F.window;
    const paths = uiPaths(F);
    for (const path of paths.json) {
      const [x, y] = [await getJson(a, path), await getJson(b, path)];
      assert.equal(y.status, x.status, `${path}: ${y.body}`);
      assert.deepEqual(y.json, x.json, path);
    }
    // A page cursor of one page leads to the same next page.
    const first = await getJson(b, `/api/calls?${w}&limit=3`);
    const next = await getJson(b, `/api/calls?${w}&limit=3&after=${first.json.next}`);
    const sqliteNext = await getJson(a, `/api/calls?${w}&limit=3&after=${(await getJson(a, `/api/calls?${w}&limit=3`)).json.next}`);
    assert.deepEqual(next.json, sqliteNext.json);
    for (const path of paths.text) {
      const [x, y] = [await get(a, path), await get(b, path)];
      assert.equal(y.status, 200);
      assert.equal(y.body, x.body, path);
    }
    // Another writer ships: the dashboard's "anything new?" changes at once.
    const before = (await getJson(b, '/api/version')).json.data_version;
    assert.equal(typeof before, 'number');
    const other = join(s.dir, 'other.db');
    await writeItems(other, [
      {
        kind: 'call',
        call: callRow({ span_id: 'd000000000000001', trace_id: traceId(40), started_at: '2026-11-22T00:00:00.000Z' }),
        messages: [],
      },
    ]);
    await copySqliteToPostgres(other, url, { writerId: 'writer-b', migrate: false });
    const after = (await getJson(b, '/api/version')).json.data_version;
    assert.notEqual(after, before);
  } finally {
    await a.stop();
    await b.stop();
  }
});

pgTest(
  'a real instrumented run (llm-otel demo: the openai SDK under register, built-in prices) reads the same from PostgreSQL',
  async () => {
    const demoFile = join(s.dir, 'demo.db');
    const demo = cli(['demo', '--db', demoFile], { env: { OTEL_TRACES_EXPORTER: '', OTEL_EXPORTER_OTLP_ENDPOINT: '' } });
    assert.equal(demo.code, 0, demo.stderr);
    const demoUrl = await server.createDatabase('fleet_demo');
    const copied = await copySqliteToPostgres(demoFile, demoUrl, { writerId: 'demo' });
    assert.equal(copied.calls, 8);
    const both = (args, code = 0) => {
      const a = cli([...args, '--db', demoFile]);
      const b = cli([...args, '--db', demoUrl]);
      assert.equal(a.code, code, `${args.join(' ')}: ${a.stderr}`);
      assert.equal(b.code, a.code, `${args.join(' ')}: ${b.stderr}`);
      assert.equal(b.stdout, a.stdout, `llm-otel ${args.join(' ')}: stdout differs`);
      return b.stdout;
    };
    const calls = JSON.parse(both(['calls', '--json'])).calls;
    for (const c of calls) {
      both(['show', c.span_id]);
      both(['show', String(c.id), '--json']);
    }
    const priced = JSON.parse(both(['show', calls.find((c) => c.cost !== null).span_id, '--json']));
    assert.equal(priced.price.source, 'builtin', 'the built-in row that priced it, found by its key');
    const traces = [...new Set(calls.map((c) => c.trace_id))];
    for (const t of traces) both(['trace', t]);
    for (const args of [
      ['calls'],
      ['session', 'demo-session-1'],
      ['session', 'demo-session-2', '--json'],
      ['stats', '--by', 'model'],
      ['stats', '--by', 'user', '--json'],
      ['stats', '--rollup', '--by', 'provider'],
      ['latency', '--json'],
      ['latency', '--ttft'],
      ['runs', '--json'],
      ['export', '--format', 'jsonl'],
      ['export', '--format', 'csv', '--table', 'messages'],
      ['export', '--format', 'csv', '--table', 'runs'],
      ['prices', 'list'],
      ['prices', 'list', '--json', '--provider', 'deepseek'],
      ['sql', 'SELECT span_id, attributes FROM llm_calls ORDER BY id'],
    ])
      both(args);
  },
);

pgTest('groups beyond 20,000 calls: the same percentiles as SQLite (its histogram ranked in SQL)', async () => {
  const big = join(s.dir, 'big.db');
  const items = [];
  let x = 7;
  const rand = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
  for (let i = 0; i < 23_000; i++) {
    // Sub-millisecond, zero and long durations, spread over many buckets.
    const d = i % 500 === 0 ? 0 : i % 97 === 0 ? rand() : Math.round(rand() * rand() * 60_000 * 1000) / 1000;
    items.push({
      kind: 'call',
      call: callRow({
        span_id: `b${String(i).padStart(15, '0')}`,
        trace_id: traceId(100 + i),
        request_model: i % 10 === 0 ? 'small-model' : 'big-model',
        started_at: new Date(Date.UTC(2026, 10, 20) + i * 1000).toISOString(),
        duration_ms: d,
        ttft_ms: d / 3,
        stream: 1,
      }),
      messages: [],
    });
  }
  await writeItems(big, items);
  const bigUrl = await server.createDatabase('fleet_big');
  await copySqliteToPostgres(big, bigUrl, { writerId: 'big' });
  for (const args of [
    ['latency', '--json'],
    ['latency', '--ttft', '--json'],
    ['stats', '--json'],
    ['stats', '--by', 'model'],
  ]) {
    const a = cli([...args, '--db', big]);
    const b = cli([...args, '--db', bigUrl]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.stdout, a.stdout, `llm-otel ${args.join(' ')}`);
  }
  const rows = JSON.parse(cli(['latency', '--json', '--db', bigUrl]).stdout).rows;
  assert.equal(rows.find((r) => r.model === 'big-model').calls, 20_700, 'a group beyond the exact limit');
});

pgTest('float sums and means are the same whatever order each store adds them in (the read layer)', async () => {
  // Ids in the reverse of time order: SQLite adds in index (time) order, PostgreSQL in row order,
  // and 0.1 + 0.2 + 0.3 is not 0.3 + 0.2 + 0.1 in floating point.
  const f = join(s.dir, 'floats.db');
  const vals = [0.1, 0.2, 0.3];
  await writeItems(f, [
    { kind: 'run', run: runRow({ span_id: 'e000000000000001', trace_id: traceId(60), started_at: '2026-11-20T09:00:00.000Z' }) },
    ...vals.map((v, i) => ({
      kind: 'call',
      call: callRow({
        span_id: `e00000000000001${i}`,
        trace_id: traceId(60),
        parent_span_id: 'e000000000000001',
        parent_call_id: 'e000000000000001',
        started_at: `2026-11-20T${String(13 - i * 3).padStart(2, '0')}:00:00.000Z`,
        duration_ms: v,
        ttft_ms: v,
        cost: v,
        currency: 'USD',
      }),
      messages: [],
    })),
  ]);
  const floatsUrl = await server.createDatabase('fleet_floats');
  await copySqliteToPostgres(f, floatsUrl, { writerId: 'floats' });
  const { openReader } = await import(join(DIST, 'src', 'query', 'open.js'));
  const [a, b] = [await openReader(f), await openReader(floatsUrl)];
  try {
    for (const [name, ask] of [
      ['groupStats', (r) => r.groupStats(null, {})],
      ['groupStats ttft', (r) => r.groupStats('model', {}, 'ttft')],
      ['rollupGroups', (r) => r.rollupGroups(null, {})],
      ['usageSeries', (r) => r.usageSeries({}, 24, null)],
      ['runTotals', async (r) => Object.fromEntries(await r.runTotals(['e000000000000001']))],
    ])
      assert.deepEqual(await ask(b), await ask(a), name);
    const [g] = await a.groupStats(null, {});
    assert.equal(g.latency.avg, 0.2);
    assert.deepEqual(g.costs, { USD: 0.6 });
  } finally {
    await a.close();
    await b.close();
  }
});

pgTest('sessions list: pages over many writers’ ledger rows equal the merged view, in both orders, under every filter', async () => {
  // A session's last_at, user and agent are merged over its writers' rows (the latest writer's
  // wins), so its rows sit all over the per-writer last_at order: the pages must still be exactly
  // the merged view's order, cut at the cursors.
  const sessUrl = await server.createDatabase('fleet_sessions_pages');
  const c = new pg.Client({ connectionString: sessUrl });
  await c.connect();
  try {
    const { pgMigrate } = await import(join(DIST, 'src', 'fleet', 'schema.js'));
    await pgMigrate(c);
    await c.query(
      `INSERT INTO llm_usage_sessions (writer_id, session_id, first_at, last_at, calls, errors, input_tokens, output_tokens, cost, currency, user_id, agent_name)
       SELECT 'w' || w, 's' || g, t - interval '90 seconds', t, 1 + w, ((g + w) % 3 = 0 AND w = 1)::int, 10 * g, w, 0.25 * w, 'USD',
              CASE WHEN (g + w) % 4 = 0 THEN NULL ELSE 'u' || ((g * w) % 3) END, 'a' || ((g + w) % 2)
       FROM generate_series(1, 400) g, generate_series(0, 2) w,
            LATERAL (SELECT timestamptz '2026-11-20T00:00:00Z' + ((g * 37 + w * 101) % 500) * interval '1 second' AS t) x
       WHERE (g + w) % 5 <> 0`,
    );
  } finally {
    await c.end();
  }
  const { openReader } = await import(join(DIST, 'src', 'query', 'open.js'));
  const r = await openReader(sessUrl);
  try {
    const filters = [
      {},
      { since: '2026-11-20T00:05:00.000Z' },
      { until: '2026-11-20T00:03:00.000Z' },
      { user: 'u1' },
      { agent: 'a0' },
      { since: '2026-11-20T00:02:00.000Z', until: '2026-11-20T00:06:00.000Z', user: 'u2', agent: 'a1' },
    ];
    for (const f of filters) {
      const where = [];
      const vals = [];
      const add = (sql, v) => {
        vals.push(v);
        where.push(sql.replace('?', `$${vals.length}`));
      };
      if (f.since) add('last_at >= ?::timestamptz', f.since);
      if (f.until) add('first_at < ?::timestamptz', f.until);
      if (f.user) add('user_id = ?', f.user);
      if (f.agent) add('agent_name = ?', f.agent);
      for (const order of ['desc', 'asc']) {
        const dir = order === 'asc' ? 'ASC' : 'DESC';
        const want = await r.q(
          `SELECT session_id, first_at, last_at, calls, errors, input_tokens, output_tokens, cost, currency, user_id, agent_name
           FROM llm_usage_sessions_total ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
           ORDER BY last_at ${dir}, session_id COLLATE "C" ${dir}`,
          vals,
        );
        assert.ok(want.length > 0, `the fixture has sessions for ${JSON.stringify(f)}`);
        for (const limit of [1, 7, 50, 1000]) {
          const got = [];
          let after = null;
          for (let pages = 0; ; pages++) {
            assert.ok(pages <= want.length, 'the pages end');
            const page = await r.listSessions(f, { limit, after, order });
            assert.ok(page.rows.length <= limit);
            got.push(...page.rows);
            if (!page.next) break;
            assert.equal(page.rows.length, limit, 'only the last page is short');
            after = page.next;
          }
          assert.deepEqual(got, want, `${JSON.stringify(f)} ${order} by ${limit}`);
        }
      }
    }
    const [one] = await r.q(`SELECT count(DISTINCT last_at)::int AS d, count(*)::int AS n FROM llm_usage_sessions_total`);
    assert.ok(one.d < one.n, 'sessions share last_at values (ties cut by the session id)');
  } finally {
    await r.close();
  }
});
