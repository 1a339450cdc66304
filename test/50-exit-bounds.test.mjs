// The app always wins at exit, proven at process level: whatever llm-otel's background thread is
// doing — blocked in a system call that never returns, spinning in native code, waiting for a lock
// another process holds — a normal exit, process.exit(), an uncaught exception and SIGTERM end the
// process within a fixed bound after the app's own work, with the app's output and exit status
// unchanged and one line saying what was abandoned. Also: unhandled rejections stay unhandled,
// unusable DB paths (a /proc path, a FIFO) end at once, and a call log deleted, moved or
// overwritten while the app runs is noticed.
//
// The stuck thread is made with the writer thread's test-only fault injection (LLM_OTEL_TEST_FAULT,
// exporter/worker.ts): `block-*` reads a FIFO nobody writes to, `spin-*` runs a native loop.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll as after, beforeAll as before, test } from 'vitest';
import { installApp } from './helpers/matrix.mjs';
import { startOpenAIServer } from './helpers/openai-server.mjs';
import { runApp } from './helpers/run-app.mjs';

const APP = 'exit-faults-app.mjs';
/**
 * How long after the app's own work a process may take to end here. Documented (docs/exit.md):
 * a blocked thread about 1.5 s, one spinning (using the CPU, so possibly just slow)
 * 5 s, plus 0.5 s to stop it and the OTLP cap; the rest is margin for a loaded 2-core machine.
 * Without the fix these processes never ended at all.
 */
const EXIT_BOUND_MS = 10_000;

let server;
let dir;
before(async () => {
  server = await startOpenAIServer();
  dir = mkdtempSync(join(tmpdir(), 'llm-otel-exit-'));
});
after(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs an app; `afterWorkMs` is how long it ran after printing `doneText` (its own work is over).
 * `signal` is sent once `doneText` is printed. Killed after 40 s (then `timedOut`).
 */
async function launch(app, args, { env = {}, preload = true, doneText = 'calls done', signal = null } = {}) {
  const r = await runApp(app, {
    args,
    env: { TEST_OPENAI_URL: server.url, OTEL_TRACES_EXPORTER: 'none', ...env },
    preload: preload ? 'import' : null,
    signalWhen: signal ? { text: doneText, signal } : null,
    mark: doneText,
    timeoutMs: 40_000,
  });
  return { ...r, afterWorkMs: r.afterMarkMs };
}

const ours = (stderr) => stderr.split('\n').filter((l) => l.startsWith('[llm-otel]'));

function mkfifo(path) {
  const r = spawnSync('mkfifo', [path]);
  assert.equal(r.status, 0, `mkfifo: ${r.stderr}`);
  return path;
}

function calls(path) {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT count(*) n FROM llm_calls').get().n;
  } finally {
    db.close();
  }
}

const MODES = [
  { mode: 'normal', code: 0, signal: null },
  { mode: 'exit3', code: 3, signal: null },
  { mode: 'throw', code: 1, signal: null, stderr: /Error: app crashed on purpose/ },
  { mode: 'wait', kill: 'SIGTERM', code: null, signal: 'SIGTERM' },
];

// ── a stuck background thread never holds the process ─────────────────────────────────────────

for (const fault of ['block-start', 'block-write', 'spin-write']) {
  for (const m of MODES) {
    test(`writer thread stuck (${fault}), app ends by ${m.kill ?? m.mode}: same exit, bounded, one line`, async () => {
      const app = installApp(6, APP);
      const fifo = fault.startsWith('block') ? mkfifo(join(dir, `fault-${fault}-${m.mode}.fifo`)) : null;
      const db = join(dir, `stuck-${fault}-${m.mode}.db`);
      const r = await launch(app, [m.mode], {
        env: { LLM_OTEL_DB: db, LLM_OTEL_TEST_FAULT: fifo ? `${fault}:${fifo}` : fault },
        signal: m.kill ?? null,
      });
      assert.equal(r.timedOut, false, `the process did not end: ${r.stderr}`);
      assert.equal(r.code, m.code, r.stderr);
      assert.equal(r.signal, m.signal);
      assert.equal(r.stdout, 'calls done\n');
      if (m.stderr) assert.match(r.stderr, m.stderr, "the app's own fatal error is still printed");
      assert.ok(r.afterWorkMs <= EXIT_BOUND_MS, `ended ${r.afterWorkMs} ms after the app's work`);
      const lines = ours(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      const doing = fault.endsWith('start') ? 'starting' : 'writing';
      assert.match(
        lines[0],
        new RegExp(
          `writer thread stopped answering \\(it was ${doing}.*\\); it was abandoned: up to 3 finished calls it held were not written`,
        ),
      );
    });
  }
}

test('a stuck thread and an app that makes no call: the app ends at once, nothing printed', async () => {
  const app = installApp(6, APP);
  const fifo = mkfifo(join(dir, 'nocall.fifo'));
  const r = await launch(app, ['normal', '0'], {
    env: { LLM_OTEL_DB: join(dir, 'nocall.db'), LLM_OTEL_TEST_FAULT: `block-start:${fifo}` },
  });
  assert.equal(r.timedOut, false);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'calls done\n');
  assert.ok(r.afterWorkMs <= EXIT_BOUND_MS, `ended ${r.afterWorkMs} ms after the app's work`);
  assert.deepEqual(ours(r.stderr), []);
});

