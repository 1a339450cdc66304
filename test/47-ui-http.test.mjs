// `llm-otel ui` over real HTTP: the printed URL, the token → cookie exchange, the Host check (DNS
// rebinding), GET/HEAD only, security headers on every response, every route's status on good and
// bad input, keyset paging across pages with ties, filters, the streamed export, escaping, the
// read-only connection, live data, and Ctrl-C.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll as after, beforeAll as before, test } from 'vitest';
import { callRow, cli, DIST, scratch, standardItems, traceId } from './4x-helpers/calllog.mjs';
import { EVIL_PROMPT, get, getJson, startUi, uiItems, writeItems } from './4x-helpers/ui.mjs';

let s;
let db;
let ui;
before(async () => {
  s = scratch('ui-http');
  db = join(s.dir, 'calls.db');
  await writeItems(db, [...standardItems(), ...uiItems()]);
  ui = await startUi(db);
});
after(async () => {
  await ui?.stop();
  s.cleanup();
});

const hash = (f) => createHash('sha256').update(readFileSync(f)).digest('hex');
const sql = (q, ...p) => {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare(q).all(...p);
  } finally {
    d.close();
  }
};

test('prints one line with a loopback URL carrying a random token', () => {
  const { stdout } = ui.output();
  assert.match(stdout, /^llm-otel ui: http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}\n$/);
});

test('the token is exchanged once for an HttpOnly SameSite=Strict cookie; without it nothing is served', async () => {
  const first = await get(ui, `/calls?window=7d&token=${ui.token}`, { cookie: false });
  assert.equal(first.status, 303);
  assert.equal(first.headers.location, '/calls?window=7d', 'the token leaves the address bar; the filters stay');
  assert.equal(first.headers['set-cookie'][0], `llm_otel_ui=${ui.token}; Path=/; HttpOnly; SameSite=Strict`);
  const wrong = await get(ui, '/?token=nope', { cookie: false });
  assert.equal(wrong.status, 401);
  for (const path of ['/', '/calls', '/assets/app.js', '/api/overview', '/api/export.csv']) {
    const r = await get(ui, path, { cookie: false });
    assert.equal(r.status, 401, path);
    assert.doesNotMatch(r.body, /"calls"|gpt-4o|import /, `${path} leaks nothing`);
  }
  assert.equal((await get(ui, '/api/overview', { cookie: 'x'.repeat(43) })).status, 401);
  const api = await getJson(ui, '/api/version', { cookie: false });
  assert.deepEqual(Object.keys(api.json), ['error'], 'the API answers with a one-line JSON error');
  assert.equal(
    (await get(ui, '/api/overview?token=' + ui.token, { cookie: false })).status,
    401,
    'the API never takes the token from the URL',
  );
});

test('requests naming another host are refused (DNS rebinding); loopback names are fine', async () => {
  for (const host of [
    'evil.example',
    `evil.example:${ui.port}`,
    `127.0.0.1:${ui.port + 1}`,
    `10.0.0.1:${ui.port}`,
    `127.0.0.1.evil.example:${ui.port}`,
  ]) {
    const r = await get(ui, '/api/version', { host });
    assert.equal(r.status, 403, `Host: ${host}`);
  }
  for (const host of [`127.0.0.1:${ui.port}`, `localhost:${ui.port}`, `LOCALHOST:${ui.port}`]) {
    assert.equal((await get(ui, '/api/version', { host })).status, 200, `Host: ${host}`);
  }
});

