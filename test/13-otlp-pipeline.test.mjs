// Process-level: what `llm-otel/register` sends over OTLP, configured only through the environment
// (README, "Configuration"): content capture modes, the API key never leaving the process, exporter/SDK switches,
// the default protobuf protocol, custom endpoints and resource attributes, dead and slow collectors,
// and flushing on SIGTERM/SIGINT. App: openai 6, ESM (and CJS where the start path differs).
// Runs keep the default call log (a temporary DB each), so LLM spans are finished and exported on
// the writer thread as in a default install; test/12's `--require` runs cover the app-thread path.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll as after, beforeAll as before, test } from 'vitest';
import { installMatrix } from './helpers/matrix.mjs';
import { closedPort, startOpenAIServer } from './helpers/openai-server.mjs';
import { startOtlpReceiver } from './helpers/otlp-receiver.mjs';
import { pool, runApp } from './helpers/run-app.mjs';
import { CONTENT_KEYS, EXPECTED, EXPECTED_CONTENT } from './helpers/scenario-expectations.mjs';
import { scenarioIds, spansByScenario } from './helpers/scenario-ids.mjs';
import { assertAttributes } from './helpers/span-assert.mjs';

const API_KEY = 'sk-llmotel-pipeline-4b8d2f6a1c3e5g7h9j0k';
const SCENARIOS = ['chat', 'chat-system', 'chat-tools', 'responses-instructions', 'chat-stream-usage', 'chat-stream-tools'];
// Dead/slow collector runs must exit within this (a hang check, not a speed check: the app alone
// exits in about a second, the OTLP exporter's own timeout is 10 s). Other runs only get a safety net.
const EXIT_BOUND_MS = 6000;
const SAFETY_NET_MS = 30_000;

let server;
let apps;
const dbDir = mkdtempSync(join(tmpdir(), 'llm-otel-otlp-'));
let baseline;
const runs = new Map();

/** Runs the app under --import with a fresh receiver; returns { run, rx-snapshot }. */
async function instrumented(
  key,
  { app = 'openai-app.mjs', preload = 'import', env = {}, args = SCENARIOS, receiver = {}, runOpts = {} } = {},
) {
  const rx = await startOtlpReceiver(receiver);
  try {
    const run = await runApp(apps[app], {
      preload,
      args,
      timeoutMs: SAFETY_NET_MS,
      ...runOpts,
      env: {
        TEST_OPENAI_URL: server.url,
        TEST_API_KEY: API_KEY,
        OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        LLM_OTEL_DB: join(dbDir, `${key}.db`),
        ...(typeof env === 'function' ? env(rx) : env),
      },
    });
    await rx.settle();
    runs.set(key, { run, spans: rx.spans.filter((s) => s.scope.name === 'llm-otel'), requests: [...rx.requests], bytes: rx.allBytes() });
  } finally {
    await rx.close();
  }
}

