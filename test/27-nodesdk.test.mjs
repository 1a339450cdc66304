// NodeSDK as a way in (issue 12). An app whose own `new NodeSDK({...})` holds llm-otel's parts —
// OpenAIInstrumentation in `instrumentations`; SqliteCallLogExporter behind a plain
// BatchSpanProcessor and its own OTLP exporter (content stripped) in `spanProcessors`; no
// `register` — gets the same rows and spans as `register` gives for the same calls, ESM and CJS,
// with `sdk.shutdown()` right after the last call. A serverless-style handler that forceFlush()es
// the provider per invocation has every call on disk and at the receiver by then (the process is
// SIGKILLed after the last one). And `register` beside an app's own NodeSDK started before or after
// it: the app's receiver gets the app's spans, llm-otel's sinks the LLM calls, nothing twice or lost.
// Apps: test/apps/nodesdk-*.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll as after, beforeAll as before, describe, test } from 'vitest';
import { assertCleanRun, assertSinksAgree, jsonLines, readDb } from './3x-helpers/sinks.mjs';
import { installApp } from './helpers/matrix.mjs';
import { startOpenAIServer } from './helpers/openai-server.mjs';
import { startOtlpReceiver } from './helpers/otlp-receiver.mjs';
import { pool, runApp } from './helpers/run-app.mjs';

// One LLM call each (scenarios-lib.cjs); the last one is the call a shutdown right after it lost.
const SCENARIOS = [
  'bad-request',
  'chat-tools',
  'chat-stream',
  'chat-stream-usage',
  'responses',
  'responses-stream',
  'embeddings',
  'completions',
  'chat',
];
const MAJOR = 6;
const SCOPE = 'llm-otel';
// Different on every run: ids, times, durations.
const RUN_COLUMNS = ['id', 'span_id', 'started_at', 'ended_at', 'duration_ms', 'ttft_ms'];
const RUN_ATTRIBUTES = ['gen_ai.response.time_to_first_chunk'];
// A message names its call by span id: different on every run too.
const RUN_MESSAGE_COLUMNS = ['call_span_id'];
const CONTENT = ['gen_ai.input.messages', 'gen_ai.output.messages', 'gen_ai.system_instructions', 'gen_ai.tool.definitions'];

const omit = (o, keys) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
const install = (names) => Object.fromEntries(names.map((n) => [n, installApp(MAJOR, n)]));

let server;
before(async () => {
  server = await startOpenAIServer();
});
after(async () => {
  await server?.close();
});

/**
 * Runs an app with a fresh call log and two OTLP receivers — llm-otel's (OTEL_EXPORTER_OTLP_ENDPOINT,
 * also the NodeSDK apps' own exporter: TEST_OTLP_URL) and the app's (TEST_APP_OTLP_URL) — and reads
 * them back: the run, its JSON lines, the rows, the spans each receiver got.
 */
