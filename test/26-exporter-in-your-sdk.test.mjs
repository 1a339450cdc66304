// llm-otel/exporter in someone else's pipeline: SqliteCallLogExporter behind a plain
// BatchSpanProcessor, with llm-otel's OpenAIInstrumentation registered by the app — no `register`.
// The exporter writes on its own background thread; provider.shutdown() must leave every call that
// reached it on disk (the thread's last writes happen before it answers the close).
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import Database from 'better-sqlite3';
import { afterAll as after, beforeAll as before, test } from 'vitest';
import { chatAttrs, emit, scratch } from './2x-helpers/spans.mjs';
import { ROOT } from './4x-helpers/calllog.mjs';
import { installApp } from './helpers/matrix.mjs';
import { startOpenAIServer } from './helpers/openai-server.mjs';
import { runApp } from './helpers/run-app.mjs';

const { SqliteCallLogExporter } = await import(join(ROOT, 'dist', 'esm', 'exporter', 'index.js'));

const rows = (path) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT request_model, status FROM llm_calls ORDER BY id').all();
  } finally {
    db.close();
  }
};

let server;
before(async () => {
  server = await startOpenAIServer();
});
after(async () => {
  await server?.close();
});

test('shutdown right after the last span: the exporter thread writes it before it ends', async () => {
  const s = scratch('own-sdk-inproc');
  const path = `${s.dir}/calls.db`;
  try {
    const exporter = new SqliteCallLogExporter({ path });
    assert.equal(exporter.sink.threaded, true, 'the exporter writes on its background thread');
    const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
    const span = provider.getTracer('t').startSpan('chat gpt-4o-mini', {
      attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.provider.name': 'openai' },
    });
    span.end();
    await provider.shutdown();
    assert.equal(exporter.sink.pending, 0);
    assert.deepEqual(
      rows(path).map((r) => ({ ...r })),
      [{ request_model: 'gpt-4o-mini', status: 'ok' }],
    );
  } finally {
    s.cleanup();
  }
});

test("the provider's forceFlush() returns with the rows written (a serverless handler's last line)", async () => {
  const s = scratch('own-sdk-flush');
  const path = `${s.dir}/calls.db`;
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(new SqliteCallLogExporter({ path }))] });
  try {
    const tracer = provider.getTracer('app');
    for (let i = 1; i <= 3; i++) {
      emit(tracer, { attrs: chatAttrs({ 'gen_ai.response.id': `r${i}` }) });
      await provider.forceFlush();
      assert.equal(rows(path).length, i);
    }
  } finally {
    await provider.shutdown();
    s.cleanup();
  }
});

test('behind a plain BatchSpanProcessor: other spans are ignored, not counted; a full queue drops and counts (one warning while it cannot write, one count when it recovers)', async () => {
  const s = scratch('own-sdk-drops');
  // A file where the directory should be: nothing can be written until it is removed.
  const blocker = `${s.dir}/logs`;
  writeFileSync(blocker, 'not a directory');
  const path = `${blocker}/calls.db`;
  const lines = [];
  const seen = new Set();
  const warner = {
    warn(k, m) {
      if (!seen.has(k)) seen.add(k) && lines.push(m);
    },
    reset(k) {
      seen.delete(k);
    },
  };
  const exporter = new SqliteCallLogExporter({ path, maxQueueSize: 100, retryMinMs: 20, retryMaxMs: 50, flushIntervalMs: 20, warner });
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 4096 })] });
  const tracer = provider.getTracer('app');
  try {
    for (let i = 0; i < 150; i++) {
      emit(tracer, { attrs: chatAttrs({ 'gen_ai.response.id': `r${i}` }) });
      tracer.startSpan(`GET /orders/${i}`, { attributes: { 'http.request.method': 'GET' } }).end();
    }
    await provider.forceFlush();
    assert.equal(exporter.sink.dropped, 50, 'the 50 GenAI spans beyond the queue, none of the 150 others');
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0], /cannot open call log/);
    rmSync(blocker);
    mkdirSync(blocker);
    await provider.shutdown();
    const written = rows(path);
    assert.equal(written.length, 100);
    assert.ok(written.every((r) => r.request_model === 'gpt-4o-mini'));
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines[1], /50 calls were dropped while it was full/);
  } finally {
    await provider.shutdown();
    s.cleanup();
  }
});

// Without the pause the last call's span still waited in llm-otel's deferred batch when shutdown
// ran: the provider's shutdown must take it first (instrumentation/provider-flush.ts).
for (const pauseMs of [50, 0]) {
  test(`an app's own provider with OpenAIInstrumentation and the exporter, shutdown ${pauseMs ? `${pauseMs} ms after` : 'right after'} the last call: every call is a row, its own span is not`, async () => {
    const app = installApp(6, 'own-sdk-app.cjs');
    const s = scratch('own-sdk-app');
    const path = `${s.dir}/calls.db`;
    try {
      const r = await runApp(app, {
        env: { TEST_OPENAI_URL: server.url, TEST_DB: path, TEST_LLM_OTEL: join(ROOT, 'dist', 'cjs'), TEST_PAUSE_MS: pauseMs },
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('answer: ')).length, 3);
      assert.match(r.stdout, /shut down\n$/);
      assert.doesNotMatch(r.stderr, /\[llm-otel\]/);
      assert.deepEqual(
        rows(path).map((x) => x.status),
        ['ok', 'ok', 'ok'],
      );
    } finally {
      s.cleanup();
    }
  });
}
