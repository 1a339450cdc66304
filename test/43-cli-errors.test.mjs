// CLI bad input: one line on stderr, no stack trace, exit code 2 (1 when the DB file or the thing
// asked for does not exist), and the DB file byte-for-byte unchanged; read verbs never create files.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll as after, beforeAll as before, test } from 'vitest';
import { cli, exporterApi, scratch, standardItems, writeItems } from './4x-helpers/calllog.mjs';

const { SCHEMA_VERSION } = await exporterApi();

let s;
let db;
before(async () => {
  s = scratch('cli-errors');
  db = join(s.dir, 'calls.db');
  await writeItems(db, standardItems());
});
after(() => s.cleanup());

const hash = (p) => createHash('sha256').update(readFileSync(p)).digest('hex');

function fails(args, code, pattern, opts) {
  const r = cli(args, opts);
  assert.equal(r.code, code, `llm-otel ${args.join(' ')} → exit ${r.code}, stderr: ${r.stderr}`);
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `one line on stderr, got: ${JSON.stringify(r.stderr)}`);
  assert.match(lines[0], /^llm-otel: /);
  assert.doesNotMatch(r.stderr, /\n\s+at |Error:|node:internal/, 'no stack trace');
  if (pattern) assert.match(lines[0], pattern);
  assert.equal(r.stdout, '');
  return lines[0];
}

test('unknown verb, unknown flag, bad values: exit 2', () => {
  const before = hash(db);
  fails(['frobnicate', '--db', db], 2, /unknown command 'frobnicate'/);
  fails(['stast', '--db', db], 2, /Did you mean stats\?/);
  fails(['calls', '--bogus', '--db', db], 2, /unknown option '--bogus'/);
  fails(['calls', '--since', '5x', '--db', db], 2, /--since.*15m, 2h, 7d/);
  fails(['calls', '--since', '2026-13-45', '--db', db], 2, /--since/);
  fails(['calls', '--until', 'yesterday', '--db', db], 2, /--until/);
  fails(['calls', '--limit', '0', '--db', db], 2, /--limit/);
  fails(['calls', '--limit', 'ten', '--db', db], 2, /--limit/);
  fails(['calls', '--status', 'broken', '--db', db], 2, /--status.*ok, error, timeout, cancelled, failed/);
  fails(['stats', '--by', 'color', '--db', db], 2, /--by.*model, user, agent, session, provider, hour, day/);
  fails(['stats', '--rollup', '--by', 'session', '--db', db], 2, /--rollup/);
  fails(['export', '--db', db], 2, /--format/);
  fails(['export', '--format', 'xml', '--db', db], 2, /--format.*csv, jsonl/);
  fails(['tail', '--interval', 'often', '--db', db], 2, /--interval/);
  fails(['prune', '--db', db], 2, /--older-than.*--max-size/);
  fails(['prune', '--older-than', 'soon', '--db', db], 2, /--older-than/);
  fails(['prune', '--max-size', 'big', '--db', db], 2, /--max-size/);
  fails(['prices', 'set', 'x', '--db', db], 2, /--input/);
  fails(['prices', 'set', 'x', '--input', '-3', '--db', db], 2, /--input/);
  fails(['prices', 'set', 'x', '--input', '1', '--currency', 'dollars', '--db', db], 2, /currency/);
  fails(['show', '--db', db], 2, /missing required argument/);
  fails(['ui', '--port', 'eighty', '--db', db], 2, /expected a port from 0 to 65535/);
  assert.equal(cli([]).code, 2, 'no verb: help and exit 2');
  assert.equal(hash(db), before, 'the DB is unchanged');
});

test('bad ids: malformed → 2, well-formed but absent → 1', () => {
  fails(['show', 'abc', '--db', db], 2, /call id \(a number\) or a span id/);
  fails(['show', '-1', '--db', db], 2);
  fails(['show', '12345678', '--db', db], 1, /no call with id 12345678/);
  fails(['show', 'ffffffffffffffff', '--db', db], 1, /no call with span id ffffffffffffffff/);
  fails(['trace', 'not-a-trace', '--db', db], 2, /trace id/);
  fails(['trace', 'abc', '--db', db], 2, /trace id/);
  fails(['trace', 'ffffffffffffffffffffffffffffffff', '--db', db], 1, /no trace/);
  fails(['trace', '00000000', '--db', db], 2, /ambiguous/);
  fails(['trace', 'ffffffff', '--db', db], 1, /no trace starting with ffffffff/);
  fails(['session', 'nobody', '--db', db], 1, /no session "nobody"/);
});

