// The overhead targets of issue #11, measured where wall-clock numbers cannot settle them.
//
//   node scripts/build.mjs && node bench/yardstick.bench.mjs [--only per-call,start-up,exit] [--n1 50] [--n2 350]
//        [--modes chat,stream] [--variants bare,official,llm-otel,equal-work,no-call-log,call-log-none] [--call-log-modes chat]
//        [--v8 '--predictable'] [--repeat 1] [--runs 9] [--hold-max 600] [--keep]
//
// per-call (deterministic yardstick): each variant is a real app process (bench/lib/yardstick-app.cjs,
// the real openai SDK over loopback HTTP to the recorded-answer peer, OTLP to the span counter of
// bench/lib/loopback-peers.mjs; both peers run in this process, outside valgrind) run under
// `valgrind --tool=callgrind`, once making N₁ and once N₂ awaited calls. Instructions per call =
// (Ir(N₂) − Ir(N₁)) / (N₂ − N₁) over all threads, so start-up and exit cancel out; the main thread's
// share alone is printed too (the app's thread). Variants:
//   bare         the app alone
//   official     @opentelemetry/instrumentation-openai set up like a NodeSDK (bench/lib/yardstick-official.cjs)
//   llm-otel     `--import llm-otel/register`, defaults: call log on, content local, OTLP on
//   equal-work   llm-otel with LLM_OTEL_DB=off LLM_OTEL_CAPTURE_CONTENT=none: OTLP only, like the official
//   no-call-log  llm-otel with LLM_OTEL_DB=off (content local): llm-otel − no-call-log = the call log's cost
//   call-log-none llm-otel with LLM_OTEL_CAPTURE_CONTENT=none (call log on, no content):
//                call-log-none − equal-work = the call log's cost without content (no message rows)
// The call log's cost is set against raw better-sqlite3 inserts of the rows llm-otel wrote in its N₂
// run (bench/lib/yardstick-raw-insert.mjs, also under callgrind, N₂ − N₁ calls), in transactions of
// the size the writer thread used (counted from the commits SQLite made in the callgrind profile);
// likewise call-log-none against the rows it wrote. no-call-log − equal-work is the content work
// (conversion, redaction) the background thread does with content `local` but no call log.
// Each line also says how much of the Ir was V8 compiling JavaScript (lazily, to baseline or
// optimized code, after deopts): in a window of a few hundred calls, tiering up the thread's code is
// a large share of what a part costs per call, and where exactly it lands moves between runs.
// Under valgrind time runs 30–50× slower, so timers fire relatively more often: the writer thread's
// 200 ms flush commits fewer calls per transaction than at full speed; the raw baseline is given
// the same batch size. The writer thread also takes far longer to start than the bounded waits at
// exit allow, so the app holds after its calls until its spans and rows have arrived (it would lose
// them otherwise, as documented in docs/exit.md for a thread that is still starting). Each run is
// checked: all calls answered, N spans at the OTLP counter, N rows in the call log. Node runs with
// V8's --predictable (see V8 below): instruction counts then repeat within about ±30 M a run.
//
// start-up (deterministic): callgrind Ir of `node -e 'console.log(1)'`, bare vs --import llm-otel/register.
//
// exit (wall clock, paired: the variants alternate, ≥ 7 runs each, medians and ranges): an app that
// makes no LLM call (`console.log(1)`) bare / register with OTLP off / register with the collector up;
// an app that makes 3 calls bare / official / register (collector up); each with its peak RSS
// (/usr/bin/time -f %M) and whether a call-log file appeared in its working directory.
//
// The critical-path target (the app thread's added wall time) is openai-overhead.bench.mjs --capture-only.

