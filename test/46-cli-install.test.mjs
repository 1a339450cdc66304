// A newcomer's path: the `llm-otel` bin without a build says so in one line, and `llm-otel demo`
// runs the sample app on the `openai` of the project it is run from — with llm-otel in a parent
// folder (this repository) or installed elsewhere without an openai of its own (as a global install
// is: openai is an optional peer) — falling back to llm-otel's own, or one clear line when none.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll as after, beforeAll as before, test } from 'vitest';
import { BIN, ROOT, scratch } from './4x-helpers/calllog.mjs';

const versionOf = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
const V4 = versionOf(join(ROOT, 'node_modules', 'openai-v4'));
const V5 = versionOf(join(ROOT, 'node_modules', 'openai-v5'));
const OWN_DIR = realpathSync(join(ROOT, 'node_modules', 'openai'));
const OWN = versionOf(OWN_DIR);

/** Runs an llm-otel bin; the bound only proves nothing hangs (a demo takes a few seconds). */
function run(bin, args, cwd) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, LLM_OTEL_DB: '', NO_COLOR: '1', OTEL_TRACES_EXPORTER: '', OTEL_EXPORTER_OTLP_ENDPOINT: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

/** A project folder whose node_modules/openai is a copy (the name must be `openai`) of `source`. */
function projectWith(dir, source) {
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  cpSync(source, join(dir, 'node_modules', 'openai'), { recursive: true, dereference: true });
  writeFileSync(join(dir, 'package.json'), '{ "name": "newcomer-app", "private": true }\n');
  return dir;
}

const noStack = (r) => assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, 'no stack traces');
const esc = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The sample app's own line: the openai version it loaded and the folder it loaded it from. */
const usingLine = (version, dir) => new RegExp(`\\n  using openai ${esc(version)} from ${esc(dir)}\\n`);

let inRepo; // under test/.tmp: this repository (openai OWN) is a parent folder of the project
let outside; // under the OS temp dir: nothing above it has node_modules
before(() => {
  assert.notEqual(OWN, V4, "precondition: the project's openai differs from llm-otel's own");
  inRepo = scratch('cli-install');
  outside = mkdtempSync(join(tmpdir(), 'llm-otel-install-'));
});
after(() => {
  inRepo?.cleanup();
  if (outside) rmSync(outside, { recursive: true, force: true });
});

test('the bin without dist/ prints one line naming what is missing and how to build it, exit 1', () => {
  const pkg = join(outside, 'unbuilt');
  cpSync(join(ROOT, 'bin'), join(pkg, 'bin'), { recursive: true });
  const r = run(join(pkg, 'bin', 'llm-otel.js'), ['calls'], outside);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0],
    /^llm-otel: the CLI is not built \(.*dist[/\\]cjs[/\\]src[/\\]cli[/\\]main\.js is missing\): run `npm run build` in /,
  );
  assert.ok(lines[0].endsWith(` in ${pkg}`), lines[0]);
  assert.doesNotMatch(r.stderr, /Cannot find module|\n\s+at /);
});

test('demo from a project with its own openai uses that one, with llm-otel in a parent folder', () => {
  const project = projectWith(join(inRepo.dir, 'app'), join(ROOT, 'node_modules', 'openai-v4'));
  const db = join(project, 'demo.db');
  const r = run(BIN, ['demo', '--db', db], project);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, usingLine(V4, join(project, 'node_modules', 'openai')));
  assert.match(r.stdout, /gpt-4o-mini\s+5\s/, 'the calls made with that SDK were recorded');
  assert.doesNotMatch(r.stdout, /note:/);
  noStack(r);
});

test("demo of an llm-otel installed elsewhere without its own openai: the project's, else one clear line", () => {
  // An install like a global one: llm-otel's files, its dependencies, and no openai beside it.
  const pkg = join(outside, 'global', 'lib', 'node_modules', 'llm-otel');
  for (const part of ['bin', 'dist', 'package.json']) cpSync(join(ROOT, part), join(pkg, part), { recursive: true });
  mkdirSync(join(pkg, 'node_modules'));
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name.startsWith('.') || name.startsWith('openai')) continue;
    symlinkSync(join(ROOT, 'node_modules', name), join(pkg, 'node_modules', name));
  }
  const bin = join(pkg, 'bin', 'llm-otel.js');

  const project = projectWith(join(outside, 'app5'), join(ROOT, 'node_modules', 'openai-v5'));
  const ok = run(bin, ['demo', '--db', join(project, 'demo.db')], project);
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  assert.match(ok.stdout, usingLine(V5, join(project, 'node_modules', 'openai')));
  assert.match(ok.stdout, /gpt-4o-mini\s+5\s/);
  noStack(ok);

  const empty = join(outside, 'no-openai');
  mkdirSync(empty);
  const none = run(bin, ['demo', '--db', join(empty, 'demo.db')], empty);
  assert.equal(none.code, 1);
  assert.equal(
    none.stderr,
    'llm-otel: demo: the sample app needs the `openai` package — run `npm install openai` in this project, then try again\n',
  );
  assert.equal(none.stdout, '');
  assert.ok(!existsSync(join(empty, 'demo.db')), 'refused before creating the call log');
});

test("demo from a project whose openai is not a supported major uses llm-otel's own, saying why", () => {
  // Only its manifest is read: loading it would fail loudly.
  const project = join(outside, 'app3');
  mkdirSync(join(project, 'node_modules', 'openai'), { recursive: true });
  writeFileSync(join(project, 'node_modules', 'openai', 'package.json'), '{ "name": "openai", "version": "3.3.0", "main": "index.js" }\n');
  writeFileSync(join(project, 'node_modules', 'openai', 'index.js'), "throw new Error('openai 3 must not be loaded');\n");
  const r = run(BIN, ['demo', '--db', join(project, 'demo.db')], project);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(
    r.stdout,
    new RegExp(
      `\\nnote: this project's openai 3\\.3\\.0 is not one llm-otel supports \\(4 to 7\\), so the demo uses llm-otel's own openai ${esc(OWN)}\\.\\n`,
    ),
  );
  assert.match(r.stdout, usingLine(OWN, OWN_DIR));
  noStack(r);
});
