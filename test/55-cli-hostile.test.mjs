// CLI against hostile data and hostile input (issue #10):
// - stored text with escape sequences (screen clear, cursor moves, OSC 52 clipboard writes), C1
//   controls and bidi overrides is shown as visible escapes in human output, on a terminal too,
//   while --json and exports to files/pipes keep the exact values;
// - a full disk (/dev/full, RLIMIT_FSIZE) ends with exit 3 and one line, never exit 0, and never
//   leaves a partial --out file; --out never replaces a file without --force;
// - every bad option value and every odd --db path gives one line naming it, exit 2, no hang.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll as after, beforeAll as before, test } from 'vitest';
import { BIN, callRow, DIST, message, runRow, scratch, spanId, standardItems, traceId, writeItems } from './4x-helpers/calllog.mjs';

const ESC = '\x1b';
// What an attacker-controlled prompt, model reply, error message or app-set id could hold.
const HOSTILE = {
  session_id: `sess${ESC}[2J${ESC}[H`, // clear the screen, cursor home
  user_id: `u${ESC}]52;c;aGVsbG8=\x07`, // OSC 52: write "hello" to the clipboard
  agent_name: 'agent\u202Egnp.exe', // right-to-left override
  request_model: `gpt${ESC}[31m-red`, // colour
  error_type: 'Err\u009B2J', // C1 CSI (clear screen on terminals that honour 8-bit C1)
  error_message: `bad\r\nfake line${ESC}[1A\u007F`, // carriage return, cursor up, DEL
};
const CONTENT = `hello ${ESC}]52;c;ZXZpbA==\x07 world ${ESC}[2J${ESC}[3;1H\u2066x\u2069\u200F`;
// Control (C0 minus line feed, DEL, C1) and bidi formatting characters: none may reach a terminal.
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
const TRACE = 'e'.repeat(32);

let s;
let db;
before(async () => {
  s = scratch('cli-hostile');
  db = join(s.dir, 'calls.db');
  const items = standardItems();
  items.push({ kind: 'run', run: runRow({ span_id: 'e000000000000002', trace_id: TRACE, name: `tool${ESC}[2J`, session_id: 'plain' }) });
  items.push({
    kind: 'call',
    call: callRow({
      span_id: 'e000000000000001',
      trace_id: TRACE,
      parent_span_id: 'e000000000000002',
      parent_call_id: 'e000000000000002',
      session_id: 'plain',
      status: 'error',
    }),
    messages: [message({ content: 'placeholder' })],
  });
  await writeItems(db, items);
  // Written straight into the file (as any tool or an older writer could): the CLI trusts nothing.
  const d = new Database(db);
  const sets = Object.keys(HOSTILE)
    .map((k) => `${k} = @${k}`)
    .join(', ');
  d.prepare(`UPDATE llm_calls SET ${sets} WHERE span_id = 'e000000000000001'`).run(HOSTILE);
  d.prepare("UPDATE llm_messages SET content = ? WHERE call_id = (SELECT id FROM llm_calls WHERE span_id = 'e000000000000001')").run(
    CONTENT,
  );
  d.close();
});
after(() => s.cleanup());

/** Runs the CLI with a time bound (a FIFO must not hang it); stdout/stderr as text. */
function run(args, { stdout = 'pipe', timeout = 20_000, killSignal = 'SIGKILL', env = {} } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout,
    killSignal,
    stdio: ['ignore', stdout, 'pipe'],
    env: { ...process.env, LLM_OTEL_DB: '', NO_COLOR: '1', ...env },
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

function oneLineError(r, code, pattern, what) {
  assert.equal(r.error, undefined, `${what}: ${r.error}`);
  assert.equal(r.code, code, `${what} → exit ${r.code} (signal ${r.signal}), stderr: ${r.stderr}`);
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `${what}: one line on stderr, got ${JSON.stringify(r.stderr)}`);
  assert.match(lines[0], /^llm-otel: /);
  assert.doesNotMatch(r.stderr, /\n\s+at |node:internal|RangeError|TypeError/, `${what}: no stack trace`);
  if (pattern) assert.match(lines[0], pattern, what);
  return lines[0];
}

const hostileId = () =>
  JSON.parse(run(['sql', "SELECT id FROM llm_calls WHERE span_id = 'e000000000000001'", '--json', '--db', db]).stdout).rows[0].id;

