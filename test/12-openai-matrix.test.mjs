// Process-level: real apps (ESM and CJS) on openai 4, 5, 6 and 7 under
// `node --import llm-otel/register` (and `--require` for CJS), against the loopback OpenAI wire
// server and OTLP receiver. Every scenario's spans are compared attribute map by attribute map
// (test/helpers/scenario-expectations.mjs), and each app's stdout/exit code must equal the run
// without llm-otel (app invisibility; parse() results are part of that output).
//
// One app process runs the whole scenario list (fast); scenarios are told apart by the remote
// parent span context each runs under (test/helpers/scenario-ids.mjs).
//
// Every way a call is finished is covered: ESM `--import` runs keep the default call log (LLM calls
// are finished on the writer thread, src/pipeline/finisher.ts, rows written and OTLP sent from there);
// CJS `--import` runs have no call log (LLM_OTEL_DB=off: a writer thread that only finishes and
// exports); `--require` runs finish on the app's thread (LLM_OTEL_DB=off, LLM_OTEL_WRITER_THREAD=false).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll as after, beforeAll as before, describe, test } from 'vitest';
import { installMatrix, OPENAI_MAJORS } from './helpers/matrix.mjs';
import { closedPort, startOpenAIServer } from './helpers/openai-server.mjs';
import { startOtlpReceiver } from './helpers/otlp-receiver.mjs';
import { pool, runApp } from './helpers/run-app.mjs';
import { CONTENT_KEYS, EXPECTED } from './helpers/scenario-expectations.mjs';
import { scenarioIds, spansByScenario } from './helpers/scenario-ids.mjs';
import { assertAttributes } from './helpers/span-assert.mjs';

const API_KEY = 'sk-llmotel-matrix-7f3a9c1e5b2d4a6f8e0c';
const SERVICE = 'llm-otel-matrix-app';
const SCENARIOS = [
  'version',
  'chat',
  'chat-options',
  'chat-n2',
  'chat-tools',
  'chat-cached-reasoning',
  'chat-stream',
  'chat-stream-usage',
  'chat-stream-n2',
  'chat-stream-tools',
  'chat-stream-no-choices',
  'responses',
  'responses-stream',
  'responses-stream-cached',
  'embeddings',
  'completions',
  'chat-parse',
  'chat-stream-helper',
  'chat-run-tools',
  'responses-parse',
  'responses-stream-helper',
  'with-response',
  'as-response',
  'stream-tee',
  'stream-readable',
  'azure',
  'retry-429',
  'retry-500',
  'timeout',
  'abort',
  'bad-request',
  'refused',
  'stream-break',
  'stream-abort',
  'stream-throw',
  'stream-drop',
  'stream-hang',
  'chat-system',
  'responses-instructions',
  'stream-never-iterated', // last: its span may only end at process exit
];
const SPAN_STATUS = { ok: 'UNSET', cancelled: 'UNSET', error: 'ERROR', timeout: 'ERROR' };

const RUNS = [];
for (const major of OPENAI_MAJORS) {
  RUNS.push({ major, app: 'openai-app.mjs', preload: 'import', label: `openai ${major} ESM --import` });
  RUNS.push({ major, app: 'openai-app.cjs', preload: 'import', label: `openai ${major} CJS --import` });
  RUNS.push({ major, app: 'openai-app.cjs', preload: 'require', label: `openai ${major} CJS --require` });
}

let server;
let refusedPort;
const dbDir = mkdtempSync(join(tmpdir(), 'llm-otel-matrix-'));
const dbPath = (r) => (r.preload === 'import' && r.app.endsWith('.mjs') ? join(dbDir, `${r.major}-${r.app}.db`) : null);
const results = new Map(); // label → { run, baseline, spans, lines }

function parseLines(stdout) {
  const lines = {};
  for (const l of stdout.split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      const o = JSON.parse(l);
      lines[o.scenario] = o;
    } catch {
      /* not ours */
    }
  }
  return lines;
}

before(async () => {
  const paths = installMatrix(['openai-app.mjs', 'openai-app.cjs', 'scenarios-lib.cjs']);
  server = await startOpenAIServer();
  refusedPort = await closedPort();
  const env = { TEST_OPENAI_URL: server.url, TEST_API_KEY: API_KEY, TEST_CLOSED_PORT: refusedPort };
  const baselines = new Map();
  const tasks = [];
  for (const major of OPENAI_MAJORS) {
    for (const app of ['openai-app.mjs', 'openai-app.cjs']) {
      tasks.push(async () => {
        baselines.set(`${major}/${app}`, await runApp(paths[major][app], { env, args: SCENARIOS }));
      });
    }
  }
  for (const r of RUNS) {
    tasks.push(async () => {
      const rx = await startOtlpReceiver();
      try {
        const run = await runApp(paths[r.major][r.app], {
          preload: r.preload,
          args: SCENARIOS,
          env: {
            ...env,
            OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
            OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
            OTEL_SERVICE_NAME: SERVICE,
            LLM_OTEL_DB: dbPath(r) ?? 'off',
            LLM_OTEL_WRITER_THREAD: r.preload === 'require' ? 'false' : 'true',
          },
        });
        await rx.settle();
        let rows = null;
        if (dbPath(r)) {
          const db = new Database(dbPath(r), { readonly: true });
          try {
            rows = db.prepare('SELECT trace_id, span_id, status FROM llm_calls ORDER BY span_id').all();
          } finally {
            db.close();
          }
        }
        results.set(r.label, {
          run,
          rows,
          spans: [...rx.spans],
          requests: rx.requests.length,
          bytes: rx.allBytes(),
          lines: parseLines(run.stdout),
        });
      } finally {
        await rx.close();
      }
    });
  }
  await pool(tasks, 2);
  for (const r of RUNS) results.get(r.label).baseline = baselines.get(`${r.major}/${r.app}`);
});