test('an app that makes no call starts no thread and creates no file: nothing to wait for at exit', async () => {
  const app = installApp(6, APP);
  const db = join(dir, 'never-called.db');
  // The fault would hang a thread at its start: with no call, no thread starts at all.
  const fifo = mkfifo(join(dir, 'never-called.fifo'));
  const r = await launch(app, ['exit3', '0'], { env: { LLM_OTEL_DB: db, LLM_OTEL_TEST_FAULT: `block-start:${fifo}` } });
  assert.equal(r.code, 3, r.stderr);
  assert.deepEqual(ours(r.stderr), []);
  assert.equal(existsSync(db), false, 'no call, no call-log file');
  assert.ok(r.afterWorkMs <= 1500, `ended ${r.afterWorkMs} ms after the app's work`);
});

// ── unusable paths end at once ─────────────────────────────────────────────────────────────────

test('LLM_OTEL_DB under /proc (where mkdir -p spins): ends at once, one warning, one final count', async () => {
  const app = installApp(6, APP);
  for (const path of ['/proc/llm-otel-nope/x.db', '/proc/llm-otel-nope/deeper/x.db']) {
    const r = await launch(app, ['exit3'], { env: { LLM_OTEL_DB: path } });
    assert.equal(r.timedOut, false, r.stderr);
    assert.equal(r.code, 3);
    assert.ok(r.afterWorkMs <= EXIT_BOUND_MS, `ended ${r.afterWorkMs} ms after the app's work`);
    const lines = ours(r.stderr);
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0], /cannot open call log \/proc\/llm-otel-nope/);
    assert.match(
      lines[1],
      /^\[llm-otel\] 3 finished calls were not written to \/proc\/llm-otel-nope\/.* before exit \(it cannot be opened\); they are lost$/,
    );
  }
});

test('LLM_OTEL_DB naming a FIFO: refused (SQLite would block reading it forever), one warning, one final count', async () => {
  const app = installApp(6, APP);
  const fifo = mkfifo(join(dir, 'calls-fifo.db'));
  const r = await launch(app, ['normal'], { env: { LLM_OTEL_DB: fifo } });
  assert.equal(r.timedOut, false, r.stderr);
  assert.equal(r.code, 0);
  assert.ok(r.afterWorkMs <= EXIT_BOUND_MS, `ended ${r.afterWorkMs} ms after the app's work`);
  const lines = ours(r.stderr);
  assert.equal(lines.length, 2, r.stderr);
  assert.match(lines[0], /is not a regular file/);
  assert.match(lines[1], /3 finished calls were not written .* \(it cannot be opened\)/);
});

// ── a lock held past exit: bounded, counted ─────────────────────────────────────────────────────

/** Holds a write lock on `path` from another process until stopped. */
function holdLock(path) {
  const code = `const D = require('better-sqlite3'); const db = new D(process.argv[1]);
    db.exec('BEGIN EXCLUSIVE'); process.stdout.write('locked\\n'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', code, path], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      if (String(d).includes('locked'))
        resolve(() => {
          child.kill();
        });
    });
    child.on('error', reject);
  });
}

for (const writerThread of ['true', 'false']) {
  test(`DB locked by another process past exit (LLM_OTEL_WRITER_THREAD=${writerThread}): bounded, exit unchanged, one final count`, async () => {
    const app = installApp(6, APP);
    const db = join(dir, `locked-${writerThread}.db`);
    const first = await launch(app, ['normal', '1'], { env: { LLM_OTEL_DB: db } }); // creates the file
    assert.equal(first.code, 0, first.stderr);
    const release = await holdLock(db);
    try {
      const r = await launch(app, ['exit3', '30'], { env: { LLM_OTEL_DB: db, LLM_OTEL_WRITER_THREAD: writerThread } });
      assert.equal(r.code, 3, r.stderr);
      assert.equal(r.stdout, 'calls done\n');
      assert.ok(r.afterWorkMs <= EXIT_BOUND_MS, `ended ${r.afterWorkMs} ms after the app's work`);
      const lines = ours(r.stderr);
      const count = lines.filter((l) =>
        /finished calls were not written .* before exit \(it stayed locked by another process\); they are lost$/.test(l),
      );
      assert.equal(count.length, 1, r.stderr);
      assert.match(count[0], /\] 30 finished calls/);
      assert.ok(lines.length <= 2, r.stderr);
    } finally {
      release();
    }
  });
}

