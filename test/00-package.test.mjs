// The package surface: exports resolve from ESM and CJS by name, versions agree, the API names of
// the README's public API exist in both builds, and importing the package has no side effects (no DB, no hooks).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'vitest';

const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const API = [
  'start',
  'withLlmContext',
  'withAgent',
  'withTool',
  'withWorkflow',
  'instrumentOpenAI',
  'OpenAIInstrumentation',
  'SqliteCallLogExporter',
  'stripContent',
];

test('package.json names the entry points the README documents', () => {
  assert.equal(pkg.name, 'llm-otel');
  for (const k of ['.', './register', './exporter', './package.json']) assert.ok(pkg.exports[k], `exports ${k}`);
  assert.equal(typeof pkg.bin['llm-otel'], 'string');
  assert.ok(existsSync(new URL(`../${pkg.bin['llm-otel']}`, import.meta.url)), 'bin file exists');
});

test('VERSION matches package.json', async () => {
  const esm = await import('llm-otel');
  assert.equal(esm.VERSION, pkg.version);
});

test('the public API is the same from import and require', async () => {
  const esm = await import('llm-otel');
  const cjs = require('llm-otel');
  for (const name of API) {
    assert.equal(typeof esm[name], 'function', `ESM ${name}`);
    assert.equal(typeof cjs[name], 'function', `CJS ${name}`);
  }
  const exEsm = await import('llm-otel/exporter');
  const exCjs = require('llm-otel/exporter');
  assert.equal(typeof exEsm.SqliteCallLogExporter, 'function');
  assert.equal(typeof exCjs.SqliteCallLogExporter, 'function');
});

test('importing the package starts nothing: no DB file, no warnings, process exits at once', () => {
  const dir = new URL('./.tmp/', import.meta.url);
  const r = spawnSync(process.execPath, ['-e', "require('llm-otel'); import('llm-otel').then(() => console.log('ok'))"], {
    cwd: new URL('.', import.meta.url),
    encoding: 'utf8',
    timeout: 20000,
    env: { ...process.env, LLM_OTEL_DB: new URL('side-effect.db', dir).pathname },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'ok');
  assert.equal(r.stderr, '');
  assert.equal(existsSync(new URL('side-effect.db', dir)), false);
});