import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startOpenAIPeer, startOtlpCounter } from './lib/loopback-peers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const opt = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const N1 = Number(opt('n1', 50));
const N2 = Number(opt('n2', 350));
const RUNS = Number(opt('runs', 9));
const ONLY = opt('only', 'per-call,start-up,exit').split(',');
const MODES = opt('modes', 'chat,stream').split(',');
const KEEP = process.argv.includes('--keep');
// V8 flags for every run under callgrind. --predictable: garbage collection and compilation run on
// the isolate's own thread, not on helper threads scheduled by time, which otherwise moves a run's
// count by ±200 M instructions (±0.5 M per call over 400 calls); with it, ±30 M. `--v8 ''` to drop it.
const V8 = opt('v8', '--predictable').split(' ').filter(Boolean);
// Longest wait for llm-otel's spans and rows after the last call, under valgrind (seconds).
const HOLD_MAX_S = Number(opt('hold-max', 600));
// Time dilation under valgrind: the process's clocks run DILATE× slower (libfaketime, preloaded), so
// that timers — llm-otel's 25 ms hand-over to its thread and 200 ms writes, the OTel batch
// processors' 5 s and 0.5 s exports, the bounded waits at exit — fire as often relative to the work
// as at full speed, where valgrind slows the work itself ~50×. Without it, batches shrink to a call
// or two and the per-batch costs (a message, a transaction, an HTTP export) are charged to every call.
// `--dilate 1` turns it off; needs libfaketime (apt-get install libfaketime).
const DILATE = Number(opt('dilate', 50));
const FAKETIME_LIB = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1',
  '/usr/lib/faketime/libfaketimeMT.so.1',
  '/usr/local/lib/faketime/libfaketimeMT.so.1',
].find(existsSync);
if (DILATE !== 1 && !FAKETIME_LIB) {
  console.error(
    '--dilate needs libfaketime (apt-get install libfaketime); or run with --dilate 1 (timers at valgrind speed: see the header)',
  );
  process.exit(1);
}
const dilated = (env) =>
  DILATE === 1 ? env : { ...env, LD_PRELOAD: [FAKETIME_LIB, env.LD_PRELOAD].filter(Boolean).join(':'), FAKETIME: `+0 x${1 / DILATE}` };
// Each variant's N₁/N₂ pair this many times (timers fire by wall time, so counts still move a little).
const REPEAT = Number(opt('repeat', 1));
if (!existsSync(join(root, 'dist', 'esm', 'src', 'register.esm.js'))) {
  console.error('llm-otel is not built: run `node scripts/build.mjs` first');
  process.exit(1);
}

const APP = join(here, 'lib', 'yardstick-app.cjs');
const OFFICIAL = join(here, 'lib', 'yardstick-official.cjs');
const RAW = join(here, 'lib', 'yardstick-raw-insert.mjs');
const REGISTER = ['--import', 'llm-otel/register']; // resolved by the package's self-reference from a cwd inside the repo
const OFFICIAL_SCOPE = '@opentelemetry/instrumentation-openai';

const VARIANTS = {
  bare: { flags: [], env: {}, scope: null, db: false },
  official: { flags: ['--require', OFFICIAL], env: {}, scope: OFFICIAL_SCOPE, db: false },
  'llm-otel': { flags: REGISTER, env: {}, scope: 'llm-otel', db: true },
  'equal-work': { flags: REGISTER, env: { LLM_OTEL_DB: 'off', LLM_OTEL_CAPTURE_CONTENT: 'none' }, scope: 'llm-otel', db: false },
  'no-call-log': { flags: REGISTER, env: { LLM_OTEL_DB: 'off' }, scope: 'llm-otel', db: false },
  'call-log-none': { flags: REGISTER, env: { LLM_OTEL_CAPTURE_CONTENT: 'none' }, scope: 'llm-otel', db: true },
};
/** The call log's cost: [on, off] pairs of variants that differ only in it. */
const CALL_LOG_PAIRS = [
  ['llm-otel', 'no-call-log', 'content local'],
  ['call-log-none', 'equal-work', 'content none'],
];
const VARIANT_NAMES = opt('variants', Object.keys(VARIANTS).join(',')).split(',');
for (const v of VARIANT_NAMES) if (!VARIANTS[v]) throw new Error(`unknown variant ${v}`);
// The call log's cost (no-call-log, call-log-none and the raw inserts) only in these modes, to keep the run short.
const CALL_LOG_MODES = opt('call-log-modes', 'chat').split(',');

const scratch = mkdtempSync(join(tmpdir(), 'llm-otel-yardstick-'));
// Working directories of the exit runs: inside the repository, so `llm-otel/register` resolves, and
// fresh per run, so a call-log file created at the default path (./llm-otel.db) is seen.
const cwdRoot = join(here, '.tmp', `yardstick-${process.pid}`);
mkdirSync(cwdRoot, { recursive: true });
process.on('exit', () => {
  if (!KEEP) rmSync(scratch, { recursive: true, force: true });
  rmSync(cwdRoot, { recursive: true, force: true });
});

