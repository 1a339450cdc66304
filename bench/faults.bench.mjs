// Faults and exit (issue #10), measured on real processes: an app under `node --import
// llm-otel/register` (bench/lib/faults-app.mjs: the real openai SDK from node_modules/openai, a real
// SQLite call log in a temporary directory, OTLP to a loopback counter) against the loopback
// OpenAI-wire server of bench/lib/loopback-peers.mjs (recorded answers), which runs in this process.
//
//   node scripts/build.mjs && node bench/faults.bench.mjs [--kill] [--memory] [--exit] [--stuck] [--full]
//
// Scenarios (all of them when none is named):
//   --kill    SIGKILL during a loop of awaited chat calls: calls the app had finished (it prints one
//             line per call) vs rows in llm_calls afterwards; writer thread and
//             LLM_OTEL_WRITER_THREAD=false.  --calls 5000 --kill-at 1500,3000,4500 --kill-runs 3
//             Also, in runs not killed (--lag-runs 1), the rows in llm_calls every 100 ms against the
//             calls the app had finished: what a SIGKILL at that moment would have lost.
//   --memory  RSS and heap (sampled inside the app) under rounds of concurrent streams and under a
//             full-speed loop of awaited calls, with and without llm-otel in the same run.
//             --rounds 50 --concurrency 200 --seconds 15 --sample-ms 2000 --memory-runs 1
//   --exit    time from the app's last line to the end of its process: OTLP to a server that accepts
//             and never reads or answers, to a working counter, OTEL_TRACES_EXPORTER=none, and the
//             app without llm-otel; a short app and one whose calls span 1.5 s.  --exit-runs 5
//   --stuck   the same with the writer thread stuck in a read() that never returns
//             (LLM_OTEL_TEST_FAULT=block-write:<fifo>).  --stuck-runs 5
//   --full    --seconds 60 --rounds 200 --memory-runs 2 --kill-runs 5 --lag-runs 3 --exit-runs 9 --stuck-runs 9
//
// The machine's load matters (2 shared cores): each scenario prints the load average before and
// after it. Results are recorded in docs/benchmarks.md.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startOpenAIPeer, startOtlpCounter } from './lib/loopback-peers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const APP = join(here, 'lib', 'faults-app.mjs');
const argv = process.argv.slice(2);
const has = (name) => argv.includes(`--${name}`);
const FULL = has('full');
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const num = (name, dflt) => Number(opt(name, dflt));
const ALL = ['kill', 'memory', 'exit', 'stuck'];
const SCENARIOS = ALL.some(has) ? ALL.filter(has) : ALL;

const CALLS = num('calls', 5000);
const KILL_AT = String(opt('kill-at', '1500,3000,4500')).split(',').map(Number);
const KILL_RUNS = num('kill-runs', FULL ? 5 : 3);
const LAG_RUNS = num('lag-runs', FULL ? 3 : 1);
const ROUNDS = num('rounds', FULL ? 200 : 50);
const CONCURRENCY = num('concurrency', 200);
const SECONDS = num('seconds', FULL ? 60 : 15);
const SAMPLE_MS = num('sample-ms', 2000);
const MEMORY_RUNS = num('memory-runs', FULL ? 2 : 1);
const EXIT_RUNS = num('exit-runs', FULL ? 9 : 5);
const STUCK_RUNS = num('stuck-runs', FULL ? 9 : 5);

if (!existsSync(join(root, 'dist', 'esm', 'src', 'register.esm.js'))) {
  console.error('llm-otel is not built; run `node scripts/build.mjs` first');
  process.exit(1);
}

// ---- statistics and formatting ----
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const median = (xs) => {
  const s = sorted(xs);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const min = (xs) => Math.min(...xs);
const max = (xs) => Math.max(...xs);
/** Least-squares slope of y over x. */
function slope(xs, ys) {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num_ = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num_ += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den ? num_ / den : NaN;
}
const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const mb = (bytes) => bytes / 1048576;
/** "median (min–max)". */
const spread = (xs, f = f0) => `${f(median(xs))} (${f(min(xs))}–${f(max(xs))})`;
function table(header, rows) {
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ');

// ---- child processes ----
const live = new Set();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(130));

function childEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(LLM_OTEL_|OTEL_)/.test(k) || k === 'NODE_OPTIONS' || k.startsWith('OPENAI_')) continue;
    env[k] = v;
  }
  return { ...env, FAULTS_OPENAI_URL: peer.baseURL, ...extra };
}