after(async () => {
  await server?.close();
  rmSync(dbDir, { recursive: true, force: true });
});

for (const r of RUNS) {
  describe(r.label, () => {
    const get = () => results.get(r.label);
    const ours = () => get().spans.filter((s) => s.scope.name === 'llm-otel');

    test('the app runs, loads openai ' + r.major + ', and prints what it prints without llm-otel', () => {
      const { run, baseline, lines } = get();
      assert.equal(baseline.code, 0, `baseline run failed:\n${baseline.stderr}`);
      assert.equal(parseLines(baseline.stdout).version.version.split('.')[0], String(r.major));
      assert.equal(
        lines.version?.version?.split('.')[0],
        String(r.major),
        `instrumented app did not load openai ${r.major}:\n${run.stderr}`,
      );
      assert.equal(run.signal, null);
      assert.equal(run.code, baseline.code, `exit code differs; stderr:\n${run.stderr}`);
      assert.equal(run.stdout, baseline.stdout);
    });

    test('no stack trace on stderr', () => {
      assert.doesNotMatch(get().run.stderr, /\n\s+at .+:\d+:\d+\)?\n/, get().run.stderr);
    });

    test('spans arrive over OTLP/JSON; no span outside a scenario; the API key is never sent', () => {
      const { spans, bytes, requests } = get();
      assert.ok(requests > 0, `no OTLP request arrived; the app's stderr:\n${get().run.stderr}`);
      const stray = spansByScenario(ours(), SCENARIOS)['?'];
      assert.deepEqual(
        stray.map((s) => s.name),
        [],
        'llm-otel spans outside any scenario trace',
      );
      assert.ok(spans.length > 0);
      assert.equal(bytes.includes(API_KEY), false, 'the API key appears in an OTLP payload');
      for (const s of ours())
        for (const k of CONTENT_KEYS) assert.equal(k in s.attributes, false, `${s.name}: ${k} sent over OTLP with capture=local`);
    });

    if (dbPath(r)) {
      test('every span exported over OTLP has its call-log row (same trace, span and status)', () => {
        const { rows } = get();
        const fromSpans = ours()
          .map((s) => ({ trace_id: s.traceId, span_id: s.spanId, status: s.attributes['llm_otel.status'] }))
          .sort((a, b) => (a.span_id < b.span_id ? -1 : 1));
        assert.ok(fromSpans.length >= SCENARIOS.length - 1);
        assert.deepEqual(rows, fromSpans);
      });
    }

    for (const name of SCENARIOS) {
      test(`scenario ${name}`, () => {
        const { lines } = get();
        const spans = spansByScenario(ours(), SCENARIOS)[name].sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1));
        const ctx = { port: server.port, closedPort: refusedPort, result: lines[name] ?? {} };
        const expected = EXPECTED[name](ctx);
        assert.equal(
          spans.length,
          expected.length,
          `${name}: expected ${expected.length} span(s), got ${spans.length}: ${JSON.stringify(spans.map((s) => [s.name, s.attributes['llm_otel.status']]))}`,
        );
        const { spanId } = scenarioIds(name);
        expected.forEach((want, i) => {
          const got = spans[i];
          const label = `${r.label} ${name}[${i}]`;
          assertAttributes(got.attributes, want.attributes, label);
          assert.equal(got.name, want.name, `${label}: span name`);
          assert.equal(got.kindName, 'CLIENT', `${label}: span kind`);
          assert.equal(got.parentSpanId, spanId, `${label}: parent is the app's incoming context`);
          assert.equal(got.resource['service.name'], SERVICE, `${label}: resource service.name`);
          assert.equal(got.status.codeName, SPAN_STATUS[want.status], `${label}: span status code`);
          if (want.status === 'error' || want.status === 'timeout')
            assert.ok(got.status.message.length > 0, `${label}: an error span carries a status message`);
          if (want.messageIncludes)
            assert.ok(got.status.message.includes(want.messageIncludes), `${label}: status message ${JSON.stringify(got.status.message)}`);
          assert.ok(got.endTimeUnixNano >= got.startTimeUnixNano, `${label}: ended`);
        });
      });
    }
  });
}