const messages = [{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }];
const openaiPeer = await startOpenAIPeer(messages);
const counter = await startOtlpCounter();

/** The environment of a child: the parent's minus anything that would reconfigure llm-otel, OTel or Node. */
function childEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(LLM_OTEL_|OTEL_|OPENAI_)/.test(k) || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  return { ...env, YARDSTICK_BASE_URL: openaiPeer.baseURL, OTEL_EXPORTER_OTLP_ENDPOINT: counter.url, ...extra };
}

/**
 * Runs a command; resolves with its exit, output, wall time and the time it ran after stdout showed
 * `mark`. With `release`, the child's stdin is a pipe, closed once `release()` resolves (called when
 * `mark` shows; the app holds until then, see bench/lib/yardstick-app.cjs).
 */
function run(cmd, args, { env, cwd = root, mark = null, release = null }) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    let markedAt = null;
    const child = spawn(cmd, args, { cwd, env, stdio: [release ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let released = null;
    child.stdout.on('data', (d) => {
      stdout += d;
      if (mark && markedAt === null && stdout.includes(mark)) {
        markedAt = process.hrtime.bigint();
        if (release) released = release().finally(() => child.stdin.end());
      }
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', async (code, signal) => {
      const t1 = process.hrtime.bigint();
      if (release && !released) child.stdin.destroy();
      const held = released ? await released : null;
      resolve({
        code,
        signal,
        stdout,
        stderr,
        held,
        ms: Number(t1 - t0) / 1e6,
        afterMarkMs: markedAt === null ? null : Number(t1 - markedAt) / 1e6,
      });
    });
  });
}

const settle = (ms) => new Promise((r) => setTimeout(r, ms));
const spansAt = (scope) => counter.counts[scope] ?? 0;

// ---- callgrind ----
let cgSeq = 0;

