// Exporter: the app always wins. Unwritable paths, read-only files, a DB locked by another
// process, a full disk (PRAGMA max_page_count), corrupt / newer / foreign files: the app's output
// and exit code are unchanged, exactly one warning names the fault, calls lost at exit are counted
// in exactly one final line that says why, and logging resumes when it can.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { test } from 'vitest';
import { runApp } from './2x-helpers/run.mjs';
import { chatAttrs, EXPORTER, emit, makeProvider, ROOT, scratch } from './2x-helpers/spans.mjs';

const { openForWriting, CallLogSpanProcessor, APPLICATION_ID, SCHEMA_VERSION } = await import(EXPORTER);

const N = 300;
const APP_OUT = `app: ${N} calls done\napp: result 42\n`;
const warnings = (stderr) => stderr.split('\n').filter((l) => l.startsWith('[llm-otel]'));
const LOSS = /^\[llm-otel\] (\d+) finished calls were not written to .+ before exit \((.+)\); they are lost$/;

/** The fault's one warning (returned), and the one final line counting the `lost` calls and saying why. */
function faultAndLoss(stderr, lost, why) {
  const w = warnings(stderr);
  const loss = w.filter((l) => LOSS.test(l));
  const fault = w.filter((l) => !LOSS.test(l));
  assert.equal(fault.length, 1, stderr);
  assert.equal(loss.length, 1, stderr);
  const [, n, reason] = LOSS.exec(loss[0]);
  assert.equal(Number(n), lost, loss[0]);
  if (why) assert.match(reason, why);
  return fault[0];
}

function rows(path) {
  const db = new Database(path, { readonly: true });
  try {
    return {
      calls: db.prepare('SELECT count(*) n FROM llm_calls').get().n,
      rollup: db.prepare('SELECT coalesce(sum(calls), 0) n FROM llm_usage_hourly').get().n,
    };
  } finally {
    db.close();
  }
}

/** Holds an exclusive write lock on `path` from another process for `ms`; resolves once held. */
function lockFor(path, ms) {
  const code = `const D = require('better-sqlite3'); const db = new D(process.argv[1]);
    db.exec('BEGIN EXCLUSIVE'); process.stdout.write('locked\\n');
    setTimeout(() => { db.exec('COMMIT'); db.close(); }, Number(process.argv[2]));`;
  const child = spawn(process.execPath, ['-e', code, path, String(ms)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => child.on('close', r));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      if (String(d).includes('locked'))
        resolve({
          exited,
          stop: () => {
            child.kill();
            return exited;
          },
        });
    });
    child.on('error', reject);
  });
}

function capture() {
  const lines = [];
  const seen = new Set();
  return {
    lines,
    warner: {
      warn(k, m) {
        if (!seen.has(k)) {
          seen.add(k);
          lines.push(m);
        }
      },
      reset(k) {
        seen.delete(k);
      },
    },
  };
}