test('visible() and jsonSafe(): the rendering of control and bidi characters', async () => {
  const { visible, jsonSafe } = await import(join(DIST, 'src', 'cli', 'visible.js'));
  assert.equal(visible(`a${ESC}[2Jb`), 'a\\x1b[2Jb');
  assert.equal(visible('\u009B\u007F\u0000'), '\\x9b\\x7f\\x00');
  assert.equal(visible('x\u202Ey\u2066\u200F\u061C'), 'x\\u202ey\\u2066\\u200f\\u061c');
  assert.equal(visible('l1\r\nl2\tz'), 'l1\\r\\nl2\\tz');
  assert.equal(visible('l1\r\nl2\tz', { newlines: true, tabs: true }), 'l1\\r\nl2\tz');
  assert.equal(visible('héllo wörld 日本 → ✓ C:\\path'), 'héllo wörld 日本 → ✓ C:\\path', 'printable text untouched');
  assert.equal(visible(visible(CONTENT)), visible(CONTENT), 'idempotent');
  assert.doesNotMatch(visible(CONTENT), UNSAFE);
  const j = jsonSafe(JSON.stringify({ a: CONTENT, b: HOSTILE.error_type, c: '\u2028' }));
  assert.doesNotMatch(j, UNSAFE);
  assert.doesNotMatch(j, /\u2028/);
  assert.deepEqual(JSON.parse(j), { a: CONTENT, b: HOSTILE.error_type, c: '\u2028' }, 'same values once parsed');
});