/** V8's entries into compiling JavaScript (lazy parse and bytecode, baseline and optimized code, deopts). */
const COMPILING =
  /^v8::internal::Runtime_(CompileLazy|CompileOptimized|CompileOptimizedOSR|InstallBaselineCode|BytecodeBudgetInterrupt\w*|NotifyDeoptimized)\(/;

/**
 * Reads the profiles of one run (one file per thread, --separate-threads=yes): Ir of all threads, of
 * the main thread and of the largest other thread (in llm-otel's runs its writer thread: the ESM
 * loader thread and, under --predictable, V8's helper threads do far less), how many times
 * SQLite appended a transaction to the WAL (pagerWalFrames: once per commit of a write transaction),
 * and how much of it all was V8 compiling JavaScript (inclusive Ir of the calls into COMPILING).
 */
async function readProfiles(prefix) {
  const files = readdirSync(scratch).filter((f) => f.startsWith(`${prefix}.`));
  let ir = 0;
  let mainIr = 0;
  let otherIr = 0;
  let commits = 0;
  let compiling = 0;
  for (const f of files) {
    const path = join(scratch, f);
    const names = new Map();
    let callee = '';
    let thread = 0;
    let costOfCompiling = false; // the line after `calls=` holds the call's inclusive cost
    for await (const line of createInterface({ input: createReadStream(path) })) {
      if (costOfCompiling) {
        costOfCompiling = false;
        compiling += Number(line.split(' ').pop());
        continue;
      }
      if (line.startsWith('cfn=')) {
        const m = /^cfn=(?:\((\d+)\))?\s*(.*)$/.exec(line);
        if (m[1] && m[2]) names.set(m[1], m[2]);
        callee = m[2] || names.get(m[1]) || '';
      } else if (line.startsWith('fn=')) {
        const m = /^fn=(?:\((\d+)\))?\s*(.*)$/.exec(line);
        if (m[1] && m[2]) names.set(m[1], m[2]);
      } else if (line.startsWith('calls=')) {
        if (callee === 'pagerWalFrames') commits += Number(line.slice(6).split(' ')[0]);
        else if (COMPILING.test(callee) && !callee.includes("'")) costOfCompiling = true; // not a recursion level (name'2)
      } else if (line.startsWith('thread: ')) {
        thread = Number(line.slice(8));
      } else if (line.startsWith('summary: ')) {
        const n = Number(line.slice(9));
        ir += n;
        if (thread === 1) mainIr += n;
        else otherIr = Math.max(otherIr, n);
      }
    }
    if (!KEEP) rmSync(path, { force: true });
  }
  if (!files.length) throw new Error(`no callgrind profile ${prefix}.*`);
  return { ir, mainIr, otherIr, commits, compiling, threads: files.filter((f) => /-\d+$/.test(f)).length };
}

async function callgrind(nodeArgs, { env, cwd = root, label, mark = null, release = null }) {
  const prefix = `cg-${++cgSeq}`;
  const t0 = Date.now();
  const r = await run(
    'valgrind',
    [
      '--tool=callgrind',
      '--trace-children=no',
      '--separate-threads=yes',
      '--dump-line=no',
      `--callgrind-out-file=${join(scratch, `${prefix}.%p`)}`,
      process.execPath,
      ...V8,
      ...nodeArgs,
    ],
    { env: dilated(env), cwd, mark, release },
  );
  const appErr = r.stderr.split('\n').filter((l) => l && !/^==\d+==/.test(l));
  if (r.code !== 0) throw new Error(`${label}: exit ${r.code ?? r.signal}\n${appErr.join('\n')}`);
  const p = await readProfiles(prefix);
  return { ...p, stdout: r.stdout, appErr, held: r.held, seconds: (Date.now() - t0) / 1000 };
}

function rowsIn(db) {
  if (!existsSync(db)) return 0;
  try {
    const d = new Database(db, { readonly: true, fileMustExist: true });
    try {
      return d.prepare('SELECT count(*) AS n FROM llm_calls').get().n;
    } finally {
      d.close();
    }
  } catch {
    return 0; // not created yet (no schema)
  }
}

/** One variant, one mode, n calls, under callgrind; checks the calls, spans and rows. */
async function perCallRun(variant, mode, n) {
  const v = VARIANTS[variant];
  const db = join(scratch, `${variant}-${mode}-${n}-${cgSeq + 1}.db`);
  const env = childEnv({ ...v.env, ...(v.db ? { LLM_OTEL_DB: db } : {}), YARDSTICK_HOLD: '1' });
  const before = v.scope ? spansAt(v.scope) : 0;
  const ours = v.scope === 'llm-otel';
  // llm-otel's thread finishes, writes and exports behind the calls: the app is let go once all its
  // spans (and rows) have arrived. The official exports the rest when the app's event loop runs dry.
  const release = async () => {
    const t0 = Date.now();
    while (ours && Date.now() - t0 < HOLD_MAX_S * 1000) {
      if (spansAt(v.scope) - before >= n && (!v.db || rowsIn(db) >= n)) break;
      await settle(500);
    }
    return (Date.now() - t0) / 1000;
  };
  const r = await callgrind([...v.flags, APP, mode, String(n)], { env, label: `${variant} ${mode} ${n}`, mark: 'calls done:', release });
  await settle(500); // the last export's request may still be in this process's event loop
  const problems = [];
  if (!r.stdout.includes(`calls done: ${n}`)) problems.push(`app said ${JSON.stringify(r.stdout.trim())}`);
  const spans = v.scope ? spansAt(v.scope) - before : null;
  if (v.scope && spans !== n) problems.push(`${spans} of ${n} spans reached the OTLP counter`);
  const rows = v.db ? rowsIn(db) : null;
  if (v.db && rows !== n) problems.push(`${rows} of ${n} rows in the call log`);
  if (r.appErr.length) problems.push(`stderr: ${r.appErr.join(' | ')}`);
  return { ...r, spans, rows, db, problems };
}

const fmt = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN);
const f2 = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** "median [min–max]" of the values (one per repetition), formatted by f. */
const spread = (xs, f) => {
  const ok = xs.filter(Number.isFinite);
  if (!ok.length) return 'n/a';
  return ok.length === 1 ? f(ok[0]) : `${f(median(ok))} [${f(Math.min(...ok))}–${f(Math.max(...ok))}]`;
};
const problemsSeen = [];

