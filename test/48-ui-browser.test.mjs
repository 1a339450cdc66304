// `llm-otel ui` in a real browser: Debian's headless Chromium driven by playwright-core, on a call
// log written by real instrumented calls (`llm-otel demo`) plus rows from the project's writer
// (ties, a prompt carrying HTML). Each view renders with no console error, no CSP violation and
// no request leaving 127.0.0.1; charts are drawn; numbers equal the DB's; the malicious prompt is
// text; links lead from a call to its trace to its session; a reloaded deep link keeps its
// filters; a new call appears without a reload. Screenshots: test/.artifacts/ui/.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { chromium } from 'playwright-core';
import { afterAll as after, beforeAll as before, test } from 'vitest';
import { callRow, cli, ROOT, scratch, traceId } from './4x-helpers/calllog.mjs';
import { EVIL_PROMPT, startUi, uiItems, writeItems } from './4x-helpers/ui.mjs';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test', '.artifacts', 'ui');
// CI installs Chromium (.ci/run); elsewhere a machine without it skips this file, saying why.
const skip = !existsSync(CHROMIUM) && !process.env.CI ? `${CHROMIUM} is missing (apt-get install -y chromium)` : false;

let s;
let db;
let ui;
let browser;
let page;
const problems = [];
const outside = [];

before(async () => {
  if (skip) return;
  s = scratch('ui-browser');
  db = join(s.dir, 'calls.db');
  const demo = cli(['demo', '--db', db], { env: { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: '' } });
  assert.equal(demo.code, 0, demo.stderr + demo.stdout);
  await writeItems(db, uiItems());
  ui = await startUi(db);
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launchPersistentContext(join(s.dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!(u.protocol === 'data:' || (u.hostname === '127.0.0.1' && Number(u.port) === ui.port))) outside.push(r.url());
  });
  // Reported by the browser itself for any blocked script, style or connection.
  await browser.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(ui.url);
  await rendered();
});

after(async () => {
  await browser?.close();
  await ui?.stop();
  s?.cleanup();
});

async function rendered() {
  await page.waitForSelector('body[data-rendered] #main .view', { timeout: 15_000 });
}

async function visit(path, shot) {
  await page.goto(`${ui.base}${path}`);
  await rendered();
  const csp = await page.evaluate(() => window.__csp);
  assert.deepEqual(csp, [], `${path}: CSP violations`);
  if (shot) await page.screenshot({ path: join(SHOTS, `${shot}.png`), fullPage: true });
}

const q = (sql, ...p) => {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare(sql).all(...p);
  } finally {
    d.close();
  }
};

const opts = { skip };

test('overview: KPI tiles equal llm_usage_hourly, charts are drawn', opts, async () => {
  await visit('/?window=24h', '01-overview');
  const tiles = await page.$$eval('.tile', (ts) =>
    Object.fromEntries(ts.map((t) => [t.querySelector('.label').textContent, t.querySelector('.value').textContent])),
  );
  const since = new Date(Date.now() - 86_400_000).toISOString().slice(0, 13) + ':00:00.000Z';
  const [h] = q('SELECT sum(calls) c, sum(input_tokens) i FROM llm_usage_hourly WHERE hour >= ?', since);
  assert.equal(tiles.calls, h.c.toLocaleString('en-US'));
  assert.equal(tiles['input tokens'], h.i.toLocaleString('en-US'));
  const canvases = await page.$$eval('.chart canvas', (cs) =>
    cs.map((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let painted = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) painted++;
      return painted;
    }),
  );
  assert.ok(canvases.length >= 2, 'calls chart and a cost chart');
  assert.ok(
    canvases.every((n) => n > 500),
    `every chart has pixels drawn: ${canvases}`,
  );
});

test('each view renders from the call log', opts, async () => {
  const agentTrace = q("SELECT trace_id FROM llm_runs WHERE kind = 'agent' LIMIT 1")[0].trace_id;
  const views = [
    ['/calls?window=24h', '02-calls', '.grid.calls tbody tr', q('SELECT count(*) n FROM llm_calls')[0].n],
    [
      `/traces/${agentTrace}`,
      '04-trace',
      '.wf-row:not(.wf-head)',
      q(
        'SELECT (SELECT count(*) FROM llm_calls WHERE trace_id = ?) + (SELECT count(*) FROM llm_runs WHERE trace_id = ?) n',
        agentTrace,
        agentTrace,
      )[0].n,
    ],
    ['/cost?window=24h', '05-cost', '.grid.cost tbody tr', null],
    ['/latency?window=24h', '06-latency', '.grid.latency tbody tr', q('SELECT count(DISTINCT request_model) n FROM llm_calls')[0].n],
    [
      '/errors?window=24h',
      '07-errors',
      '.grid.errors tbody tr',
      q("SELECT count(*) n FROM (SELECT DISTINCT error_type, request_model, status FROM llm_calls WHERE status <> 'ok')")[0].n,
    ],
    ['/sessions?window=24h', '08-sessions', '.grid.sessions tbody tr', q('SELECT count(*) n FROM llm_usage_sessions')[0].n],
    ['/sessions/demo-session-1', '09-session', '.turn', q("SELECT count(*) n FROM llm_calls WHERE session_id = 'demo-session-1'")[0].n],
    ['/runs?window=24h', '10-runs', '.grid.runs tbody tr', q('SELECT count(*) n FROM llm_runs')[0].n],
    ['/users?window=24h', '11-users', '.grid.users tbody tr', q('SELECT count(DISTINCT user_id) n FROM llm_usage_hourly')[0].n],
  ];
  for (const [path, shot, rows, n] of views) {
    await visit(path, shot);
    const count = await page.$$eval(rows, (r) => r.length);
    if (n === null) assert.ok(count > 0, `${path}: rows`);
    else assert.equal(count, n, `${path}: ${rows}`);
  }
  // The waterfall links the tool run to the LLM call whose answer asked for it.
  await visit(`/traces/${agentTrace}`);
  assert.ok((await page.$$('[data-link=caused-by]')).length >= 1, 'tool run → the call that asked for it');
});