test('human output shows stored escape sequences, C1 controls and bidi overrides as visible escapes', () => {
  const id = hostileId();
  const outputs = {
    calls: run(['calls', '--db', db]),
    show: run(['show', String(id), '--db', db]),
    'show run': run(['show', 'e000000000000002', '--db', db]),
    'stats --by user': run(['stats', '--by', 'user', '--db', db]),
    'stats --by agent': run(['stats', '--by', 'agent', '--db', db]),
    'stats --by session': run(['stats', '--by', 'session', '--db', db]),
    latency: run(['latency', '--db', db]),
    trace: run(['trace', TRACE, '--db', db]),
    session: run(['session', HOSTILE.session_id, '--db', db]),
    'session plain': run(['session', 'plain', '--db', db]),
    runs: run(['runs', '--db', db]),
    sql: run(['sql', 'SELECT session_id, user_id, agent_name, error_message FROM llm_calls', '--db', db]),
    // tail prints the last calls at once, then polls until Ctrl-C
    tail: run(['tail', '--db', db], { timeout: 3000, killSignal: 'SIGINT' }),
  };
  for (const [verb, r] of Object.entries(outputs)) {
    assert.equal(r.stderr, '', `${verb}: ${r.stderr}`);
    assert.ok(r.stdout.length > 0, `${verb} printed something`);
    assert.doesNotMatch(r.stdout, UNSAFE, `${verb}: no raw control or bidi character reaches the terminal`);
  }
  assert.match(outputs.calls.stdout, /sess\\x1b\[2J\\x1b\[H/);
  assert.match(outputs.calls.stdout, /u\\x1b\]52;c;aGVsbG8=\\x07/);
  assert.match(outputs.calls.stdout, /agent\\u202egnp\.exe/);
  assert.match(outputs.calls.stdout, /gpt\\x1b\[31m-red/);
  assert.match(outputs.calls.stdout, /Err\\x9b2J/);
  assert.match(outputs.show.stdout, /hello \\x1b\]52;c;ZXZpbA==\\x07 world \\x1b\[2J\\x1b\[3;1H\\u2066x\\u2069\\u200f/);
  assert.match(outputs.show.stdout, /bad\\r\n\s+fake line\\x1b\[1A\\x7f/, 'show keeps a multi-line error readable, \\r made visible');
  assert.match(outputs['show run'].stdout, /tool\\x1b\[2J/);
  assert.match(outputs.trace.stdout, /tool\\x1b\[2J/);
  assert.match(outputs.trace.stdout, /bad\\r\\nfake line/, 'a table row stays one line');
  assert.match(outputs.runs.stdout, /tool\\x1b\[2J/);
  assert.match(outputs.tail.stdout, /sess\\x1b\[2J/);
  assert.match(outputs.session.stdout, /^session sess\\x1b\[2J\\x1b\[H: 1 calls/);
  assert.match(outputs['stats --by user'].stdout, /u\\x1b\]52;c;aGVsbG8=\\x07/);
});

test('--json and exports to a pipe or file keep the exact stored values', () => {
  const id = hostileId();
  const shown = JSON.parse(run(['show', String(id), '--json', '--db', db]).stdout);
  const d = new Database(db, { readonly: true });
  const stored = d.prepare('SELECT * FROM llm_calls WHERE id = ?').get(id);
  const content = d.prepare('SELECT content FROM llm_messages WHERE call_id = ?').get(id).content;
  d.close();
  for (const k of Object.keys(HOSTILE)) assert.equal(shown.call[k], stored[k], `show --json ${k}`);
  assert.equal(shown.messages[0].content, content);
  for (const args of [
    ['calls', '--json'],
    ['show', String(id), '--json'],
    ['stats', '--by', 'agent', '--json'],
    ['trace', TRACE, '--json'],
    ['session', 'plain', '--json'],
    ['export', '--format', 'jsonl'],
    ['tail', '--json'],
  ]) {
    const r = args[0] === 'tail' ? run([...args, '--db', db], { timeout: 3000, killSignal: 'SIGINT' }) : run([...args, '--db', db]);
    assert.doesNotMatch(r.stdout, UNSAFE, `${args.join(' ')}: JSON text has every control/bidi character escaped`);
  }
  const calls = JSON.parse(run(['calls', '--json', '--db', db]).stdout).calls;
  assert.equal(calls.find((c) => c.id === id).agent_name, stored.agent_name);
  const jl = run(['export', '--format', 'jsonl', '--db', db])
    .stdout.trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(Object.fromEntries(Object.keys(HOSTILE).map((k) => [k, jl.find((c) => c.id === id)[k]])), HOSTILE);
  // CSV cannot escape: to a pipe or a file it is the exact bytes
  const csv = run(['export', '--format', 'csv', '--db', db]).stdout;
  assert.ok(csv.includes(HOSTILE.user_id) && csv.includes(HOSTILE.agent_name) && csv.includes(HOSTILE.error_type));
  const out = join(s.dir, 'exact.csv');
  assert.equal(run(['export', '--format', 'csv', '--out', out, '--db', db]).code, 0);
  assert.equal(readFileSync(out, 'utf8'), csv);
});

// util-linux `script` runs the command under a pseudo-terminal: process.stdout.isTTY is true there.
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

test('on a terminal (a real pty), CSV and JSON Lines exports show no raw control characters', {
  skip: !hasScript && 'util-linux script not available',
}, () => {
  const quote = (a) => `'${a.replace(/'/g, "'\\''")}'`;
  for (const args of [['export', '--format', 'csv'], ['export', '--format', 'jsonl'], ['calls']]) {
    const cmd = [process.execPath, BIN, ...args, '--db', db].map(quote).join(' ');
    const r = spawnSync('script', ['-qfec', cmd, '/dev/null'], {
      encoding: 'utf8',
      timeout: 20_000,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    const text = r.stdout.replace(/\r\n/g, '\n'); // the pty's own line endings
    assert.ok(text.includes('agent\\u202egnp.exe'), `${args.join(' ')} on a tty: ${text.slice(-300)}`);
    assert.doesNotMatch(text, UNSAFE, `${args.join(' ')} on a tty`);
  }
});

const hasDevFull = existsSync('/dev/full');

test('a full disk: exit 3 and one line, for --out and for stdout, CSV and JSON Lines', { skip: !hasDevFull && 'no /dev/full' }, () => {
  for (const format of ['csv', 'jsonl']) {
    oneLineError(
      run(['export', '--format', format, '--out', '/dev/full', '--db', db]),
      3,
      /^llm-otel: cannot write to \/dev\/full: no space left on device \(ENOSPC\)$/,
      `export ${format} --out /dev/full`,
    );
    const fd = openSync('/dev/full', 'w');
    try {
      oneLineError(
        run(['export', '--format', format, '--db', db], { stdout: fd }),
        3,
        /cannot write to standard output: no space left on device \(ENOSPC\)/,
        `export ${format} > /dev/full`,
      );
    } finally {
      closeSync(fd);
    }
  }
  const fd = openSync('/dev/full', 'w');
  try {
    // tail too: it stops at its next poll instead of following forever into a full disk
    for (const args of [
      ['calls'],
      ['stats', '--json'],
      ['show', '1'],
      ['trace', traceId(1)],
      ['sql', 'SELECT 1'],
      ['tail', '--interval', '100ms'],
    ]) {
      oneLineError(
        run([...args, '--db', db], { stdout: fd, timeout: 10_000 }),
        3,
        /cannot write to standard output: no space left on device/,
        `${args.join(' ')} > /dev/full`,
      );
    }
  } finally {
    closeSync(fd);
  }
});

test('a write that fails half-way (file size limit) leaves no partial --out file and an old one intact', async (t) => {
  const w = scratch('cli-hostile-fsize');
  t.onTestFinished(w.cleanup);
  const big = join(w.dir, 'big.db');
  const items = [];
  for (let i = 0; i < 600; i++)
    items.push({
      kind: 'call',
      messages: [],
      call: callRow({ span_id: spanId(i), trace_id: traceId(i), started_at: new Date(Date.UTC(2026, 9, 1) + i * 1000).toISOString() }),
    });
  await writeItems(big, items);
  const out = join(w.dir, 'out');
  mkdirSync(out);
  // RLIMIT_FSIZE 32 KB: writes past it fail with EFBIG (Node ignores SIGXFSZ) after a partial write.
  const limited = (args) =>
    spawnSync('bash', ['-c', 'ulimit -f 32 && exec "$0" "$@"', process.execPath, BIN, ...args], { encoding: 'utf8', timeout: 20_000 });
  for (const format of ['csv', 'jsonl']) {
    const target = join(out, `calls.${format}`);
    const r = limited(['export', '--format', format, '--out', target, '--db', big]);
    oneLineError(
      { code: r.status, stderr: r.stderr },
      3,
      new RegExp(`cannot write to .*calls\\.${format}: file too large \\(EFBIG\\)`),
      `${format} over the size limit`,
    );
    assert.deepEqual(readdirSync(out), [], `${format}: no partial file and no temporary file left`);
  }
  const old = join(out, 'old.csv');
  writeFileSync(old, 'the previous export\n');
  const r = limited(['export', '--format', 'csv', '--out', old, '--force', '--db', big]);
  assert.equal(r.status, 3, r.stderr);
  assert.equal(readFileSync(old, 'utf8'), 'the previous export\n', '--force replaces only with a complete file');
  assert.deepEqual(readdirSync(out), ['old.csv']);
  // without the limit the same export completes
  const ok = run(['export', '--format', 'csv', '--out', old, '--force', '--db', big]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(readFileSync(old, 'utf8').trim().split('\n').length, 601);
});

test('--out never replaces a file without --force, nor the call log, nor a directory', () => {
  const out = join(s.dir, 'existing.csv');
  writeFileSync(out, 'keep me\n');
  oneLineError(
    run(['export', '--format', 'csv', '--out', out, '--db', db]),
    2,
    /--out .*existing\.csv already exists; pass --force to replace it/,
    'existing file',
  );
  assert.equal(readFileSync(out, 'utf8'), 'keep me\n');
  const link = join(s.dir, 'link.csv');
  symlinkSync(out, link);
  oneLineError(run(['export', '--format', 'jsonl', '--out', link, '--db', db]), 2, /already exists/, 'a symlink to a file');
  const forced = run(['export', '--format', 'csv', '--out', link, '--force', '--db', db]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, /^exported 7 rows to /);
  assert.ok(readFileSync(out, 'utf8').startsWith('id,span_id,'), 'the file the link points to is replaced');
  assert.equal(statSync(out).mode & 0o777, 0o600, 'private, like a new export');
  oneLineError(run(['export', '--format', 'csv', '--out', db, '--force', '--db', db]), 2, /is the call log itself/, 'the DB itself');
  oneLineError(run(['export', '--format', 'csv', '--out', s.dir, '--force', '--db', db]), 2, /is a directory/, 'a directory');
  oneLineError(
    run(['export', '--format', 'csv', '--out', join(s.dir, 'no', 'such', 'dir.csv'), '--db', db]),
    2,
    /cannot write to .*dir\.csv: no such file or directory/,
    'a missing folder',
  );
  oneLineError(run(['export', '--format', 'csv', '--force', '--db', db]), 2, /--force only applies with --out/, '--force alone');
  oneLineError(run(['export', '--format', 'csv', '--out', '', '--db', db]), 2, /--out/, 'empty --out');
  // a device has nothing to replace
  const devnull = run(['export', '--format', 'csv', '--out', '/dev/null', '--db', db]);
  assert.equal(devnull.code, 0, devnull.stderr);
  assert.ok(!readdirSync(s.dir).some((f) => f.endsWith('.tmp')), 'no temporary files left');
});

test('bad option values: one line naming the option and the value, exit 2', () => {
  const cases = [
    [['calls', '--since', '99999999999d'], '--since', '99999999999d'],
    [['calls', '--until', '99999999999d'], '--until', '99999999999d'],
    [['stats', '--since', '9'.repeat(400) + 'd'], '--since', '9999'],
    [['calls', '--since', '2026-02-30'], '--since', '2026-02-30'],
    [['calls', '--since', '2026-01-01 24:00'], '--since', '2026-01-01 24:00'],
    [['calls', '--since', '-5d'], '--since', '-5d'],
    [['calls', '--since', ''], '--since', "''"],
    [['calls', '--limit', '99999999999999999999'], '--limit', '99999999999999999999'],
    [['calls', '--limit', '-1'], '--limit', '-1'],
    [['calls', '--limit', 'NaN'], '--limit', 'NaN'],
    [['export', '--format', 'csv', '--limit', '1e3'], '--limit', '1e3'],
    [['prune', '--older-than', '99999999999d'], '--older-than', '99999999999d'],
    [['prune', '--max-size', '0.5'], '--max-size', '0.5'],
    [['prune', '--max-size', '1e400'], '--max-size', '1e400'],
    [['prune', '--max-size', '99999999999TB'], '--max-size', '99999999999TB'],
    [['prices', 'set', 'm', '--input', '1', '--from', '99999999999d'], '--from', '99999999999d'],
    [['prices', 'set', 'm', '--input', 'Infinity'], '--input', 'Infinity'],
    [['prices', 'set', 'm', '--input', '1', '--currency', ''], '--currency', "''"],
    [['prices', 'list', '--model', ''], '--model', "''"],
    [['tail', '--interval', 'NaN'], '--interval', 'NaN'],
    [['stats', '--by', ''], '--by', "''"],
    [['stats', '--by', 'colour'], '--by', 'colour'],
    [['runs', '--name', ''], '--name', "''"],
    [['runs', '--kind', 'robot'], '--kind', 'robot'],
  ];
  const before = readFileSync(db);
  for (const [args, option, value] of cases) {
    const line = oneLineError(run([...args, '--db', db]), 2, null, args.join(' '));
    assert.ok(line.includes(option), `${args.join(' ')}: names ${option}: ${line}`);
    assert.ok(line.includes(value), `${args.join(' ')}: quotes the value: ${line}`);
  }
  assert.ok(readFileSync(db).equals(before), 'the DB is unchanged');
});

test('odd --db paths: a FIFO, a device, a directory, not SQLite, a newer call log — one line, exit 2, no hang', (t) => {
  const fifo = join(s.dir, 'fifo.db');
  const made = spawnSync('mkfifo', [fifo]);
  const text = join(s.dir, 'text.db');
  writeFileSync(text, 'not a database\n'.repeat(200));
  const newer = join(s.dir, 'newer.db');
  const n = new Database(newer);
  n.pragma('application_id = 1280069460'); // 'LLOT'
  n.pragma('user_version = 99');
  n.exec('CREATE TABLE llm_calls (id INTEGER PRIMARY KEY)');
  n.close();
  const paths = [
    [s.dir, /is a directory/],
    ['/dev/null', /\/dev\/null is a device, not a call log/],
    [text, /not an llm-otel call log|not a SQLite database/],
    [newer, /newer llm-otel/],
  ];
  if (made.status === 0) paths.push([fifo, /fifo\.db is a FIFO, not a call log/]);
  else console.log('mkfifo failed; FIFO case skipped');
  for (const [path, pattern] of paths) {
    for (const args of [
      ['calls'],
      ['stats'],
      ['tail'],
      ['export', '--format', 'csv'],
      ['show', '1'],
      ['sql', 'SELECT 1'],
      ['prune', '--older-than', '1d'],
      ['prices', 'set', 'm', '--input', '1'],
      ['prices', 'list'],
    ]) {
      oneLineError(run([...args, '--db', path], { timeout: 10_000 }), 2, pattern, `${args.join(' ')} --db ${path}`);
    }
  }
});

test('error lines never carry raw control characters from the input', () => {
  for (const args of [
    ['session', `x${ESC}]52;c;aGk=\x07\u009B2J`],
    ['calls', '--since', `\u202E${ESC}[2J`],
    ['show', `${ESC}[2J`],
    ['export', '--format', `x\u009B`],
  ]) {
    const r = run([...args, '--db', db]);
    assert.ok(r.code === 1 || r.code === 2, `${args.join(' ')} → ${r.code}`);
    assert.doesNotMatch(r.stderr.replace(/\n$/, ''), UNSAFE, `${JSON.stringify(args)}: ${JSON.stringify(r.stderr)}`);
  }
});