test('GET and HEAD only, no CORS, and the security headers on every kind of response', async () => {
  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
    const r = await get(ui, '/api/calls', { method });
    assert.equal(r.status, 405, method);
    assert.equal(r.headers.allow, 'GET, HEAD');
  }
  const head = await get(ui, '/api/overview', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  for (const path of [
    '/',
    '/calls/zzz',
    '/nope',
    '/assets/app.js',
    '/assets/uPlot.iife.min.js',
    '/api/overview',
    '/api/call/0000000000000000',
    '/api/export.jsonl',
  ]) {
    const r = await get(ui, path, { headers: { Origin: 'http://evil.example' } });
    const csp = r.headers['content-security-policy'];
    assert.match(csp, /default-src 'none'/, path);
    assert.match(csp, /script-src 'self';/, path);
    assert.match(csp, /style-src 'self';/, path);
    assert.match(csp, /frame-ancestors 'none'/, path);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, path);
    assert.equal(r.headers['x-content-type-options'], 'nosniff', path);
    assert.equal(r.headers['x-frame-options'], 'DENY', path);
    assert.ok(!Object.keys(r.headers).some((h) => h.startsWith('access-control-')), `${path}: no CORS headers`);
  }
  const page = await get(ui, '/');
  assert.doesNotMatch(
    page.body,
    /<script>|<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i,
    'no inline script, style or handler',
  );
});

