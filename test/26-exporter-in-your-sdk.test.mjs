// llm-otel/exporter in someone else's pipeline: SqliteCallLogExporter behind a plain
// BatchSpanProcessor, with llm-otel's OpenAIInstrumentation registered by the app — no `register`.
// The exporter writes on its own background thread; provider.shutdown() must leave every call that
// reached it on disk (the thread's last writes happen before it answers the close).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import Database from 'better-sqlite3';
import { scratch } from './2x-helpers/spans.mjs';
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