async function perCall() {
  console.log(
    `\n## per call: callgrind instructions (Ir) per call = (Ir(N₂) − Ir(N₁)) / (N₂ − N₁), N₁ = ${N1}, N₂ = ${N2}, node ${V8.join(' ')}, clocks ${DILATE}× slower${REPEAT > 1 ? `, ${REPEAT} repetitions: median [min–max]` : ''}`,
  );
  for (const mode of MODES) {
    const variants = VARIANT_NAMES.filter((v) => !['no-call-log', 'call-log-none'].includes(v) || CALL_LOG_MODES.includes(mode));
    const reps = [];
    for (let rep = 0; rep < REPEAT; rep++) {
      const r = {};
      for (const variant of variants) {
        const a = await perCallRun(variant, mode, N1);
        const b = await perCallRun(variant, mode, N2);
        const per = (k) => (b[k] - a[k]) / (N2 - N1);
        r[variant] = {
          all: per('ir'),
          main: per('mainIr'),
          writer: VARIANTS[variant].scope === 'llm-otel' ? per('otherIr') : NaN,
          compiling: per('compiling'),
          a,
          b,
        };
        const checks = [...a.problems.map((p) => `N₁: ${p}`), ...b.problems.map((p) => `N₂: ${p}`)];
        for (const p of checks) problemsSeen.push(`${mode} ${variant} ${p}`);
        const x = r[variant];
        console.log(
          `${mode.padEnd(6)} ${variant.padEnd(12)} ${fmt(x.all).padStart(10)} Ir/call: main thread ${fmt(x.main).padStart(10)}${Number.isFinite(x.writer) ? `, writer thread ${fmt(x.writer).padStart(9)}` : ''}; V8 compiling ${fmt(x.compiling)}   (Ir ${fmt(a.ir)} → ${fmt(b.ir)}; spans ${a.spans ?? '—'}/${b.spans ?? '—'}, rows ${a.rows ?? '—'}/${b.rows ?? '—'}, commits ${a.commits}/${b.commits}, ${a.threads}/${b.threads} threads, ${a.seconds.toFixed(0)} s + ${b.seconds.toFixed(0)} s, held ${a.held.toFixed(0)} s + ${b.held.toFixed(0)} s after the calls)${checks.length ? `  PROBLEMS: ${checks.join('; ')}` : ''}`,
        );
      }
      reps.push(r);
    }
    summarize(mode, reps);
    for (const [on, off, what] of CALL_LOG_PAIRS) if (reps[0][on] && reps[0][off]) await callLogCost(mode, reps, on, off, what);
    if (reps[0]['no-call-log'] && reps[0]['equal-work']) {
      const d = (k) => reps.map((r) => r['no-call-log'][k] - r['equal-work'][k]);
      console.log(
        `${mode}: content work without a call log (no-call-log − equal-work), Ir/call: all threads ${spread(d('all'), fmt)}, writer thread ${spread(d('writer'), fmt)}; V8 compiling ${spread(d('compiling'), fmt)}`,
      );
    }
  }
}

/** The target ratios of one mode, over the repetitions. */
function summarize(mode, reps) {
  if (!reps[0].bare || !reps[0].official) return;
  const over = (v, k) => reps.map((r) => (r[v] ? r[v][k] - r.bare[k] : NaN));
  const ratios = (v, k) => reps.map((r) => (r[v] ? ratio(r[v][k] - r.bare[k], r.official[k] - r.bare[k]) : NaN));
  const line = (v) => `${v} ${spread(over(v, 'all'), fmt)} (main thread ${spread(over(v, 'main'), fmt)})`;
  console.log(
    `${mode}: added over bare, Ir/call — ${Object.keys(reps[0])
      .filter((v) => v !== 'bare')
      .map(line)
      .join(', ')}`,
  );
  if (reps[0]['equal-work']) {
    const totals = reps.map((r) => ratio(r['equal-work'].all, r.official.all));
    console.log(
      `${mode}: EQUAL WORK, all threads: equal-work added / official added = ${spread(ratios('equal-work', 'all'), f2)} (target ≤ 1.0×); whole-process totals incl. the SDK's own work ${spread(totals, f2)}`,
    );
  }
  if (reps[0]['llm-otel'])
    console.log(`${mode}: defaults, all threads: llm-otel added / official added = ${spread(ratios('llm-otel', 'all'), f2)}`);
  console.log(
    `${mode}: APP THREAD (instructions, not wall time): added / official added — llm-otel ${spread(ratios('llm-otel', 'main'), f2)}, equal-work ${spread(ratios('equal-work', 'main'), f2)}`,
  );
}