// ── unhandled rejections stay the app's ────────────────────────────────────────────────────────

for (const major of [4, 6, 7]) {
  test(`openai ${major}: a failing call never awaited still crashes the app, and its own handler still fires`, async () => {
    const app = installApp(major, APP);
    const db = join(dir, `unhandled-${major}.db`);
    for (const mode of ['unhandled', 'unhandled-hook']) {
      const bare = await launch(app, [mode], { preload: false, doneText: '\u0000' });
      const traced = await launch(app, [mode], { env: { LLM_OTEL_DB: db }, doneText: '\u0000' });
      assert.equal(traced.code, bare.code, `${mode}: ${traced.stderr}`);
      assert.equal(traced.stdout, bare.stdout, mode);
      if (mode === 'unhandled') {
        assert.equal(traced.code, 1);
        assert.match(traced.stderr, /BadRequestError/);
        assert.doesNotMatch(traced.stdout, /still running/);
      } else {
        assert.equal(traced.code, 9);
        assert.equal(traced.stdout, 'app handler saw BadRequestError 400\n');
      }
    }
    // The failed call is still recorded.
    const row = new Database(db, { readonly: true }).prepare('SELECT status, http_status FROM llm_calls ORDER BY id DESC LIMIT 1').get();
    assert.deepEqual({ ...row }, { status: 'error', http_status: 400 });
  });
}

// ── the call log deleted, moved away or overwritten while the app runs ─────────────────────────

const CHANGES = {
  deleted: (path) => {
    unlinkSync(path);
  },
  moved: (path) => {
    renameSync(path, `${path}.moved`);
  },
  overwritten: (path) => {
    writeFileSync(path, Buffer.alloc(8192, 'not a database any more '));
  },
};

for (const [what, change] of Object.entries(CHANGES)) {
  test(`call log ${what} while the app runs: noticed, one warning, later calls are not written into the void`, async () => {
    const app = installApp(6, APP);
    const db = join(dir, `changed-${what}.db`);
    const go = join(dir, `go-${what}`);
    const run = launch(app, ['batches', '5'], { env: { LLM_OTEL_DB: db, TEST_GO: go } });
    // Let the first batch reach the file, then change it under the running app.
    const written = () => {
      try {
        return calls(db);
      } catch {
        return 0;
      }
    }; // the file may not have its tables yet
    while (!existsSync(db) || written() < 5) await new Promise((r) => setTimeout(r, 50));
    change(db);
    writeFileSync(go, '');
    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'first batch done\ncalls done\n');
    const lines = ours(r.stderr);
    assert.ok(
      lines.some((l) =>
        new RegExp(`call log ${db.replace(/[/.]/g, '\\$&')} (was deleted or moved away|was overwritten) while in use`).test(l),
      ),
      r.stderr,
    );
    if (what === 'overwritten') {
      // Not a call log any more: what is at the path now is refused (said once), the loss counted.
      assert.ok(lines.length <= 3, r.stderr);
    } else {
      assert.equal(lines.length, 1, r.stderr);
      // (A WAL file moved away without its -wal keeps only what was checkpointed: SQLite's rule.)
      assert.equal(calls(db), 5, 'the second batch is in the file now at the path');
    }
  });
}

test('the capped OTLP flush ends while llm-otel is still busy: the process ends, one line says spans may be lost, the call log still has the call', async () => {
  const { startOtlpReceiver } = await import('./helpers/otlp-receiver.mjs');
  const rx = await startOtlpReceiver();
  try {
    const app = installApp(6, APP);
    const db = join(dir, 'busy-at-exit.db');
    // The thread is busy for 8 s from its start (a very loaded machine): longer than the bounded
    // wait for it to settle before the flush plus the flush's 1 s cap. (Busy for a few seconds, it
    // settles first and every span is sent: nothing to say.)
    const r = await launch(app, ['normal', '1'], {
      env: { LLM_OTEL_DB: db, OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, LLM_OTEL_TEST_FAULT: 'slow-start:8000' },
    });
    assert.equal(r.timedOut, false);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'calls done\n');
    const lines = ours(r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /still finishing calls when the app ended .* spans it had not sent by then may not be delivered/);
    const rows = new Database(db, { readonly: true }).prepare('SELECT count(*) AS n FROM llm_calls').get();
    assert.equal(rows.n, 1);
  } finally {
    await rx.close();
  }
});