test('a missing DB: exit 1, and no file is created (not by any read verb)', () => {
  const dir = join(s.dir, 'empty-dir');
  mkdirSync(dir);
  const missing = join(dir, 'nope.db');
  for (const args of [
    ['calls'],
    ['stats'],
    ['latency'],
    ['runs'],
    ['show', '1'],
    ['trace', '0123456789abcdef0123456789abcdef'],
    ['session', 'x'],
    ['sql', 'SELECT 1'],
    ['export', '--format', 'csv'],
    ['tail'],
    ['prune', '--older-than', '30d'],
  ]) {
    fails([...args, '--db', missing], 1, /no call log at .*nope\.db/);
  }
  // the default comes from LLM_OTEL_DB, else ./llm-otel.db in the current directory
  fails(['calls'], 1, /no call log at \.\/llm-otel\.db/, { cwd: dir });
  fails(['calls'], 1, /no call log at .*other\.db/, { cwd: dir, env: { LLM_OTEL_DB: join(dir, 'other.db') } });
  assert.deepEqual(readdirSync(dir), [], 'nothing created');
  const ok = cli(['calls', '--json'], { env: { LLM_OTEL_DB: db } });
  assert.equal(ok.code, 0);
  assert.equal(JSON.parse(ok.stdout).calls.length, 6);
});

test('foreign, non-SQLite, newer and directory "DBs" are refused untouched', () => {
  const foreign = join(s.dir, 'foreign.db');
  const f = new Database(foreign);
  f.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('x')");
  f.close();
  const text = join(s.dir, 'notes.txt');
  writeFileSync(text, 'these are my notes, not a database\n'.repeat(100));
  const newer = join(s.dir, 'newer.db');
  const n = new Database(newer);
  n.pragma('application_id = 1280069460'); // 'LLOT'
  n.pragma('user_version = 99');
  n.exec('CREATE TABLE llm_calls (id INTEGER PRIMARY KEY, future TEXT)');
  n.close();
  const hashes = [foreign, text, newer].map(hash);
  for (const args of [['calls'], ['stats'], ['sql', 'SELECT 1'], ['prune', '--older-than', '1d'], ['prices', 'set', 'm', '--input', '1']]) {
    fails([...args, '--db', foreign], 2, /not an llm-otel call log/);
    fails([...args, '--db', text], 2, /not an llm-otel call log|not a SQLite database/);
    fails([...args, '--db', newer], 2, /newer llm-otel/);
  }
  assert.deepEqual([foreign, text, newer].map(hash), hashes, 'byte-for-byte unchanged');
  assert.ok(!existsSync(newer + '-wal') && !existsSync(foreign + '-wal'));
  fails(['calls', '--db', s.dir], 2, /is a directory/);
});

test('an empty (0-byte) file reads as an empty log and stays 0 bytes', () => {
  const empty = join(s.dir, 'zero.db');
  writeFileSync(empty, '');
  const r = cli(['calls', '--db', empty]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'no calls');
  assert.deepEqual(JSON.parse(cli(['stats', '--db', empty, '--json']).stdout).rows, []);
  assert.equal(statSync(empty).size, 0);
});

test('sql refuses every write — DROP, INSERT, UPDATE, ATTACH, VACUUM INTO, PRAGMA assignment — and nothing changes', () => {
  const before = hash(db);
  const target = join(s.dir, 'copy.db');
  for (const q of [
    'DROP TABLE llm_calls',
    "INSERT INTO llm_calls (span_id, trace_id, operation, started_at, status) VALUES ('x', 'y', 'chat', 'now', 'ok')",
    'UPDATE llm_calls SET cost = 0',
    'DELETE FROM llm_messages',
    'CREATE TABLE evil (x)',
    `ATTACH DATABASE '${target}' AS evil`,
    `VACUUM INTO '${target}'`,
    'PRAGMA user_version = 7',
    'PRAGMA journal_mode = DELETE',
  ]) {
    fails(['sql', q, '--db', db], 2, /sql: /);
  }
  fails(['sql', 'SELECT 1; DROP TABLE llm_calls', '--db', db], 2, /sql: /);
  fails(['sql', 'SELEKT 1', '--db', db], 2, /sql: .*syntax error/);
  fails(['sql', '', '--db', db], 2, /give a query/);
  assert.equal(hash(db), before, 'the DB file is unchanged');
  assert.ok(!existsSync(target), 'no file written');
  const check = new Database(db, { readonly: true });
  assert.equal(check.prepare('SELECT count(*) AS n FROM llm_calls').get().n, 6, 'llm_calls intact');
  assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  check.close();
});