async function until(fn, ms = 10_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

for (const worker of [true, false]) {
  const W = worker ? '1' : '0';

  test(`unwritable path (worker=${worker}): app unchanged, one warning, one final count`, async () => {
    for (const path of ['/dev/null/calls.db', '/proc/llm-otel-calls.db']) {
      const r = await runApp({ CALLLOG_DB: path, CALLLOG_N: String(N), CALLLOG_WORKER: W, CALLLOG_MODE: 'exit' });
      assert.equal(r.code, 7);
      assert.equal(r.stdout, APP_OUT);
      const w = faultAndLoss(r.stderr, N, /cannot be opened/);
      assert.match(w, new RegExp(`cannot open call log ${path.replace(/[/.]/g, '\\$&')}`));
    }
  });

  test(`a directory as the path (worker=${worker}): app unchanged, one warning, one final count`, async () => {
    const s = scratch('isdir');
    try {
      const r = await runApp({ CALLLOG_DB: s.dir, CALLLOG_N: String(N), CALLLOG_WORKER: W });
      assert.equal(r.code, 0);
      assert.equal(r.stdout, APP_OUT);
      faultAndLoss(r.stderr, N, /cannot be opened/);
    } finally {
      s.cleanup();
    }
  });

  test(`read-only DB file (worker=${worker}): app unchanged, one warning, one final count, file untouched`, async () => {
    const s = scratch('readonly');
    const path = `${s.dir}/calls.db`;
    try {
      openForWriting(path, { busyTimeoutMs: 100 }).close();
      chmodSync(path, 0o444);
      const before = readFileSync(path);
      // root ignores permission bits: run the app as an unprivileged user then.
      const asNobody = process.getuid?.() === 0;
      if (asNobody) {
        chmodSync(s.dir, 0o777);
        chownSync(path, 65534, 65534);
      }
      const r = await runApp(
        { CALLLOG_DB: path, CALLLOG_N: String(N), CALLLOG_WORKER: W },
        asNobody ? { spawn: { uid: 65534, gid: 65534 } } : {},
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, APP_OUT);
      const w = faultAndLoss(r.stderr, N);
      assert.match(w, /read-only|readonly|cannot open/);
      assert.deepEqual(readFileSync(path), before);
    } finally {
      s.cleanup();
    }
  });

  test(`corrupt file (worker=${worker}): app unchanged, one warning, one final count, bytes unchanged`, async () => {
    const s = scratch('corrupt');
    const path = `${s.dir}/calls.db`;
    try {
      const garbage = Buffer.alloc(16384, 'this is not a database ');
      writeFileSync(path, garbage);
      const r = await runApp({ CALLLOG_DB: path, CALLLOG_N: String(N), CALLLOG_WORKER: W, CALLLOG_MODE: 'throw' });
      assert.equal(r.code, 1);
      assert.equal(r.stdout, APP_OUT);
      assert.match(r.stderr, /app crashed on purpose/);
      const w = faultAndLoss(r.stderr, N, /not a usable SQLite database/);
      assert.match(w, /is not a usable SQLite database .*left untouched/);
      assert.deepEqual(readFileSync(path), garbage);
    } finally {
      s.cleanup();
    }
  });

  test(`DB from a newer llm-otel (worker=${worker}): app unchanged, one warning, one final count, bytes unchanged`, async () => {
    const s = scratch('newer-app');
    const path = `${s.dir}/calls.db`;
    try {
      const db = new Database(path);
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.exec('CREATE TABLE llm_calls (id INTEGER PRIMARY KEY)');
      db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      db.close();
      const before = readFileSync(path);
      const r = await runApp({ CALLLOG_DB: path, CALLLOG_N: String(N), CALLLOG_WORKER: W });
      assert.equal(r.code, 0);
      assert.equal(r.stdout, APP_OUT);
      const w = faultAndLoss(r.stderr, N, /newer llm-otel/);
      assert.match(w, /written by a newer llm-otel/);
      assert.deepEqual(readFileSync(path), before);
    } finally {
      s.cleanup();
    }
  });

  test(`full disk via max_page_count (worker=${worker}): app unchanged, one warning, one final count, rollup matches rows`, async () => {
    const s = scratch('full');
    const path = `${s.dir}/calls.db`;
    try {
      const r = await runApp({
        CALLLOG_DB: path,
        CALLLOG_N: String(N),
        CALLLOG_WORKER: W,
        CALLLOG_PRAGMAS: JSON.stringify({ max_page_count: 40 }),
      });
      assert.equal(r.code, 0);
      assert.equal(r.stdout, APP_OUT);
      const got = rows(path);
      const w = faultAndLoss(r.stderr, N - got.calls, /full/);
      assert.match(w, /full/);
      assert.ok(got.calls < N, `${got.calls} rows fit`);
      assert.equal(got.rollup, got.calls, 'a failed transaction leaves neither rows nor rollup');
    } finally {
      s.cleanup();
    }
  });

  test(`DB locked by another process for the whole run (worker=${worker}): app unchanged, one warning, one final count`, async () => {
    const s = scratch('locked');
    const path = `${s.dir}/calls.db`;
    openForWriting(path, { busyTimeoutMs: 100 }).close();
    const lock = await lockFor(path, 60_000);
    try {
      const t0 = Date.now();
      const r = await runApp({
        CALLLOG_DB: path,
        CALLLOG_N: String(N),
        CALLLOG_WORKER: W,
        CALLLOG_MODE: 'exit',
        CALLLOG_EXIT_BUSY_MS: '300',
      });
      const took = Date.now() - t0;
      assert.equal(r.code, 7);
      assert.equal(r.stdout, APP_OUT);
      const w = faultAndLoss(r.stderr, N, /locked by another process/);
      assert.match(w, /locked by another process/);
      assert.ok(took < 15_000, `exit was not held up by the lock (${took} ms)`);
    } finally {
      await lock.stop();
      s.cleanup();
    }
  });

  test(`DB locked for a while (worker=${worker}): rows queue, then all are written`, async () => {
    const s = scratch('locked-resume');
    const path = `${s.dir}/calls.db`;
    try {
      openForWriting(path, { busyTimeoutMs: 100 }).close();
      const lock = await lockFor(path, 1500);
      const r = await runApp({ CALLLOG_DB: path, CALLLOG_N: String(N), CALLLOG_WORKER: W, CALLLOG_MODE: 'hold', CALLLOG_HOLD_MS: '4000' });
      await lock.exited;
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `${APP_OUT}app: ready\n`);
      assert.ok(warnings(r.stderr).length <= 1, r.stderr);
      assert.deepEqual(rows(path), { calls: N, rollup: N });
    } finally {
      s.cleanup();
    }
  });
}