test('a prompt carrying <img onerror> and <script> shows as text and runs nothing', opts, async () => {
  await visit('/calls/e000000000000001', '03-call');
  const text = await page.$eval('.conversation', (c) => c.textContent);
  assert.ok(text.includes(EVIL_PROMPT), 'the prompt is shown, character for character');
  assert.ok(text.includes('<b onmouseover=alert(1)>bold</b>'));
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'nothing ran');
  assert.equal(
    await page.$$eval('.conversation img, .conversation script, .conversation b', (e) => e.length),
    0,
    'no element was made from the content',
  );
  assert.match(await page.$eval('.truncated', (e) => e.textContent), /truncated/);
  await visit('/sessions/evil');
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
});

test('from a call to its trace to its session, by clicking', opts, async () => {
  await visit('/calls?window=24h&session=demo-session-1');
  await Promise.all([page.waitForURL(/\/calls\/[0-9a-f]{16}$/), page.click('.call-link >> nth=0')]);
  await rendered();
  await Promise.all([page.waitForURL(/\/traces\/[0-9a-f]{32}$/), page.click('[data-link=trace]')]);
  await rendered();
  await Promise.all([page.waitForURL(/\/sessions\/demo-session-1$/), page.click('[data-link=session] >> nth=0')]);
  await rendered();
  assert.match(await page.$eval('h1', (e) => e.textContent), /Session demo-session-1/);
});

test('a deep link keeps its filters across a reload', opts, async () => {
  const path = '/calls?window=7d&model=gpt-4o-mini&status=ok&user=alice';
  const want = q("SELECT count(*) n FROM llm_calls WHERE request_model = 'gpt-4o-mini' AND status = 'ok' AND user_id = 'alice'")[0].n;
  assert.ok(want > 0);
  for (const step of ['load', 'reload']) {
    if (step === 'load') await visit(path);
    else {
      await page.reload();
      await rendered();
    }
    assert.equal(await page.$eval('select[name=model]', (e) => e.value), 'gpt-4o-mini', step);
    assert.equal(await page.$eval('select[name=status]', (e) => e.value), 'ok', step);
    assert.equal(await page.$eval('input[name=user]', (e) => e.value), 'alice', step);
    assert.equal(await page.$eval('.window button.on', (e) => e.textContent), '7d', step);
    assert.equal(await page.$$eval('.grid.calls tbody tr', (r) => r.length), want, step);
  }
  // Changing a filter in the form puts it in the URL.
  await page.selectOption('select[name=status]', 'failed');
  await Promise.all([page.waitForURL(/status=failed/), page.click('form.filters button[type=submit]')]);
  assert.match(page.url(), /model=gpt-4o-mini/);
});

test('a call written while the page is open appears without a reload, filters kept', opts, async () => {
  await visit('/calls?window=1h&model=fresh-model');
  assert.equal(await page.$$eval('.grid.calls tbody tr', (r) => r.length), 0);
  assert.equal(await page.$eval('select[name=model]', (e) => e.value), 'fresh-model', 'a model with no calls yet stays selected');
  await writeItems(db, [
    {
      kind: 'call',
      messages: [],
      call: callRow({
        span_id: 'f00000000000000b',
        trace_id: traceId(400),
        request_model: 'fresh-model',
        started_at: new Date().toISOString(),
      }),
    },
  ]);
  await page.waitForSelector('.grid.calls tbody tr', { timeout: 15_000 });
  assert.equal(await page.$$eval('.grid.calls tbody tr', (r) => r.length), 1);
  assert.match(page.url(), /model=fresh-model/);
  assert.equal(await page.$eval('select[name=model]', (e) => e.value), 'fresh-model');
});

test('no console errors, no CSP violations, no request left 127.0.0.1', opts, () => {
  assert.deepEqual(problems, []);
  assert.deepEqual(outside, []);
});