/**
 * The call log's own cost (`on` − `off`, per call) against raw better-sqlite3 inserts of the same
 * rows in transactions of the size the writer used. Two estimates of the cost: all threads (the
 * target's definition), and the writer thread alone (where the call log's work runs; it leaves out
 * the app thread's and V8's timing noise); and the share of V8 compiling JavaScript in each.
 */
async function callLogCost(mode, reps, on, off, what) {
  const all = reps.map((r) => r[on].all - r[off].all);
  const writer = reps.map((r) => r[on].writer - r[off].writer);
  const compiling = reps.map((r) => r[on].compiling - r[off].compiling);
  const txs = reps.map((r) => r[on].b.commits - r[on].a.commits);
  const batch = Math.max(1, Math.round(median(txs.map((tx) => (tx > 0 ? (N2 - N1) / tx : N2 - N1)))));
  const source = reps[0][on].b.db;
  const raw = async (b) => {
    const runs = [];
    for (const n of [N1, N2]) {
      const x = await callgrind([RAW, source, String(n), String(b), join(scratch, `raw-${on}-${mode}-${b}-${n}.db`)], {
        env: childEnv({}),
        label: `raw ${b} ${n}`,
      });
      if (!x.stdout.includes(`raw inserts: ${n} calls`)) throw new Error(`raw inserts failed: ${x.stdout} ${x.appErr.join(' ')}`);
      runs.push(x);
    }
    return {
      perCall: (runs[1].ir - runs[0].ir) / (N2 - N1),
      compiling: (runs[1].compiling - runs[0].compiling) / (N2 - N1),
      commits: `${runs[0].commits}/${runs[1].commits}`,
    };
  };
  const same = await raw(batch);
  const big = await raw(512);
  console.log(
    `${mode}: the call log's cost, ${what} (${on} − ${off}), Ir/call: all threads ${spread(all, fmt)}, writer thread alone ${spread(writer, fmt)}, of which V8 compiling ${spread(compiling, fmt)}; the writer committed ${txs.join(', ')} transactions for ${N2 - N1} calls (≈ ${batch} calls each)`,
  );
  console.log(
    `${mode}: raw better-sqlite3 inserts of the same rows, ${batch} calls per transaction: ${fmt(same.perCall)} Ir/call (V8 compiling ${fmt(same.compiling)}; commits ${same.commits}); 512 per transaction: ${fmt(big.perCall)} Ir/call`,
  );
  const ratios = (cost) =>
    spread(
      cost.map((c) => c / same.perCall),
      f2,
    );
  console.log(
    `${mode}: CALL LOG (${what}) / raw (${batch} per transaction) = ${ratios(all)} all threads, ${ratios(writer)} writer thread alone, ${spread(
      all.map((c, i) => (c - compiling[i]) / (same.perCall - same.compiling)),
      f2,
    )} all threads without V8 compiling (target ≤ 1.2×)`,
  );
}

async function startUp() {
  console.log('\n## start-up: callgrind Ir of `node -e "console.log(1)"` (all threads), collector up');
  const out = {};
  for (const [name, flags, env] of [
    ['bare', [], {}],
    ['register', REGISTER, {}],
    ['register, OTLP off', REGISTER, { OTEL_TRACES_EXPORTER: 'none' }],
  ]) {
    const cwd = mkdtempSync(join(cwdRoot, 'cg-'));
    const r = await callgrind([...flags, '-e', 'console.log(1)'], { env: childEnv(env), cwd, label: name });
    out[name] = r.ir;
    console.log(
      `${name.padEnd(20)} ${fmt(r.ir).padStart(14)} Ir (main thread ${fmt(r.mainIr)}, ${r.threads} threads)${existsSync(join(cwd, 'llm-otel.db')) ? ', CREATED llm-otel.db' : ''}`,
    );
  }
  console.log(`register / bare: ${f2(ratio(out.register, out.bare))}, +${fmt(out.register - out.bare)} Ir`);
}