test('logging resumes after a full disk once space is freed (writer thread)', async () => {
  const s = scratch('full-resume');
  const path = `${s.dir}/calls.db`;
  const cap = capture();
  const processor = new CallLogSpanProcessor({
    path,
    // Room for about half the calls (schema 5's call_span_id and its index take a few pages more).
    pragmas: { max_page_count: 70 },
    retryMinMs: 20,
    retryMaxMs: 50,
    flushIntervalMs: 20,
    maxBatchSize: 16,
    maxTransactionSize: 16,
    warner: cap.warner,
  });
  const { provider, tracer } = makeProvider({ processor });
  try {
    for (let i = 0; i < 250; i++) emit(tracer, { attrs: chatAttrs({ 'gen_ai.response.id': `r${i}` }) });
    assert.equal(processor.flushSync(), false, 'cannot write everything: the DB is full');
    const stored = rows(path).calls;
    assert.ok(stored > 125 && stored < 250, `${stored} stored`);
    assert.equal(cap.lines.length, 1);
    assert.match(cap.lines[0], /full/);
    // Free space from another connection; the queued calls then go in.
    const other = new Database(path);
    other.pragma('foreign_keys = ON'); // messages go with their calls
    other.exec('DELETE FROM llm_calls');
    other.close();
    const kept = await until(() => rows(path).calls > 0 && processor.sink.pending === 0);
    assert.ok(kept, 'queued calls were written after space was freed');
    const db = new Database(path, { readonly: true });
    const n = db.prepare('SELECT count(*) n FROM llm_calls').get().n;
    assert.equal(n, 250 - stored, 'every call that was queued got written');
    db.close();
  } finally {
    await provider.shutdown();
    s.cleanup();
  }
});

test('logging resumes when an unusable path becomes usable; the queue is bounded and counts drops', async () => {
  const s = scratch('resume-path');
  const blocker = `${s.dir}/logs`;
  writeFileSync(blocker, 'a file where a directory should be');
  const path = `${blocker}/calls.db`;
  const cap = capture();
  const processor = new CallLogSpanProcessor({
    path,
    retryMinMs: 20,
    retryMaxMs: 50,
    flushIntervalMs: 20,
    maxQueueSize: 100,
    warner: cap.warner,
  });
  const { provider, tracer } = makeProvider({ processor });
  try {
    for (let i = 0; i < 150; i++) emit(tracer, { attrs: chatAttrs({ 'gen_ai.response.id': `r${i}` }) });
    assert.equal(processor.flushSync(), false);
    assert.ok(processor.sink.dropped >= 50, `dropped ${processor.sink.dropped}`);
    assert.equal(cap.lines.length, 1, cap.lines.join('\n'));
    assert.match(cap.lines[0], /cannot open call log/);
    rmSync(blocker);
    mkdirSync(blocker);
    assert.ok(
      await until(() => {
        try {
          return rows(path).calls === 100;
        } catch {
          return false;
        }
      }),
      'the 100 queued calls were written',
    );
    emit(tracer, { attrs: chatAttrs({ 'gen_ai.response.id': 'after' }) });
    assert.equal(processor.flushSync(), true);
    assert.equal(rows(path).calls, 101);
    assert.match(cap.lines.join('\n'), /dropped while it was full/);
  } finally {
    await provider.shutdown();
    s.cleanup();
  }
});

