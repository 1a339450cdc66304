// Process-level: the retries inside one create() are counted the same way on openai 4, 5, 6 and 7 —
// `http.request.resend_count` on the span, `retry_count` in the call log — for chat, chat streams,
// responses and responses streams, each answered 429 or 500 first by the loopback server.
// openai 7 with an X.509 workload identity reaches its makeRequest() only after an await (no OTel
// context is entered around a plain app's call, so nothing else names the call there): it runs
// here against the real SDK through a loopback mutual-TLS peer (test/helpers/x509-peer.mjs).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll as after, beforeAll as before, test } from 'vitest';
import { installMatrix, OPENAI_MAJORS } from './helpers/matrix.mjs';
import { startOpenAIServer } from './helpers/openai-server.mjs';
import { startOtlpReceiver } from './helpers/otlp-receiver.mjs';
import { pool, runApp } from './helpers/run-app.mjs';
import { startX509Peer } from './helpers/x509-peer.mjs';

// In the order the app makes them: [api, stream, retries].
const EXPECTED = [
  ['chat.completions', 0, 2],
  ['chat.completions', 1, 1],
  ['responses', 0, 2],
  ['responses', 1, 1],
];
// `own-provider`: the app has a tracer provider, so a context is entered around each call.
const RUNS = [
  ...OPENAI_MAJORS.map((major) => ({ major, mode: 'plain' })),
  { major: 7, mode: 'x509' },
  { major: 4, mode: 'own-provider' },
  { major: 7, mode: 'x509 own-provider' },
];

let server;
let peer;
const dir = mkdtempSync(join(tmpdir(), 'llm-otel-retries-'));
const results = new Map();
const label = (r) => `openai ${r.major} ${r.mode}`;
const dbName = (r) => `${r.major}-${r.mode.replace(' ', '-')}.db`;

before(async () => {
  const paths = installMatrix(['retry-app.mjs']);
  server = await startOpenAIServer();
  peer = await startX509Peer({ upstream: server.url });
  await pool(
    RUNS.map((r) => async () => {
      const rx = await startOtlpReceiver();
      const db = join(dir, dbName(r));
      try {
        const run = await runApp(paths[r.major]['retry-app.mjs'], {
          preload: 'import',
          args: r.mode.split(' ').filter((a) => a !== 'plain'),
          env: {
            TEST_OPENAI_URL: server.url,
            TEST_X509: JSON.stringify(peer.credential),
            OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
            OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
            LLM_OTEL_DB: db,
          },
        });
        await rx.settle();
        assert.equal(run.code, 0, `${label(r)}: ${run.stderr}`);
        const conn = new Database(db, { readonly: true });
        const rows = conn.prepare('SELECT api, stream, retry_count, status, span_id, attributes FROM llm_calls ORDER BY started_at').all();
        conn.close();
        results.set(label(r), { run, rows, spans: [...rx.spans] });
      } finally {
        await rx.close();
      }
    }),
    2,
  );
});

after(async () => {
  await peer?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

for (const r of RUNS) {
  test(`${label(r)}: each call's retries are in its row and on its span`, () => {
    const { rows, spans, run } = results.get(label(r));
    const out = JSON.parse(run.stdout.trim().split('\n').pop());
    assert.equal(out.chat, 'Atlantic Ocean.', 'the retried calls succeeded');
    assert.deepEqual(
      rows.map((x) => [x.api, x.stream, x.retry_count, x.status]),
      EXPECTED.map(([api, stream, retries]) => [api, stream, retries, 'ok']),
    );
    assert.equal(spans.length, EXPECTED.length, run.stderr);
    const bySpan = new Map(spans.map((s) => [s.spanId, s]));
    for (const [i, row] of rows.entries()) {
      const span = bySpan.get(row.span_id);
      assert.ok(span, `row ${i} has its span`);
      assert.equal(span.attributes['http.request.resend_count'], EXPECTED[i][2], `${row.api} stream=${row.stream}`);
    }
  });
}

test('the X.509 run really authenticated with the workload certificate through the peer', () => {
  assert.ok(peer.tokens.length >= 1, 'a token was exchanged');
  assert.ok(peer.tokens.every((cn) => cn === 'llm-otel test workload'));
  const viaPeer = server.requests.filter((q) => q.headers.authorization?.startsWith('Bearer x509-test-token-'));
  // 3 + 2 + 3 + 2 attempts, each one reaching the server, in each of the two X.509 runs.
  assert.equal(viaPeer.length, 20);
});

test('the same counts on every major, with or without an X.509 workload identity or a context', () => {
  const counts = [...results.values()].map((x) => x.rows.map((row) => row.retry_count));
  for (const c of counts) assert.deepEqual(c, counts[0]);
});