test('every page and API route: 200 for good input, 400 / 404 with a clear message for bad, never a stack', async () => {
  const pages = [
    '/',
    '/calls',
    '/calls/c000000000000001',
    `/traces/${traceId(1)}`,
    '/cost',
    '/latency',
    '/errors',
    '/sessions',
    '/sessions/s1',
    '/runs',
    '/users',
    '/?window=30d',
    '/calls?since=2026-11-01&until=2026-11-30T00:00Z',
  ];
  for (const p of pages) {
    const r = await get(ui, p);
    assert.equal(r.status, 200, p);
    assert.match(r.headers['content-type'], /^text\/html/);
    assert.match(r.body, /<script type="module" src="\/assets\/app\.js/);
  }
  const bad = [
    ['/nope', 404, /no page at \/nope/],
    ['/calls/zzz', 400, /16 lowercase hex digits/],
    ['/traces/1234', 400, /32 lowercase hex digits/],
    ['/?window=2y', 400, /window: expected one of 1h, 24h, 7d, 30d/],
    ['/calls?since=yesterday', 400, /since: expected an ISO date/],
    ['/calls?since=2026-12-01&until=2026-11-01', 400, /since: must be before until/],
    ['/assets/../../package.json', 404, /no page|no such file/],
    ['/assets/nope.js', 404, /no such file/],
    ['/sessions/%E0%A4%A', 400, /malformed id/],
  ];
  for (const [p, status, re] of bad) {
    const r = await get(ui, p);
    assert.equal(r.status, status, p);
    assert.match(r.body, re, p);
    assert.doesNotMatch(r.body, /\n\s+at |Error:/, `${p}: no stack`);
  }
  const apis = [
    'version',
    'overview',
    'calls',
    'call/c000000000000001',
    `trace/${traceId(1)}`,
    'cost?by=agent',
    'latency?metric=ttft',
    'errors',
    'sessions',
    'session/s1',
    'runs?kind=tool',
    'users',
    'facets',
  ];
  for (const a of apis) {
    const r = await getJson(ui, `/api/${a}${a.includes('?') ? '&' : '?'}window=30d`);
    assert.equal(r.status, 200, `${a}: ${r.body}`);
    assert.match(r.headers['content-type'], /^application\/json/);
    assert.equal(r.headers['cache-control'], 'no-store');
  }
  const badApi = [
    ['/api/nope', 404, /no such API/],
    ['/api/overview/extra', 404, /no such API/],
    ['/api/call/zzz', 400, /span id/],
    ['/api/call', 400, /give an id/],
    ['/api/call/00000000000000ff', 404, /no call with span id/],
    [`/api/trace/${'f'.repeat(32)}`, 404, /no trace/],
    ['/api/session/no-such-session', 404, /no session/],
    ['/api/calls?limit=0', 400, /limit: expected a whole number from 1 to 500/],
    ['/api/calls?limit=501', 400, /limit/],
    ['/api/calls?after=!!', 400, /after: not a page cursor/],
    ['/api/calls?after=abc', 400, /bad page cursor/],
    ['/api/calls?status=weird', 400, /status: expected one of/],
    ['/api/calls?trace=xyz', 400, /trace: expected 32/],
    ['/api/cost?by=color', 400, /by: expected one of model, user, agent, provider/],
    ['/api/latency?metric=x', 400, /metric/],
    ['/api/runs?kind=bot', 400, /kind/],
    [`/api/calls?user=${'u'.repeat(300)}`, 400, /user: longer than 256/],
    ['/api/export.csv?table=secrets', 400, /table: expected one of calls, messages, runs/],
    ['/api/overview?window=1y', 400, /window/],
  ];
  for (const [p, status, re] of badApi) {
    const r = await getJson(ui, p);
    assert.equal(r.status, status, `${p}: ${r.body}`);
    assert.deepEqual(Object.keys(r.json ?? {}), ['error'], p);
    assert.match(r.json.error, re, p);
    assert.doesNotMatch(r.body, /\\n\s+at /, `${p}: no stack`);
  }
});

test('calls: keyset pages across ties return every call exactly once, in (started_at, id) order', async () => {
  const expected = sql("SELECT span_id FROM llm_calls WHERE session_id = 'tie' ORDER BY started_at DESC, id DESC").map((r) => r.span_id);
  assert.equal(expected.length, 7);
  const seen = [];
  let after = null;
  let pages = 0;
  do {
    const r = await getJson(ui, `/api/calls?window=30d&session=tie&limit=2${after ? `&after=${after}` : ''}`);
    assert.equal(r.status, 200, r.body);
    assert.ok(r.json.rows.length <= 2);
    seen.push(...r.json.rows.map((c) => c.span_id));
    after = r.json.next;
    pages++;
  } while (after && pages < 10);
  assert.equal(pages, 4);
  assert.deepEqual(seen, expected);
  // Every call of the log, two at a time, against SQL's own order.
  const all = sql("SELECT span_id FROM llm_calls WHERE started_at >= '2000-01-01' ORDER BY started_at DESC, id DESC").map((r) => r.span_id);
  const got = [];
  after = null;
  do {
    const r = await getJson(ui, `/api/calls?since=2000-01-01&limit=3${after ? `&after=${after}` : ''}`);
    got.push(...r.json.rows.map((c) => c.span_id));
    after = r.json.next;
  } while (after);
  assert.deepEqual(got, all);
});

test('calls: each filter narrows as SQL says', async () => {
  const ids = async (q) =>
    (await getJson(ui, `/api/calls?limit=500&${q.includes('since=') ? '' : 'since=2000-01-01&'}${q}`)).json.rows
      .map((c) => c.span_id)
      .sort();
  const want = (where, ...p) => sql(`SELECT span_id FROM llm_calls WHERE ${where} ORDER BY span_id`, ...p).map((r) => r.span_id);
  assert.deepEqual(await ids('model=gpt-4o'), want("request_model = 'gpt-4o'"));
  assert.deepEqual(await ids('model=gpt-4o*'), want("request_model GLOB 'gpt-4o*'"));
  assert.deepEqual(await ids('status=failed'), want("status <> 'ok'"));
  assert.deepEqual(await ids('status=timeout'), ['e000000000000002']);
  assert.deepEqual(await ids('provider=azure'), ['e000000000000002']);
  assert.deepEqual(await ids('user=carol'), want("user_id = 'carol'"));
  assert.deepEqual(await ids('agent=planner'), want("agent_name = 'planner'"));
  assert.deepEqual(await ids('q=FLUX%20capacitor'), ['e000000000000002'], 'error text, case-insensitive');
  assert.deepEqual(await ids('q=100%25'), [], 'LIKE wildcards in the text match literally');
  assert.deepEqual(await ids(`trace=${traceId(1)}`), want('trace_id = ?', traceId(1)));
  assert.deepEqual(await ids('session=s1&status=ok'), want("session_id = 's1' AND status = 'ok'"));
  assert.deepEqual(
    await ids('since=2026-11-20T11:00Z&until=2026-11-20T12:00Z'),
    want("started_at >= '2026-11-20T11:00' AND started_at < '2026-11-20T12:00'"),
  );
});

test('numbers equal the database: overview, cost, users, errors, sessions, runs, trace', async () => {
  const o = (await getJson(ui, '/api/overview?window=30d')).json;
  const since = o.window.since.slice(0, 13) + ':00:00.000Z';
  const [h] = sql('SELECT sum(calls) c, sum(errors) e, sum(input_tokens) i FROM llm_usage_hourly WHERE hour >= ?', since);
  assert.deepEqual([o.totals.calls, o.totals.errors, o.totals.input_tokens], [h.c, h.e, h.i]);
  assert.equal(o.totals.source, 'llm_usage_hourly');
  const lat = (await getJson(ui, '/api/overview-latency?window=30d')).json;
  assert.equal(lat.source, 'llm_calls');
  const durations = sql('SELECT duration_ms d FROM llm_calls WHERE started_at >= ? ORDER BY 1', lat.window.since).map((r) => r.d);
  assert.equal(lat.stored_calls, durations.length);
  assert.equal(lat.p50_ms, durations[Math.ceil(0.5 * durations.length) - 1], 'nearest-rank median');
  assert.equal(
    o.series.points.reduce((t, p) => t + p.calls, 0),
    h.c,
  );
  const cost = (await getJson(ui, '/api/cost?window=30d&by=user')).json;
  assert.equal(cost.rows.find((r) => r.key === 'carol').costs.USD, 0.007);
  const users = (await getJson(ui, '/api/users?window=30d')).json;
  assert.deepEqual(
    users.rows.find((u) => u.user_id === 'alice'),
    { user_id: 'alice', calls: 4, errors: 1, success_rate: 0.75, input_tokens: 2800, output_tokens: 550, costs: { USD: 0.00087 } },
  );
  const errors = (await getJson(ui, '/api/errors?window=30d')).json.rows;
  assert.deepEqual(errors.map((e) => [e.error_type, e.model, e.calls, e.example]).sort(), [
    ['APIConnectionTimeoutError', 'gpt-4o', 1, 'e000000000000002'],
    ['RateLimitError', 'gpt-4o', 1, 'c000000000000004'],
  ]);
  const sessions = (await getJson(ui, '/api/sessions?window=30d')).json.rows;
  assert.deepEqual(
    sessions.find((x) => x.session_id === 'tie'),
    { ...sessions.find((x) => x.session_id === 'tie'), calls: 7, cost: 0.007, currency: 'USD', user_id: 'carol' },
  );
  const runs = (await getJson(ui, '/api/runs?window=30d&kind=agent')).json.rows;
  assert.deepEqual([runs[0].name, runs[0].totals.calls, runs[0].totals.input_tokens], ['planner', 3, 2800]);
  const t = (await getJson(ui, `/api/trace/${traceId(1)}`)).json;
  assert.equal(t.roots[0].name, 'planner');
  assert.equal(t.roots[0].calls, 3);
  assert.equal(t.details.b000000000000001.caused_by, 'c000000000000001', 'the tool run links to the call whose answer asked for it');
  assert.deepEqual(t.sessions, ['s1']);
  const sess = (await getJson(ui, '/api/session/s1')).json;
  assert.equal(sess.turns.length, 4);
  assert.deepEqual(
    sess.turns[0].messages.map((m) => m.role),
    ['system', 'user', 'assistant'],
  );
});

test('LLM content comes back exactly as stored: never rewritten, never interpreted', async () => {
  const r = await getJson(ui, '/api/call/e000000000000001');
  assert.equal(r.json.messages[0].content, EVIL_PROMPT);
  assert.equal(r.json.messages[1].truncated, 1);
  const page = await get(ui, '/nope%3Cscript%3Ealert(1)%3C%2Fscript%3E');
  assert.equal(page.status, 404);
  assert.doesNotMatch(page.body, /<script>alert/);
  assert.match(page.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
});

test('export streams the current filter as CSV and JSON Lines, the same rows as `llm-otel export`', async () => {
  const q = 'since=2000-01-01&model=gpt-4o-mini';
  const jsonl = await get(ui, `/api/export.jsonl?${q}`);
  assert.equal(jsonl.status, 200);
  assert.match(jsonl.headers['content-type'], /^application\/x-ndjson/);
  assert.match(jsonl.headers['content-disposition'], /attachment; filename="llm-otel-calls\.jsonl"/);
  assert.equal(jsonl.headers['content-length'], undefined, 'streamed, not buffered');
  const fromCli = cli(['export', '--format', 'jsonl', '--db', db, '--since', '2000-01-01', '--model', 'gpt-4o-mini']);
  assert.equal(fromCli.code, 0, fromCli.stderr);
  const parse = (t) =>
    t
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  const byId = (rows) => [...rows].sort((a, b) => a.id - b.id);
  assert.deepEqual(byId(parse(jsonl.body)), byId(parse(fromCli.stdout)));
  const times = parse(jsonl.body).map((r) => r.started_at);
  assert.deepEqual(times, [...times].sort(), 'by start time');
  assert.equal(parse(jsonl.body).length, 10);
  const csv = await get(ui, `/api/export.csv?${q}`);
  const lines = csv.body.trim().split('\n');
  assert.match(lines[0], /^id,span_id,trace_id,/);
  assert.equal(lines.length, 11);
  const msgs = await get(ui, '/api/export.jsonl?since=2000-01-01&table=messages&session=evil');
  assert.deepEqual(
    parse(msgs.body).map((m) => m.content),
    [EVIL_PROMPT, '<b onmouseover=alert(1)>bold</b>'],
  );
});

test('read-only: the file is never written, however the API is used', async () => {
  const before = hash(db);
  for (const p of [
    '/api/overview?window=30d',
    '/api/calls?since=2000-01-01',
    '/api/export.csv?since=2000-01-01',
    '/api/session/s1',
    `/api/trace/${traceId(1)}`,
  ])
    assert.equal((await get(ui, p)).status, 200);
  assert.equal(hash(db), before);
});

test('a call written by the app while the dashboard runs: data_version moves and the call is listed', async () => {
  const v1 = (await getJson(ui, '/api/version')).json.data_version;
  await writeItems(db, [
    {
      kind: 'call',
      messages: [],
      call: callRow({
        span_id: 'f00000000000000a',
        trace_id: traceId(300),
        request_model: 'fresh-model',
        started_at: new Date().toISOString(),
      }),
    },
  ]);
  const v2 = (await getJson(ui, '/api/version')).json.data_version;
  assert.notEqual(v2, v1);
  const rows = (await getJson(ui, '/api/calls?window=1h&model=fresh-model')).json.rows;
  assert.deepEqual(
    rows.map((r) => r.span_id),
    ['f00000000000000a'],
  );
});

test('a non-loopback --host warns that prompts are served to the network; Ctrl-C ends with exit 0', async () => {
  const open = await startUi(db, ['--host', '0.0.0.0']);
  const r = await open.stop();
  assert.match(r.stderr, /WARNING: listening on 0\.0\.0\.0, not loopback/);
  assert.equal(r.code, 0);
  const plain = await startUi(db);
  const end = await plain.stop();
  assert.equal(end.code, 0);
  assert.equal(end.stderr, '', 'nothing on stderr for a clean run');
});

test('a missing call log is one line and exit 1, like every verb', () => {
  const r = cli(['ui', '--no-open', '--db', join(s.dir, 'missing.db')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^llm-otel: no call log at .*missing\.db/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('latency quantiles past the exact range stay within 0.25 % of the exact value; bad values stay bounded', async () => {
  const { Quantiles } = await import(join(DIST, 'src', 'query', 'quantiles.js'));
  const q = new Quantiles();
  const values = [];
  let seed = 7;
  for (let i = 0; i < 100_000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const v = 50 + (seed / 2 ** 31) ** 3 * 20_000;
    values.push(v);
    q.add(v);
  }
  values.sort((a, b) => a - b);
  for (const p of [0.5, 0.9, 0.95, 0.99]) {
    const exact = values[Math.ceil(p * values.length) - 1];
    assert.ok(Math.abs(q.q(p) - exact) / exact <= 0.0025, `p${p * 100}: ${q.q(p)} vs ${exact}`);
  }
  q.add(Number.POSITIVE_INFINITY);
  q.add(-5);
  assert.equal(q.n, 100_002);
  assert.ok(Number.isFinite(q.q(0.5)));
});