test('the queue is bounded by memory too: big calls are dropped once maxQueueBytes is reached', async () => {
  const { CallLogSink, toSpanData } = await import(EXPORTER);
  const { InMemorySpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const mem = new InMemorySpanExporter();
  const { tracer } = makeProvider({ processor: new SimpleSpanProcessor(mem) });
  const big = JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'x'.repeat(50_000) }] }]);
  for (let i = 0; i < 20; i++) emit(tracer, { attrs: chatAttrs({ 'gen_ai.input.messages': big }) });
  const cap = capture();
  const sink = new CallLogSink({ path: '/dev/null/calls.db', maxQueueBytes: 500_000, warner: cap.warner, drainOnExit: false });
  try {
    const accepted = mem
      .getFinishedSpans()
      .map((s) => sink.push(toSpanData(s)))
      .filter(Boolean).length;
    assert.ok(accepted >= 3 && accepted <= 5, `about 500 kB / 100 kB per call accepted, got ${accepted}`);
    assert.equal(sink.pending, accepted);
    assert.equal(sink.dropped, 20 - accepted);
    assert.equal(cap.lines.length, 1, 'the unusable path explains the drops: one warning');
  } finally {
    sink.shutdown();
  }
});

test('a queued call counts spanDataSize bytes against maxQueueBytes, exactly', async () => {
  const { CallLogSink, spanDataSize, toSpanData } = await import(EXPORTER);
  const { InMemorySpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const mem = new InMemorySpanExporter();
  const { tracer } = makeProvider({ processor: new SimpleSpanProcessor(mem) });
  const messages = JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'hello' }] }]);
  for (let i = 0; i < 3; i++) emit(tracer, { attrs: chatAttrs({ 'gen_ai.input.messages': messages, 'llm_otel.metadata.k': 'v' }) });
  const spans = mem.getFinishedSpans().map(toSpanData);
  const size = spanDataSize(spans[0]);
  // Two calls fit in 2 × size bytes, not in one byte less.
  for (const [maxQueueBytes, fits] of [
    [2 * size, 2],
    [2 * size - 1, 1],
  ]) {
    const sink = new CallLogSink({ path: '/dev/null/calls.db', maxQueueBytes, warner: capture().warner, drainOnExit: false });
    try {
      assert.equal(spans.map((s) => sink.push(s)).filter(Boolean).length, fits, `maxQueueBytes ${maxQueueBytes}, each call ${size}`);
    } finally {
      sink.shutdown();
    }
  }
});

test('a queue flapping at its limit cannot flood stderr: drop warnings are rate-limited', async () => {
  const { DropReporter } = await import(EXPORTER);
  const cap = capture();
  const r = new DropReporter(cap.warner, 'x', 60_000);
  for (let cycle = 0; cycle < 50; cycle++) {
    for (let i = 0; i < 10; i++) r.dropped(() => 'queue full');
    r.recovered();
  }
  assert.equal(r.count, 500);
  // Drops start (1 line), room again (1 line), drops again (1 line) — then silence for quietMs.
  assert.deepEqual(cap.lines, [
    'queue full',
    'call-log queue has room again; 10 calls were dropped while it was full (10 since start)',
    'queue full',
  ]);
  const quiet = new DropReporter(cap.warner, 'y', 0);
  quiet.dropped(() => 'never shown', true);
  quiet.recovered();
  assert.equal(cap.lines.length, 4, 'a quiet drop is still reported when the queue recovers');
  assert.match(cap.lines[3], /1 calls were dropped/);
});