// ---- wall clock: start-up and exit ----
async function timed(args, env) {
  const cwd = mkdtempSync(join(cwdRoot, 'run-'));
  const rss = join(cwd, '.rss');
  const r = await run('/usr/bin/time', ['-f', '%M', '-o', rss, process.execPath, ...args], { env, cwd, mark: 'calls done:' });
  if (r.code !== 0) throw new Error(`${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  const kb = Number(readFileSync(rss, 'utf8').trim().split('\n').pop());
  const db = existsSync(join(cwd, 'llm-otel.db'));
  rmSync(cwd, { recursive: true, force: true });
  return { ms: r.ms, tailMs: r.afterMarkMs, mb: kb / 1024, db, stderr: r.stderr.trim() };
}

async function paired(title, variants) {
  const names = Object.keys(variants);
  const s = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) await timed(variants[n].args, variants[n].env); // warm the file cache
  for (let round = 0; round < RUNS; round++) {
    for (let k = 0; k < names.length; k++) {
      const n = names[(round + k) % names.length];
      s[n].push(await timed(variants[n].args, variants[n].env));
    }
  }
  console.log(`\n## ${title}: wall ms and peak RSS, ${RUNS} paired runs each (variants alternate), median [min–max]`);
  const base = s[names[0]];
  for (const n of names) {
    const x = s[n];
    const range = (f) => `${median(x.map(f)).toFixed(0)} [${Math.min(...x.map(f)).toFixed(0)}–${Math.max(...x.map(f)).toFixed(0)}]`;
    const dWall = x.map((r, i) => r.ms - base[i].ms);
    const dMb = x.map((r, i) => r.mb - base[i].mb);
    const tail = x[0].tailMs === null ? '' : `, after its last call ${range((r) => r.tailMs)} ms`;
    const cmp =
      n === names[0]
        ? ''
        : `; paired vs ${names[0]}: +${median(dWall).toFixed(0)} ms [${Math.min(...dWall).toFixed(0)}–${Math.max(...dWall).toFixed(0)}], +${median(dMb).toFixed(1)} MB`;
    const warn = [...new Set(x.map((r) => r.stderr).filter(Boolean))];
    console.log(
      `${n.padEnd(34)} wall ${range((r) => r.ms)} ms${tail}, RSS ${range((r) => r.mb)} MB, call-log file created: ${x.filter((r) => r.db).length}/${x.length}${cmp}${warn.length ? `  stderr: ${warn.join(' | ').slice(0, 300)}` : ''}`,
    );
  }
}

async function exitTimes() {
  const hello = ['-e', 'console.log(1)'];
  await paired('no LLM call: console.log(1)', {
    bare: { args: hello, env: childEnv({}) },
    'register, OTLP off': { args: [...REGISTER, ...hello], env: childEnv({ OTEL_TRACES_EXPORTER: 'none' }) },
    'register, collector up': { args: [...REGISTER, ...hello], env: childEnv({}) },
  });
  const three = [APP, 'chat', '3'];
  const before = spansAt('llm-otel');
  await paired('3 chat calls (collector up)', {
    bare: { args: three, env: childEnv({}) },
    official: { args: ['--require', OFFICIAL, ...three], env: childEnv({}) },
    'register (defaults)': { args: [...REGISTER, ...three], env: childEnv({}) },
  });
  await settle(500);
  const got = spansAt('llm-otel') - before;
  const want = 3 * (RUNS + 1);
  console.log(`llm-otel spans at the OTLP counter from the 3-call runs: ${got} of ${want}`);
  if (got !== want) problemsSeen.push(`exit: ${got} of ${want} llm-otel spans from the 3-call runs reached the OTLP counter`);
}

const valgrind = await run('valgrind', ['--version'], { env: process.env }).then(
  (r) => r.stdout.trim(),
  () => null,
);
console.log(
  `yardstick: node ${process.version}, ${valgrind ?? 'valgrind not found: the callgrind parts (per-call, start-up) are skipped'}`,
);
try {
  if (valgrind && ONLY.includes('per-call')) await perCall();
  if (valgrind && ONLY.includes('start-up')) await startUp();
  if (ONLY.includes('exit')) await exitTimes();
} finally {
  await openaiPeer.close();
  await counter.close();
}
if (problemsSeen.length) {
  console.log(`\nPROBLEMS (${problemsSeen.length}):\n${problemsSeen.map((p) => `  ${p}`).join('\n')}`);
  process.exitCode = 1;
}