before(async () => {
  apps = installMatrix(['openai-app.mjs', 'openai-app.cjs', 'scenarios-lib.cjs'], [6])[6];
  server = await startOpenAIServer();
  const dead = await closedPort();
  const signalRun = (sig) => ({
    args: ['chat'],
    runOpts: { signalWhen: { text: 'READY', signal: sig }, timeoutMs: EXIT_BOUND_MS },
    env: { TEST_WAIT_FOR_SIGNAL: '1' },
  });
  const tasks = [
    async () => {
      baseline = await runApp(apps['openai-app.mjs'], { args: SCENARIOS, env: { TEST_OPENAI_URL: server.url, TEST_API_KEY: API_KEY } });
    },
    async () => {
      const b = {};
      for (const sig of ['SIGTERM', 'SIGINT']) {
        b[sig] = await runApp(apps['openai-app.mjs'], {
          args: ['chat'],
          env: { TEST_OPENAI_URL: server.url, TEST_WAIT_FOR_SIGNAL: '1' },
          signalWhen: { text: 'READY', signal: sig },
          timeoutMs: EXIT_BOUND_MS,
        });
      }
      runs.set('signal-baseline', b);
    },
    () => instrumented('default'),
    () => instrumented('capture-all', { env: { LLM_OTEL_CAPTURE_CONTENT: 'all' }, args: [...SCENARIOS, 'chat-secret-in-prompt'] }),
    () => instrumented('capture-all-cjs', { app: 'openai-app.cjs', preload: 'require', env: { LLM_OTEL_CAPTURE_CONTENT: 'all' } }),
    () => instrumented('capture-semconv-flag', { env: { OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true' } }),
    () => instrumented('capture-none', { env: { LLM_OTEL_CAPTURE_CONTENT: 'none' } }),
    () => instrumented('exporter-none', { env: { OTEL_TRACES_EXPORTER: 'none' } }),
    () => instrumented('sdk-disabled', { env: { OTEL_SDK_DISABLED: 'true' } }),
    () => instrumented('llm-otel-disabled', { env: { LLM_OTEL_ENABLED: 'false' } }),
    () => instrumented('llm-otel-disabled-cjs', { app: 'openai-app.cjs', preload: 'require', env: { LLM_OTEL_ENABLED: 'false' } }),
    () => instrumented('default-protocol', { env: { OTEL_EXPORTER_OTLP_PROTOCOL: undefined } }),
    () =>
      instrumented('traces-endpoint', {
        env: (rx) => ({
          OTEL_EXPORTER_OTLP_ENDPOINT: undefined,
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${rx.url}/custom/traces`,
          OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${rx.url}/custom/metrics`,
        }),
        args: ['chat'],
      }),
    () =>
      instrumented('resource', {
        env: { OTEL_SERVICE_NAME: 'checkout', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=ci,team=llm' },
        args: ['chat'],
      }),
  ];
  // Runs whose outcome depends on exit timing go one at a time after the others, so this file's
  // own parallelism does not starve their capped flush on a 2-core machine.
  const exitSensitive = [
    () =>
      instrumented('dead-endpoint', {
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${dead}` },
        runOpts: { timeoutMs: EXIT_BOUND_MS },
      }),
    () => instrumented('slow-endpoint', { receiver: { mode: 'hang' }, runOpts: { timeoutMs: EXIT_BOUND_MS } }),
    () => instrumented('SIGTERM', signalRun('SIGTERM')),
    () => instrumented('SIGINT', signalRun('SIGINT')),
  ];
  await pool(tasks, 2);
  await pool(exitSensitive, 1);
});

after(async () => {
  await server?.close();
  rmSync(dbDir, { recursive: true, force: true });
});

const get = (k) => runs.get(k);
const byScenario = (k, names = SCENARIOS) => spansByScenario(get(k).spans, names);
const assertSameApp = (k) => {
  const { run } = get(k);
  assert.equal(baseline.code, 0, baseline.stderr);
  assert.equal(run.timedOut, false, `${k}: the app did not exit (killed after ${Math.round(run.durationMs)} ms)`);
  assert.equal(run.code, baseline.code, `${k}: exit code; stderr:\n${run.stderr}`);
  assert.equal(run.stdout, baseline.stdout, `${k}: stdout`);
};
/** Attributes of a scenario's spans, checked against the shared expectations minus content. */
const assertScenarioAttributes = (k, name, names = SCENARIOS) => {
  const spans = byScenario(k, names)[name];
  const expected = EXPECTED[name]({ port: server.port, result: {} });
  assert.equal(spans.length, expected.length, `${k}/${name}: span count`);
  spans.forEach((s, i) => {
    const attrs = Object.fromEntries(Object.entries(s.attributes).filter(([key]) => !CONTENT_KEYS.includes(key)));
    assertAttributes(attrs, expected[i].attributes, `${k}/${name}`);
  });
};

test('default (capture local): no content attribute leaves over OTLP, the rest is complete', () => {
  assertSameApp('default');
  for (const name of SCENARIOS) {
    for (const s of byScenario('default')[name]) {
      for (const key of CONTENT_KEYS) assert.equal(key in s.attributes, false, `${name}: ${key} sent with capture=local`);
    }
    assertScenarioAttributes('default', name);
  }
  const text = get('default').bytes.toString('utf8');
  for (const phrase of ['Bouvet Island', 'tomato', 'weather in New York', 'Atlantic Ocean', 'get_weather']) {
    assert.equal(text.includes(phrase), false, `prompt/response text ${JSON.stringify(phrase)} found in OTLP payload`);
  }
});

for (const key of ['capture-all', 'capture-all-cjs', 'capture-semconv-flag']) {
  test(`${key}: content attributes are sent, in the semconv JSON shapes`, () => {
    const { run, spans } = get(key);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(spans.length >= SCENARIOS.length, `${key}: ${spans.length} spans`);
    const groups = byScenario(key, [...SCENARIOS, 'chat-secret-in-prompt']);
    for (const [name, want] of Object.entries(EXPECTED_CONTENT)) {
      const [s] = groups[name];
      assert.ok(s, `${key}: no span for ${name}`);
      const got = {};
      for (const k of CONTENT_KEYS) if (k in s.attributes) got[k] = JSON.parse(s.attributes[k]);
      assert.deepEqual(got, want, `${key}/${name}: content attributes`);
      assertScenarioAttributes(key, name, [...SCENARIOS, 'chat-secret-in-prompt']);
    }
    // Streams too: the output assembled from the chunks.
    const [stream] = groups['chat-stream-usage'];
    assert.deepEqual(JSON.parse(stream.attributes['gen_ai.output.messages']), [
      { role: 'assistant', parts: [{ type: 'text', content: 'South Atlantic Ocean.' }], finish_reason: 'stop' },
    ]);
  });
}

test('capture all: the API key (also pasted into a prompt) and an e-mail address never reach OTLP', () => {
  const { bytes, spans } = get('capture-all');
  const [leaky] = spansByScenario(spans, ['chat-secret-in-prompt'])['chat-secret-in-prompt'];
  assert.ok(leaky, 'no span for chat-secret-in-prompt');
  const input = leaky.attributes['gen_ai.input.messages'];
  assert.equal(typeof input, 'string', 'the prompt is captured (masked)');
  assert.match(input, /Which ocean contains Bouvet Island/);
  assert.equal(bytes.includes(API_KEY), false, 'API key in an OTLP payload');
  assert.equal(bytes.includes('jane.doe@example.com'), false, 'e-mail address in an OTLP payload');
  assert.equal(get('capture-all-cjs').bytes.includes(API_KEY), false);
  for (const k of ['default', 'capture-semconv-flag', 'default-protocol']) assert.equal(get(k).bytes.includes(API_KEY), false, k);
});

test('capture none: no content attributes', () => {
  assertSameApp('capture-none');
  assert.ok(get('capture-none').spans.length > 0);
  for (const s of get('capture-none').spans) for (const k of CONTENT_KEYS) assert.equal(k in s.attributes, false, k);
});

for (const key of ['exporter-none', 'sdk-disabled', 'llm-otel-disabled', 'llm-otel-disabled-cjs']) {
  test(`${key}: nothing is sent and the app is unchanged`, () => {
    assert.equal(get(key).requests.length, 0, `${key}: OTLP requests arrived`);
    assertSameApp(key); // the CJS app prints exactly what the ESM app prints (same scenario code)
    assert.equal(get(key).run.stderr, '', `${key}: stderr`);
  });
}

test('default protocol is OTLP/protobuf to /v1/traces (and /v1/metrics), decoding to the same spans', () => {
  assertSameApp('default-protocol');
  const { requests } = get('default-protocol');
  const traces = requests.filter((r) => r.metrics === null);
  assert.ok(traces.length > 0);
  assert.ok(
    requests.some((r) => r.metrics !== null),
    'metrics were sent too',
  );
  for (const r of requests) {
    assert.equal(r.contentType, 'application/x-protobuf');
    assert.equal(r.path, r.metrics === null ? '/v1/traces' : '/v1/metrics');
    assert.equal(r.error, null);
  }
  for (const name of SCENARIOS) assertScenarioAttributes('default-protocol', name);
  const [chat] = byScenario('default-protocol').chat;
  assert.equal(chat.name, 'chat gpt-4o-mini');
  assert.equal(chat.kindName, 'CLIENT');
  assert.equal(chat.parentSpanId, scenarioIds('chat').spanId);
});

test('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT and _METRICS_ENDPOINT are used as the full URL', () => {
  const { requests, run } = get('traces-endpoint');
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  assert.deepEqual([...new Set(requests.map((r) => r.path))].sort(), ['/custom/metrics', '/custom/traces']);
  assert.equal(byScenario('traces-endpoint', ['chat']).chat.length, 1);
});

test('OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES reach the resource', () => {
  const [s] = byScenario('resource', ['chat']).chat;
  assert.ok(s, 'no span');
  assert.equal(s.resource['service.name'], 'checkout');
  assert.equal(s.resource['deployment.environment.name'], 'ci');
  assert.equal(s.resource.team, 'llm');
});

test('a dead OTLP endpoint (connection refused) changes nothing for the app', () => {
  assertSameApp('dead-endpoint');
});

test('a slow OTLP endpoint (accepts, never answers) changes nothing and does not hold the exit', () => {
  assertSameApp('slow-endpoint');
  assert.ok(get('slow-endpoint').requests.length > 0, 'the exporter did try to send');
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  test(`${sig}: spans are flushed and the process still ends by ${sig}`, () => {
    const base = get('signal-baseline')[sig];
    const { run } = get(sig);
    assert.equal(base.signal, sig, 'baseline dies by the signal');
    assert.equal(run.timedOut, false, `${sig}: still alive after ${EXIT_BOUND_MS} ms`);
    assert.equal(run.signal, base.signal, `${sig}: ${run.stderr}`);
    assert.equal(run.code, base.code);
    assert.equal(run.stdout, base.stdout);
    const spans = spansByScenario(get(sig).spans, ['chat']).chat;
    assert.equal(spans.length, 1, `${sig}: the finished call's span was flushed`);
    assertAttributes(spans[0].attributes, EXPECTED.chat({ port: server.port })[0].attributes, sig);
  });
}
