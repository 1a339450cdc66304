// Benchmark: `llm-otel ui` on a 1,000,000-call log with messages and runs (issue 13). The DB is
// written through the exporter's own path (bench/lib/seed-calllog.mjs, ending now), then the real
// `llm-otel ui` process is started and every view's API is timed over loopback HTTP (server time
// as the client sees it: request sent → last byte; best and first of 3), the export's first bytes,
// the server's RSS, and — with Chromium installed — the overview's first paint in a real browser.
//   node scripts/build.mjs && node bench/ui-1m.bench.mjs [--calls 1000000] [--keep path]

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startUi } from '../test/4x-helpers/ui.mjs';
import { CALLS_PER_TRACE, generate, hex } from './lib/seed-calllog.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const N = Number(arg('--calls', '1000000'));
const keep = arg('--keep', null);
const path = keep ?? join(tmpdir(), `llm-otel-ui-bench-${process.pid}.db`);

if (!existsSync(path)) await generate(path, N, { tEnd: Date.now(), messages: true });
else console.log(`using existing ${path}`);

const t0 = performance.now();
const ui = await startUi(path);
console.log(`URL printed ${(performance.now() - t0).toFixed(0)} ms after start (process start-up included)`);

/** One request: ms to the first byte and to the last. */
function timed(p, { stopAfterFirstByte = false } = {}) {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    let first = null;
    let bytes = 0;
    const req = request(
      { host: '127.0.0.1', port: ui.port, path: p, headers: { Cookie: `llm_otel_ui=${ui.token}`, Host: `127.0.0.1:${ui.port}` } },
      (res) => {
        res.on('data', (c) => {
          first ??= performance.now() - t;
          bytes += c.length;
          if (stopAfterFirstByte) {
            req.destroy();
            resolve({ status: res.statusCode, first, total: first, bytes });
          }
        });
        res.on('end', () => resolve({ status: res.statusCode, first, total: performance.now() - t, bytes, body: null }));
        res.on('error', reject);
      },
    );
    req.on('error', (e) => (stopAfterFirstByte && first !== null ? undefined : reject(e)));
    req.end();
  });
}

async function json(p) {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port: ui.port, path: p, headers: { Cookie: `llm_otel_ui=${ui.token}` } }, (res) => {
      let s = '';
      res.on('data', (c) => (s += c));
      res.on('end', () => resolve(JSON.parse(s)));
    })
      .on('error', reject)
      .end();
  });
}

const rows = [];
async function bench(label, p, target) {
  const runs = [];
  for (let i = 0; i < 3; i++) {
    const r = await timed(p);
    if (r.status !== 200) throw new Error(`${p}: HTTP ${r.status}`);
    runs.push(r.total);
  }
  const best = Math.min(...runs);
  rows.push([label, runs[0], best, target]);
  console.log(
    `${label.padEnd(44)} first ${runs[0].toFixed(0).padStart(6)} ms   best ${best.toFixed(0).padStart(6)} ms` +
      (target ? `   target < ${target} ms ${best < target ? '✓' : '✗'}` : ''),
  );
}

// Ids from the middle of the log.
const mid = Math.floor(N / CALLS_PER_TRACE / 2);
const trace = hex(mid + 1, 32);
const span = hex(mid * CALLS_PER_TRACE + 1, 16);
const session = `sess-${Math.floor(mid / 20)}`;

await bench('shell page (/)', '/', 300);
await bench('app.js', '/assets/app.js', 300);
for (const w of ['24h', '7d', '30d']) {
  await bench(`overview ${w}: tiles and series`, `/api/overview?window=${w}`, 1500);
  await bench(`overview ${w}: p50/p95 tiles`, `/api/overview-latency?window=${w}`, 1500);
}
await bench('facets 30d', '/api/facets?window=30d', 1500);
await bench('calls 24h, first page', '/api/calls?window=24h', 100);
const page1 = await json('/api/calls?window=30d');
await bench('calls 30d, second page (keyset)', `/api/calls?window=30d&after=${page1.next}`, 100);
await bench('calls 30d model=gpt-4o', '/api/calls?window=30d&model=gpt-4o', 100);
await bench('calls 30d status=failed', '/api/calls?window=30d&status=failed', 100);
await bench('calls 30d user=user-42', '/api/calls?window=30d&user=user-42', 100);
await bench('calls 30d provider=qwen', '/api/calls?window=30d&provider=qwen', 100);
await bench('calls 30d session', `/api/calls?window=30d&session=${session}`, 100);
await bench('calls 30d text in error (429)', '/api/calls?window=30d&q=429', 100);
await bench('call detail', `/api/call/${span}`, 100);
await bench('trace detail', `/api/trace/${trace}`, 100);
await bench('session detail (100 calls)', `/api/session/${session}`, 100);
await bench('cost 30d by model', '/api/cost?window=30d&by=model', 1500);
await bench('cost 30d by user', '/api/cost?window=30d&by=user', 1500);
await bench('latency 30d', '/api/latency?window=30d', 1000);
await bench('errors 30d', '/api/errors?window=30d', 1500);
await bench('sessions 30d, first page', '/api/sessions?window=30d', 100);
await bench('runs 30d, first page (recursive totals)', '/api/runs?window=30d', 100);
await bench('users 30d', '/api/users?window=30d', 1500);
for (const table of ['calls', 'messages']) {
  const r = await timed(`/api/export.csv?window=30d&table=${table}`, { stopAfterFirstByte: true });
  console.log(
    `${`export ${table} 30d CSV: first bytes`.padEnd(44)} ${r.first.toFixed(0).padStart(6)} ms   target < 1000 ms ${r.first < 1000 ? '✓' : '✗'}`,
  );
}
const t = performance.now();
const whole = await timed('/api/export.jsonl?window=30d');
console.log(
  `${'export calls 30d JSONL, whole'.padEnd(44)} ${((performance.now() - t) / 1000).toFixed(1).padStart(6)} s   ${(whole.bytes / 1e6).toFixed(0)} MB`,
);

const status = readFileSync(`/proc/${ui.child.pid}/status`, 'utf8');
const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
console.log(
  `server RSS now ${(kb('VmRSS') / 1024).toFixed(0)} MB, peak ${(kb('VmHWM') / 1024).toFixed(0)} MB (after every query above and a whole export)`,
);

if (existsSync('/usr/bin/chromium')) {
  const { chromium } = await import('playwright-core');
  const profile = join(tmpdir(), `llm-otel-ui-bench-profile-${process.pid}`);
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
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
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  await page.goto(ui.url);
  await page.waitForSelector('body[data-rendered]');
  for (const w of ['24h', '30d']) {
    const times = [];
    for (let i = 0; i < 3; i++) {
      await page.goto(`${ui.base}/?window=${w}`);
      await page.waitForSelector('body[data-rendered] .chart canvas', { timeout: 60_000 });
      await page.waitForFunction(() => !document.querySelector('[data-pending]'), null, { timeout: 60_000 });
      const paint = await page.evaluate(() => {
        const p = performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null;
        return { fcp: p, all: performance.now() };
      });
      times.push(paint);
    }
    const best = (k) => Math.min(...times.map((x) => x[k]));
    console.log(
      `browser: overview ${w}: first paint ${best('fcp').toFixed(0)} ms, every widget drawn ${best('all').toFixed(0)} ms (best of 3)`,
    );
  }
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}

await ui.stop();
if (!keep) for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