async function run(app, { preload = null, nodeArgs = [], env = {}, args = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'llm-otel-nodesdk-'));
  const db = join(dir, 'calls.db');
  const rx = await startOtlpReceiver();
  const appRx = await startOtlpReceiver();
  try {
    const r = await runApp(app, {
      preload,
      nodeArgs,
      args,
      env: {
        TEST_OPENAI_URL: server.url,
        TEST_DB: db,
        TEST_OTLP_URL: rx.url,
        TEST_APP_OTLP_URL: appRx.url,
        LLM_OTEL_DB: db,
        OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
        OTEL_SERVICE_NAME: 'nodesdk-app',
        // NodeSDK would also export metrics and logs to the same endpoint.
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
        ...env,
      },
    });
    await rx.settle();
    await appRx.settle();
    return { run: r, lines: jsonLines(r.stdout), ...readDb(db), spans: [...rx.spans], appSpans: [...appRx.spans] };
  } finally {
    await rx.close();
    await appRx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What must match between two runs of the same calls: one entry per LLM span, by trace (one call per scenario). */
function spanView(spans) {
  return spans
    .filter((s) => s.scope.name === SCOPE)
    .map((s) => ({
      name: s.name,
      kind: s.kindName,
      traceId: s.traceId,
      parentSpanId: s.parentSpanId || null,
      status: s.status,
      attributes: omit(s.attributes, RUN_ATTRIBUTES),
    }))
    .sort((a, b) => a.traceId.localeCompare(b.traceId));
}

const FORMATS = [
  {
    label: 'ESM',
    files: ['openai-app.mjs', 'scenarios-lib.cjs', 'nodesdk-app.mjs', 'nodesdk-otel.mjs', 'nodesdk-lib.cjs'],
    register: (a) => [a['openai-app.mjs'], { preload: 'import' }],
    // The loader hook must be in place before `openai` is linked: the NodeSDK setup is preloaded.
    nodesdk: (a) => [a['nodesdk-app.mjs'], { nodeArgs: ['--import', a['nodesdk-otel.mjs']] }],
  },
  {
    label: 'CJS',
    files: ['openai-app.cjs', 'scenarios-lib.cjs', 'nodesdk-app.cjs', 'nodesdk-otel.cjs', 'nodesdk-lib.cjs'],
    register: (a) => [a['openai-app.cjs'], { preload: 'require' }],
    nodesdk: (a) => [a['nodesdk-app.cjs'], {}],
  },
];

for (const f of FORMATS) {
  describe(`${f.label}: NodeSDK with OpenAIInstrumentation and the call log vs register, the same calls`, () => {
    let reg;
    let sdk;
    before(async () => {
      const apps = install(f.files);
      const [regApp, regOpts] = f.register(apps);
      const [sdkApp, sdkOpts] = f.nodesdk(apps);
      [reg, sdk] = await pool([() => run(regApp, { ...regOpts, args: SCENARIOS }), () => run(sdkApp, { ...sdkOpts, args: SCENARIOS })]);
    });

    test('both run cleanly, the app sees the same results, the NodeSDK app shuts down after its last call', () => {
      assertCleanRun(reg.run, 'register');
      assertCleanRun(sdk.run, 'NodeSDK');
      assert.doesNotMatch(sdk.run.stderr, /\[llm-otel\]/);
      assert.deepEqual(
        sdk.lines.map((l) => l.scenario),
        SCENARIOS,
      );
      assert.deepEqual(sdk.lines, reg.lines);
      assert.match(sdk.run.stdout, /shut down\n$/);
    });

    test('the same rows: every call (the last one too), its columns and messages', () => {
      assert.equal(reg.calls.length, SCENARIOS.length);
      assert.deepEqual(
        sdk.calls.map((r) => omit(r, RUN_COLUMNS)),
        reg.calls.map((r) => omit(r, RUN_COLUMNS)),
      );
      assert.ok(
        reg.calls.filter((r) => r.status === 'ok').every((r) => r.cost > 0 && r.price_id !== null),
        'priced from the call log, with price ids',
      );
      assert.ok(
        reg.messages.some((m) => m.content),
        'content is in the call log',
      );
      assert.deepEqual(
        sdk.messages.map((m) => omit(m, RUN_MESSAGE_COLUMNS)),
        reg.messages.map((m) => omit(m, RUN_MESSAGE_COLUMNS)),
      );
      // Each message's call_span_id is its call's span id, in both.
      for (const r of [sdk, reg]) {
        const spans = new Set(r.calls.map((c) => c.span_id));
        assert.ok(r.messages.every((m) => spans.has(m.call_span_id)));
      }
    });

    test('the same spans over OTLP (the NodeSDK app sends them through its own exporter): attributes, parents, status; content left out', () => {
      assert.deepEqual(spanView(sdk.spans), spanView(reg.spans));
      assert.equal(spanView(sdk.spans).length, SCENARIOS.length);
      for (const s of sdk.spans) for (const k of CONTENT) assert.equal(s.attributes[k], undefined, `${s.name}: ${k} left the machine`);
      assertSinksAgree({ calls: sdk.calls, runs: sdk.runs, spans: sdk.spans.filter((s) => s.scope.name === SCOPE) }, 'NodeSDK');
    });
  });
}

test('a serverless-style handler: each invocation ends in the provider’s forceFlush(), which has its call on disk and at the receiver by then', async () => {
  const names = ['chat', 'chat-stream', 'responses', 'embeddings'];
  const apps = install(FORMATS[1].files);
  const r = await run(apps['nodesdk-app.cjs'], { args: names, env: { TEST_END: 'flush-each' } });
  // SIGKILLed after its last flush: what the flushes did not deliver is gone.
  assert.equal(r.run.signal, 'SIGKILL', r.run.stderr);
  assert.deepEqual(
    r.lines.filter((l) => l.flushed),
    names.map((flushed, i) => ({ flushed, rows: i + 1 })),
  );
  assert.equal(r.calls.length, names.length);
  assert.equal(spanView(r.spans).length, names.length);
  assertSinksAgree({ calls: r.calls, runs: r.runs, spans: r.spans.filter((s) => s.scope.name === SCOPE) }, 'flush-each');
});

describe("register beside an app's own NodeSDK", () => {
  const VARIANTS = [
    { label: 'NodeSDK started before register (preloaded first)', before: true },
    { label: 'NodeSDK started after register (by the app)', before: false },
  ];
  const results = new Map();
  before(async () => {
    const apps = install(['nodesdk-beside-app.mjs', 'nodesdk-own.mjs']);
    await pool(
      VARIANTS.map((v) => async () => {
        const nodeArgs = v.before ? ['--import', apps['nodesdk-own.mjs']] : [];
        results.set(v.label, await run(apps['nodesdk-beside-app.mjs'], { preload: 'import', nodeArgs }));
      }),
      2,
    );
  });

  for (const v of VARIANTS) {
    test(`${v.label}: the app's receiver gets its span only, llm-otel's sinks every call once, parented to the app's span`, () => {
      const r = results.get(v.label);
      assertCleanRun(r.run, v.label);
      assert.doesNotMatch(r.run.stderr, /\[llm-otel\]/);
      const { request } = r.lines[0];
      assert.deepEqual(
        r.appSpans.map((s) => [s.scope.name, s.name, s.traceId, s.spanId]),
        [['my-app', 'handle-request', request.traceId, request.spanId]],
      );
      assert.equal(r.calls.length, 4);
      assert.ok(
        r.spans.every((s) => s.scope.name === SCOPE && s.name === 'chat gpt-4o-mini'),
        r.spans.map((s) => s.name).join(),
      );
      assertSinksAgree(r, v.label);
      const inRequest = r.calls.filter((c) => c.trace_id === request.traceId);
      assert.equal(inRequest.length, 3);
      assert.ok(inRequest.every((c) => c.parent_span_id === request.spanId));
      assert.equal(r.calls.at(-1).parent_span_id, null);
    });
  }
});