/**
 * Runs the app; `onLine(line, child)` sees each stdout line as it arrives. Resolves when the
 * process has ended and its output is read: { code, signal, lines, stderr, endedAt } (endedAt:
 * epoch ms, sub-ms, taken at the 'exit' event).
 */
function runApp(args, { register = true, env = {}, onLine = null, nodeArgs = [] } = {}) {
  return new Promise((resolve, reject) => {
    const flags = [...nodeArgs, ...(register ? ['--import', 'llm-otel/register'] : [])];
    const child = spawn(process.execPath, [...flags, APP, ...args], { cwd: root, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    const lines = [];
    let rest = '';
    let stderr = '';
    let endedAt = null;
    let code = null;
    let signal = null;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      rest += d;
      let i;
      while ((i = rest.indexOf('\n')) >= 0) {
        const line = rest.slice(0, i);
        rest = rest.slice(i + 1);
        lines.push(line);
        onLine?.(line, child);
      }
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('exit', (c, s) => {
      endedAt = performance.timeOrigin + performance.now();
      code = c;
      signal = s;
    });
    child.on('close', () => {
      live.delete(child);
      resolve({ code, signal, lines, stderr, endedAt });
    });
  });
}

const ourLines = (stderr) => stderr.split('\n').filter((l) => l.startsWith('[llm-otel]'));

/** Rows in llm_calls; 0 with a note when the file or the table is not there (yet). */
function rowsIn(path) {
  if (!existsSync(path)) return { rows: 0, note: 'no DB file' };
  // Read-write: after a SIGKILL the WAL is recovered on open (the app is gone; nothing else writes).
  const db = new Database(path, { fileMustExist: true });
  try {
    return { rows: db.prepare('SELECT count(*) AS n FROM llm_calls').get().n, note: '' };
  } catch (e) {
    return { rows: 0, note: e.message };
  } finally {
    db.close();
  }
}

function machine() {
  const run = (cmd, args) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return r.status === 0 ? r.stdout : '';
  };
  const model = /Model name:\s*(.+)/.exec(run('lscpu', []))?.[1]?.trim() ?? 'unknown';
  const openai = JSON.parse(readFileSync(join(root, 'node_modules', 'openai', 'package.json'), 'utf8')).version;
  return `${new Date().toISOString()}; nproc ${run('nproc', []).trim()}; ${model}; node ${process.version}; openai ${openai}`;
}

// ---- peers, all in this process ----
const messages = [{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }];
const peer = await startOpenAIPeer(messages);
const otlp = await startOtlpCounter();
const work = mkdtempSync(join(tmpdir(), 'llm-otel-faults-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
let dbN = 0;
const freshDb = () => join(work, `calls-${++dbN}.db`);

/** Accepts connections and never reads from them or answers (pauseOnConnect: no read is started). */
async function silentServer() {
  const sockets = new Set();
  const srv = net.createServer({ pauseOnConnect: true }, (s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${srv.address().port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => srv.close(r));
    },
  };
}

const MODES = [
  { name: 'writer thread', env: {} },
  { name: 'WRITER_THREAD=false', env: { LLM_OTEL_WRITER_THREAD: 'false' } },
];

console.log(`# faults.bench: ${machine()}`);
console.log(`scenarios: ${SCENARIOS.join(', ')}${FULL ? ' (--full)' : ''}`);

// ---- 1. SIGKILL during a loop of awaited calls ----
/**
 * Every 100 ms while the app runs: [calls the app had finished, rows in llm_calls] — what a SIGKILL
 * at that moment would have lost. Reads through a read-only connection (WAL: never blocks the writer).
 */
function pollLag(db, finished) {
  const polls = [];
  let conn = null;
  const timer = setInterval(() => {
    const n = finished();
    let rows = 0;
    try {
      if (!conn && existsSync(db)) conn = new Database(db, { readonly: true, fileMustExist: true });
      if (conn) rows = conn.prepare('SELECT count(*) AS n FROM llm_calls').get().n;
    } catch {
      rows = 0;
    } // not created yet
    if (n > 0) polls.push([n, rows]);
  }, 100);
  return () => {
    clearInterval(timer);
    conn?.close();
    return polls;
  };
}

async function killRun(mode, target) {
  const db = freshDb();
  let killed = false;
  let finished = 0;
  const stopPolling = target === null ? pollLag(db, () => finished) : null;
  const r = await runApp(['loop', String(CALLS)], {
    env: { ...mode.env, LLM_OTEL_DB: db, OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url },
    onLine: (line, child) => {
      finished = Number(line.split(' ')[0]);
      if (!killed && target !== null && finished >= target) {
        killed = true;
        child.kill('SIGKILL');
      }
    },
  });
  const polls = stopPolling?.() ?? [];
  const done = r.lines.filter((l) => /^\d+ /.test(l)).map((l) => l.split(' ').map(Number));
  const completed = done.length ? done[done.length - 1][0] : 0;
  const at = (i) => done[i - 1][1]; // ms since the loop began when call i had finished
  const tEnd = completed ? at(completed) : 0;
  // The app's call rate over the last second before it was killed.
  const recent = done.filter(([, t]) => t > tEnd - 1000);
  const rate = recent.length > 1 ? (recent.length - 1) / ((tEnd - recent[0][1]) / 1000) : NaN;
  const { rows, note } = rowsIn(db);
  const lost = completed - rows;
  return {
    target,
    completed,
    rows,
    note,
    lost,
    rate,
    lostMs: (lost / rate) * 1000,
    // The same loss read off the app's own clock: how long before its last call the last call on
    // disk had finished (nothing on disk: every call since the loop began).
    windowMs: rows <= completed ? tEnd - (rows > 0 ? at(rows) : 0) : NaN,
    signal: r.signal,
    code: r.code,
    ours: ourLines(r.stderr),
    lag: lagSummary(polls, at),
  };
}

/** The polls of a run that was not killed: the start (no row yet), then the steady lag. */
function lagSummary(polls, at) {
  if (!polls.length) return null;
  const before = polls.filter(([, rows]) => rows === 0);
  const after = polls.filter(([, rows]) => rows > 0);
  const startCalls = before.length ? max(before.map(([n]) => n)) : 0;
  const lagCalls = after.map(([n, rows]) => n - rows);
  const lagMs = after.map(([n, rows]) => at(n) - at(rows));
  const p95 = (xs) => sorted(xs)[Math.min(xs.length - 1, Math.floor(0.95 * xs.length))];
  return {
    // Calls finished while nothing was on disk yet (the writer thread starting), and over how long.
    startCalls,
    startMs: startCalls ? at(startCalls) : 0,
    polls: after.length,
    lagCalls,
    lagMs,
    summary: after.length
      ? `calls ${f0(median(lagCalls))} / ${f0(p95(lagCalls))} / ${f0(max(lagCalls))}, ms ${f0(median(lagMs))} / ${f0(p95(lagMs))} / ${f0(max(lagMs))}`
      : 'n/a',
  };
}

async function scenarioKill() {
  console.log(`\n## kill: SIGKILL during ${CALLS} awaited chat calls (load before: ${load()})`);
  const t0 = Date.now();
  const results = [];
  const controls = [];
  for (let run = 0; run < LAG_RUNS; run++)
    for (const mode of MODES) {
      const c = await killRun(mode, null);
      controls.push([mode.name, c]);
      console.log(
        `control, ${mode.name}, not killed: ${c.completed} calls, ${c.rows} rows, exit ${c.code}${c.ours.length ? `; ${c.ours.join(' / ')}` : ''}`,
      );
      console.log(
        `  nothing on disk for the first ${c.lag.startCalls} calls (${f0(c.lag.startMs)} ms of the loop); then rows behind the app (median / p95 / max of ${c.lag.polls} polls, 100 ms apart): ${c.lag.summary}`,
      );
    }
  for (let run = 0; run < KILL_RUNS; run++) {
    for (const target of KILL_AT) {
      for (let k = 0; k < MODES.length; k++) {
        const mode = MODES[(run + k) % MODES.length];
        const r = await killRun(mode, target);
        results.push({ mode: mode.name, ...r });
        console.log(
          `${mode.name}, kill at ≥${target}: ${r.completed} finished, ${r.rows} rows, lost ${r.lost} (${f0(r.lostMs)} ms at ${f0(r.rate)} calls/s; window ${f0(r.windowMs)} ms)${r.note ? ` [${r.note}]` : ''}${r.signal !== 'SIGKILL' ? ` [ended ${r.signal ?? r.code}]` : ''}${r.ours.length ? `; ${r.ours.join(' / ')}` : ''}`,
        );
      }
    }
  }
  console.log(`\nload after: ${load()}; ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const rows = [];
  for (const mode of MODES) {
    for (const target of KILL_AT) {
      const rs = results.filter((r) => r.mode === mode.name && r.target === target);
      rows.push([
        mode.name,
        `≥${target}`,
        String(rs.length),
        spread(rs.map((r) => r.completed)),
        spread(rs.map((r) => r.lost)),
        spread(rs.map((r) => r.lostMs)),
        spread(rs.map((r) => r.windowMs)),
        f0(median(rs.map((r) => r.rate))),
      ]);
    }
  }
  table(['mode', 'killed at call', 'runs', 'calls finished', 'calls lost', 'lost as ms of calls', 'window ms', 'calls/s'], rows);
  for (const mode of MODES) {
    const rs = results.filter((r) => r.mode === mode.name);
    const worst = max(rs.map((r) => r.lostMs));
    const within = (ms) => rs.filter((r) => r.lostMs <= ms).length;
    console.log(
      `${mode.name}: worst loss ${max(rs.map((r) => r.lost))} calls = ${f0(worst)} ms of calls; within the 200 ms flush interval: ${within(200)} of ${rs.length} kills (${worst <= 200 ? `holds, ${f0(200 - worst)} ms to spare` : `exceeded by ${f0(worst - 200)} ms`}); within 225 ms (+ the 25 ms send interval): ${within(225)} of ${rs.length}`,
    );
  }
  console.log('\nRuns not killed: rows behind the app, polled every 100 ms');
  table(
    [
      'mode',
      'calls before the first row',
      'ms of the loop before the first row',
      'lag after: calls median / p95 / max',
      'ms median / p95 / max',
    ],
    controls.map(([name, c]) => [
      name,
      String(c.lag.startCalls),
      f0(c.lag.startMs),
      ...c.lag.summary.replace(/^calls /, '').split(', ms '),
    ]),
  );
}

// ---- 2. memory ----
function memorySeries(lines) {
  return lines
    .filter((l) => l.startsWith('mem '))
    .map((l) => {
      const [, t, rss, heapUsed, heapTotal] = l.split(' ').map(Number);
      return { t: t / 1000, rss: mb(rss), heap: mb(heapUsed), heapTotal: mb(heapTotal) };
    });
}
function retainedSeries(lines) {
  return lines
    .filter((l) => l.startsWith('retained '))
    .map((l) => {
      const [, t, heap] = l.split(' ').map(Number);
      return { t: t / 1000, heap: mb(heap) };
    });
}

async function memoryRun(kind, withLlmOtel) {
  const args = kind === 'streams' ? ['streams', String(ROUNDS), String(CONCURRENCY)] : ['spin', String(SECONDS)];
  const r = await runApp(args, {
    register: withLlmOtel,
    env: { LLM_OTEL_DB: freshDb(), OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, FAULTS_SAMPLE_MS: String(SAMPLE_MS) },
    nodeArgs: ['--expose-gc'], // both variants: each timed sample is followed by a full collection
  });
  if (r.code !== 0) throw new Error(`memory app (${kind}, ${withLlmOtel ? 'llm-otel' : 'plain'}) ended ${r.signal ?? r.code}: ${r.stderr}`);
  const s = memorySeries(r.lines);
  const [, calls, ms] = r.lines
    .find((l) => l.startsWith('calls '))
    .split(' ')
    .map(Number);
  const half = s.filter((x) => x.t >= s[s.length - 1].t / 2);
  const kept = retainedSeries(r.lines);
  const keptHalf = kept.filter((x) => x.t >= kept[kept.length - 1].t / 2);
  return {
    variant: withLlmOtel ? 'llm-otel' : 'without llm-otel',
    series: s,
    callsPerS: calls / (ms / 1000),
    calls,
    seconds: ms / 1000,
    rssFirst: s[0].rss,
    rssLast: s[s.length - 1].rss,
    rssMax: max(s.map((x) => x.rss)),
    // Robust to the collector's sawtooth: a bounded process peaks no higher in the second half.
    rssMax1: max(s.filter((x) => x.t < s[s.length - 1].t / 2).map((x) => x.rss)),
    rssMax2: max(half.map((x) => x.rss)),
    heapFirst: s[0].heap,
    heapLast: s[s.length - 1].heap,
    heapMax: max(s.map((x) => x.heap)),
    // MB per minute; the second half leaves out start-up and warm-up growth.
    rssSlope:
      slope(
        s.map((x) => x.t),
        s.map((x) => x.rss),
      ) * 60,
    rssSlope2:
      slope(
        half.map((x) => x.t),
        half.map((x) => x.rss),
      ) * 60,
    heapSlope:
      slope(
        s.map((x) => x.t),
        s.map((x) => x.heap),
      ) * 60,
    heapSlope2:
      slope(
        half.map((x) => x.t),
        half.map((x) => x.heap),
      ) * 60,
    kept,
    keptFirst: kept[0]?.heap,
    keptLast: kept[kept.length - 1]?.heap,
    keptSlope:
      slope(
        kept.map((x) => x.t),
        kept.map((x) => x.heap),
      ) * 60,
    keptSlope2:
      slope(
        keptHalf.map((x) => x.t),
        keptHalf.map((x) => x.heap),
      ) * 60,
    ours: ourLines(r.stderr),
  };
}

async function scenarioMemory() {
  for (const kind of ['streams', 'spin']) {
    const what =
      kind === 'streams'
        ? `${ROUNDS} rounds × ${CONCURRENCY} concurrent streaming chat calls`
        : `${SECONDS} s of awaited chat calls at full speed`;
    console.log(`\n## memory: ${what} (load before: ${load()})`);
    const results = [];
    for (let run = 0; run < MEMORY_RUNS; run++) {
      for (const withLlmOtel of run % 2 ? [true, false] : [false, true]) {
        const r = await memoryRun(kind, withLlmOtel);
        results.push(r);
        console.log(
          `${r.variant}: ${r.calls} calls in ${f1(r.seconds)} s (${f0(r.callsPerS)}/s)${r.ours.length ? `; ${r.ours.join(' / ')}` : ''}`,
        );
        console.log(`  t s → RSS MB / heapUsed MB: ${r.series.map((x) => `${f1(x.t)}→${f0(x.rss)}/${f0(x.heap)}`).join('  ')}`);
        console.log(`  t s → heap MB after a full GC: ${r.kept.map((x) => `${f1(x.t)}→${f1(x.heap)}`).join('  ')}`);
      }
    }
    console.log(`load after: ${load()}`);
    table(
      [
        'variant',
        'calls/s',
        'RSS first / last / max MB',
        'RSS max 1st / 2nd half MB',
        'RSS slope MB/min (all; 2nd half)',
        'heap first / last / max MB',
        'heap slope MB/min (all; 2nd half)',
        'heap after GC first / last MB',
        'its slope MB/min (all; 2nd half)',
      ],
      results.map((r) => [
        r.variant,
        f0(r.callsPerS),
        `${f0(r.rssFirst)} / ${f0(r.rssLast)} / ${f0(r.rssMax)}`,
        `${f0(r.rssMax1)} / ${f0(r.rssMax2)}`,
        `${f1(r.rssSlope)}; ${f1(r.rssSlope2)}`,
        `${f1(r.heapFirst)} / ${f1(r.heapLast)} / ${f1(r.heapMax)}`,
        `${f1(r.heapSlope)}; ${f1(r.heapSlope2)}`,
        `${f1(r.keptFirst)} / ${f1(r.keptLast)}`,
        `${f1(r.keptSlope)}; ${f1(r.keptSlope2)}`,
      ]),
    );
  }
}

// ---- 3. exit delay ----
const SHAPES = [
  { name: 'short (10 calls)', args: ['exit', '10', '0'] },
  { name: 'calls over 1.5 s (60)', args: ['exit', '60', '1500'] },
];

async function exitRun(config, shape, extraEnv = {}) {
  const r = await runApp(shape.args, { register: config.register, env: { LLM_OTEL_DB: freshDb(), ...config.env(), ...extraEnv } });
  const last = r.lines.find((l) => l.startsWith('last '));
  return {
    delay: last ? r.endedAt - Number(last.slice(5)) : NaN,
    code: r.code,
    signal: r.signal,
    ours: ourLines(r.stderr),
    stderr: r.stderr,
  };
}

/** `bound`: { ms, of: 'added' (a silent endpoint's delay over a working one) | 'total' (last line → end) }. */
async function exitScenario(title, configs, shapes, runs, extraEnv, bound) {
  console.log(`\n## ${title} (load before: ${load()})`);
  const t0 = Date.now();
  const results = new Map();
  for (let run = 0; run < runs; run++) {
    for (const shape of shapes) {
      for (let k = 0; k < configs.length; k++) {
        const config = configs[(run + k) % configs.length];
        const key = `${config.name}|${shape.name}`;
        const r = await exitRun(config, shape, extraEnv());
        if (!results.has(key)) {
          results.set(key, { config, shape, runs: [] });
          const said = r.ours.length ? r.ours.map((l) => l.slice(0, 220)).join(' / ') : 'nothing on stderr from llm-otel';
          console.log(`${config.name}, ${shape.name}: exit ${r.signal ?? r.code}; ${said}`);
        }
        results.get(key).runs.push(r);
        if (Number.isNaN(r.delay)) console.log(`  (no last line: ${r.stderr.slice(0, 300)})`);
      }
    }
  }
  console.log(`load after: ${load()}; ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const all = [...results.values()];
  // The delay a silent endpoint adds: against the same mode and app with a working endpoint.
  const reference = (config, shape) =>
    all.find((x) => x.shape === shape && x.config.mode === config.mode && x.config.target === 'OTLP working');
  table(
    [
      'configuration',
      'app',
      'runs',
      'last line → end, ms: median',
      'min',
      'max',
      'added over OTLP working, ms: median; worst',
      `${bound.of === 'added' ? 'worst added' : 'max'} within ${bound.ms} ms`,
    ],
    all.map(({ config, shape, runs: rs }) => {
      const d = rs.map((r) => r.delay);
      const ref = config.target === 'OTLP silent' ? reference(config, shape) : null;
      const refMedian = ref ? median(ref.runs.map((r) => r.delay)) : NaN;
      const added = ref ? `${f0(median(d) - refMedian)}; ${f0(max(d) - refMedian)}` : '—';
      const judged = bound.of === 'added' ? (ref ? max(d) - refMedian : NaN) : config.register ? max(d) : NaN;
      const verdict = Number.isNaN(judged) ? '—' : judged <= bound.ms ? 'yes' : `no (+${f0(judged - bound.ms)})`;
      return [config.name, shape.name, String(rs.length), f0(median(d)), f0(min(d)), f0(max(d)), added, verdict];
    }),
  );
}

async function scenarioExit(stuck) {
  const silent = await silentServer();
  const targets = [
    { name: 'OTLP silent', env: { OTEL_EXPORTER_OTLP_ENDPOINT: silent.url } },
    { name: 'OTLP working', env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url } },
    { name: 'OTLP none', env: { OTEL_TRACES_EXPORTER: 'none' } },
  ];
  const configs = [];
  for (const mode of MODES)
    for (const t of targets)
      configs.push({
        name: `${t.name}, ${mode.name}`,
        mode: mode.name,
        target: t.name,
        register: true,
        env: () => ({ ...t.env, ...mode.env }),
      });
  try {
    if (!stuck) {
      configs.push({ name: 'without llm-otel', register: false, env: () => ({}) });
      // README "Exit behaviour": an endpoint that never answers delays exit by the 1 s cap at most.
      await exitScenario('exit: last line → process end', configs, SHAPES, EXIT_RUNS, () => ({}), { ms: 1000, of: 'added' });
    } else {
      let n = 0;
      // A FIFO per run that nobody writes to: the writer thread's first write blocks in read() for good.
      const fifo = () => {
        const p = join(work, `stuck-${++n}.fifo`);
        const r = spawnSync('mkfifo', [p]);
        if (r.status !== 0) throw new Error(`mkfifo failed: ${r.stderr}`);
        return { LLM_OTEL_TEST_FAULT: `block-write:${p}` };
      };
      // OTLP cap 1 s + call-log wait 1 s + 0.5 s to stop a stuck thread.
      await exitScenario(
        'stuck writer thread (LLM_OTEL_TEST_FAULT=block-write): last line → process end',
        configs,
        [SHAPES[0]],
        STUCK_RUNS,
        fifo,
        { ms: 2500, of: 'total' },
      );
    }
  } finally {
    await silent.close();
  }
}

try {
  if (SCENARIOS.includes('kill')) await scenarioKill();
  if (SCENARIOS.includes('memory')) await scenarioMemory();
  if (SCENARIOS.includes('exit')) await scenarioExit(false);
  if (SCENARIOS.includes('stuck')) await scenarioExit(true);
} finally {
  await Promise.race([Promise.all([peer.close(), otlp.close()]), new Promise((r) => setTimeout(r, 1000).unref())]);
}
process.exit(0);
