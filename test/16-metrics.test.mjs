// Process-level: the GenAI client metrics `llm-otel/register` sends over OTLP/HTTP (docs/metrics.md),
// configured only through the environment. Apps: openai 6, ESM, against the loopback OpenAI-wire
// server and a real OTLP receiver that decodes protobuf and JSON.
// - names, units, bucket boundaries, attributes, and counts/sums that match the calls made (a chat
//   call, a stream with its time to first chunk, a failing call with error.type), checked against
//   the spans of the same run; sent at exit (the default interval is a minute);
// - the same from the app's thread (LLM_OTEL_WRITER_THREAD=false) over http/json, and for calls
//   that are not sampled (no spans: metrics still count every call);
// - OTEL_METRIC_EXPORT_INTERVAL and the temporality preference;
// - OTEL_METRICS_EXPORTER=none / OTEL_TRACES_EXPORTER=none switches;
// - a dead, silent or metrics-less (404) metrics endpoint: one warning line, the app unchanged, exit
//   delayed by at most the documented 1 s cap;
// - an app's own MeterProvider (as NodeSDK gives it) through OpenAIInstrumentation, without register.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll as after, beforeAll as before, test } from 'vitest';
import { installApp, installMatrix } from './helpers/matrix.mjs';
import { closedPort, startOpenAIServer } from './helpers/openai-server.mjs';
import { startOtlpReceiver } from './helpers/otlp-receiver.mjs';
import { pool, runApp } from './helpers/run-app.mjs';
import { spansByScenario } from './helpers/scenario-ids.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const API_KEY = 'sk-llmotel-metrics-16a2b3c4d5e6f7a8b9c0';
const SCENARIOS = ['chat', 'chat-stream-usage', 'bad-request'];
const TOKEN_BOUNDS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
const SECONDS_BOUNDS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const METRICS = {
  'gen_ai.client.token.usage': { unit: '{token}', bounds: TOKEN_BOUNDS },
  'gen_ai.client.operation.duration': { unit: 's', bounds: SECONDS_BOUNDS },
  'gen_ai.client.operation.time_to_first_chunk': { unit: 's', bounds: SECONDS_BOUNDS },
};
const CAP_MS = 1000; // README "Exit behaviour": OTLP is flushed capped at 1 s
const EXIT_MARGIN_MS = 3000; // a bound against hanging on a shared machine, not a speed test
const SAFETY_NET_MS = 30_000;

let server;
let apps;
let hostileApp;
let ownMeterApp;
let baseline;
const dir = mkdtempSync(join(tmpdir(), 'llm-otel-16-'));
const runs = new Map();
const closers = [];

/** A TCP server that accepts connections and reads them, but never answers. */
async function silentServer() {
  const sockets = new Set();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.resume();
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  closers.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => srv.close(r));
  });
  return `http://127.0.0.1:${srv.address().port}`;
}

/**
 * Runs an app under --import llm-otel/register with a fresh receiver for traces and metrics;
 * `env(rx)` may point metrics elsewhere. Keeps the run, the llm-otel spans and the metric requests.
 */
async function instrumented(key, { app = 'openai-app.mjs', env = {}, args = SCENARIOS, runOpts = {} } = {}) {
  const rx = await startOtlpReceiver();
  try {
    const extra = typeof env === 'function' ? await env(rx) : env;
    const run = await runApp(app === 'hostile' ? hostileApp : apps[app], {
      preload: 'import',
      args,
      timeoutMs: SAFETY_NET_MS,
      ...runOpts,
      env: {
        TEST_OPENAI_URL: server.url,
        TEST_API_KEY: API_KEY,
        OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
        LLM_OTEL_DB: join(dir, `${key}.db`),
        ...extra,
      },
    });
    await rx.settle();
    runs.set(key, {
      run,
      spans: rx.spans.filter((s) => s.scope.name === 'llm-otel'),
      requests: [...rx.requests],
      metricRequests: rx.metricRequests(),
    });
  } finally {
    await rx.close();
  }
}

before(async () => {
  apps = installMatrix(['openai-app.mjs', 'scenarios-lib.cjs'], [6])[6];
  hostileApp = installApp(6, 'otlp-hostile-app.mjs');
  ownMeterApp = installApp(6, 'own-meter-app.cjs');
  server = await startOpenAIServer();
  baseline = await runApp(apps['openai-app.mjs'], { args: SCENARIOS, env: { TEST_OPENAI_URL: server.url, TEST_API_KEY: API_KEY } });
  const dead = await closedPort();
  // Calls far enough apart that llm-otel's thread (started by the first call, a second or more on a
  // busy machine) is up for the later ones.
  const interval = { TEST_CALLS: 3, TEST_PAUSE_MS: 2500, TEST_LINGER_MS: 1000, OTEL_METRIC_EXPORT_INTERVAL: 200 };
  const tasks = [
    () => instrumented('default'),
    () => instrumented('app-thread-json', { env: { LLM_OTEL_WRITER_THREAD: 'false', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' } }),
    () => instrumented('unsampled-parent', { env: { TEST_UNSAMPLED: '1' } }),
    () => instrumented('sampler-off', { env: { OTEL_TRACES_SAMPLER: 'always_off' } }),
    () => instrumented('interval-cumulative', { app: 'hostile', args: [], env: interval }),
    () =>
      instrumented('interval-delta', {
        app: 'hostile',
        args: [],
        env: { ...interval, OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta' },
      }),
    () => instrumented('metrics-none', { env: { OTEL_METRICS_EXPORTER: 'none' } }),
    () => instrumented('traces-none', { env: { OTEL_TRACES_EXPORTER: 'none' } }),
    () => instrumented('metrics-only', { env: { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'otlp' } }),
    () => instrumented('dead-metrics', { env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `http://127.0.0.1:${dead}/v1/metrics` } }),
    () =>
      instrumented('no-metrics-pipeline', {
        env: async () => {
          const rx404 = await startOtlpReceiver({ mode: 404 });
          closers.push(() => rx404.close());
          return { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${rx404.url}/v1/metrics` };
        },
      }),
    async () => {
      const r = await runApp(ownMeterApp, {
        env: { TEST_OPENAI_URL: server.url, TEST_LLM_OTEL: join(ROOT, 'dist', 'cjs') },
        timeoutMs: SAFETY_NET_MS,
      });
      runs.set('own-meter', { run: r });
    },
  ];
  await pool(tasks, 2);
  // Exit timing, one run at a time: a healthy metrics endpoint, then one that never answers.
  await instrumented('healthy-exit', { app: 'hostile', args: [], env: { TEST_CALLS: 2 } });
  const silent = await silentServer();
  await instrumented('silent-metrics', {
    app: 'hostile',
    args: [],
    env: { TEST_CALLS: 2, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${silent}/v1/metrics` },
  });
  runs.get('silent-metrics').silent = silent;
});

after(async () => {
  for (const close of closers) await close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (k) => runs.get(k);
const llmOtelLines = (stderr) => stderr.split('\n').filter((l) => l.startsWith('[llm-otel]'));
const serverPort = () => Number(new URL(server.url).port);

function assertSameApp(k) {
  const { run } = get(k);
  assert.equal(baseline.code, 0, baseline.stderr);
  assert.equal(run.timedOut, false, `${k}: killed after ${Math.round(run.durationMs)} ms`);
  assert.equal(run.code, 0, `${k}: exit code; stderr:\n${run.stderr}`);
  assert.equal(run.stdout, baseline.stdout, `${k}: stdout`);
}

/** The metrics of the last export (cumulative: the totals), by name. */
function lastExport(k) {
  const reqs = get(k).metricRequests;
  assert.ok(reqs.length > 0, `${k}: no metrics were sent`);
  for (const r of reqs) assert.equal(r.error, null, `${k}: undecodable metrics request`);
  return Object.fromEntries(reqs.at(-1).metrics.map((m) => [m.name, m]));
}

const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const keys = (o) => Object.keys(o).sort();

/** Every histogram point is well formed: its buckets add up to its count and hold its min and max. */
function assertPointShape(name, p) {
  const { bounds } = METRICS[name];
  assert.deepEqual(p.explicitBounds, bounds, `${name}: bucket boundaries`);
  assert.equal(p.bucketCounts.length, bounds.length + 1, `${name}: bucket count`);
  assert.equal(sum(p.bucketCounts), p.count, `${name}: buckets add up to the count`);
  assert.ok(p.min <= p.max && p.min * p.count <= p.sum + 1e-9 && p.sum <= p.max * p.count + 1e-9, `${name}: min ≤ mean ≤ max`);
  const bucketOf = (v) => bounds.findIndex((b) => v <= b);
  const at = (v) => (bucketOf(v) === -1 ? bounds.length : bucketOf(v));
  assert.ok(p.bucketCounts[at(p.min)] > 0 && p.bucketCounts[at(p.max)] > 0, `${name}: min and max fall in counted buckets`);
}

/**
 * The metrics of the three scenarios (chat, chat-stream-usage, bad-request), checked on their own
 * and, when `spans` are given, against the spans of the same calls.
 */
function assertScenarioMetrics(k, { spans } = {}) {
  const m = lastExport(k);
  assert.deepEqual(keys(m), keys(METRICS), `${k}: metric names`);
  const base = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o-mini',
    'server.address': '127.0.0.1',
    'server.port': serverPort(),
  };
  for (const [name, want] of Object.entries(METRICS)) {
    const metric = m[name];
    assert.equal(metric.unit, want.unit, `${name}: unit`);
    assert.equal(metric.kind, 'histogram', `${name}: a histogram`);
    assert.equal(metric.temporality, 'CUMULATIVE', `${name}: cumulative by default`);
    assert.ok(metric.description.length > 0, `${name}: described`);
    assert.deepEqual(metric.scope, { name: 'llm-otel', version: metric.scope.version }, `${name}: scope`);
    assert.match(metric.scope.version, /^\d+\.\d+\.\d+/);
    assert.match(String(metric.resource['service.name']), /\S/, `${name}: resource`);
    for (const p of metric.points) assertPointShape(name, p);
  }

  // Duration: every call, the failing one apart with its error.type.
  const duration = m['gen_ai.client.operation.duration'].points;
  assert.equal(duration.length, 2, `${k}: one point for the successful calls, one for the failure`);
  const failed = duration.find((p) => 'error.type' in p.attributes);
  const ok = duration.find((p) => !('error.type' in p.attributes));
  assert.deepEqual(failed.attributes, { ...base, 'error.type': 'BadRequestError' });
  assert.equal(failed.count, 1);
  const responseModel = ok.attributes['gen_ai.response.model'];
  assert.match(String(responseModel), /^gpt-4o-mini/);
  assert.deepEqual(ok.attributes, { ...base, 'gen_ai.response.model': responseModel });
  assert.equal(ok.count, 2);

  // Time to first chunk: the stream only, without error.type.
  const [ttfc, ...moreTtfc] = m['gen_ai.client.operation.time_to_first_chunk'].points;
  assert.equal(moreTtfc.length, 0);
  assert.deepEqual(ttfc.attributes, ok.attributes);
  assert.equal(ttfc.count, 1);
  assert.ok(ttfc.sum > 0 && ttfc.sum <= ok.max, 'the first chunk came before the stream ended');

  // Tokens: as the provider reported them, input and output apart, for the two successful calls.
  const tokens = m['gen_ai.client.token.usage'].points;
  assert.deepEqual(tokens.map((p) => p.attributes['gen_ai.token.type']).sort(), ['input', 'output']);
  for (const p of tokens) {
    assert.deepEqual(p.attributes, { ...ok.attributes, 'gen_ai.token.type': p.attributes['gen_ai.token.type'] });
    assert.equal(p.count, 2);
  }

  if (spans) {
    const by = spansByScenario(spans, SCENARIOS);
    const one = (name) => {
      assert.equal(by[name].length, 1, `${k}: one span for ${name}`);
      return by[name][0];
    };
    const seconds = (s) => Number(s.endTimeUnixNano - s.startTimeUnixNano) / 1e9;
    const [chat, stream, bad] = SCENARIOS.map(one);
    assert.ok(Math.abs(failed.sum - seconds(bad)) < 1e-3, `${k}: the failure's duration is its span's`);
    assert.ok(Math.abs(ok.sum - seconds(chat) - seconds(stream)) < 2e-3, `${k}: durations are the spans'`);
    assert.ok(Math.abs(ttfc.sum - stream.attributes['gen_ai.response.time_to_first_chunk']) < 1e-3, `${k}: ttfc is the span's`);
    assert.equal(bad.attributes['error.type'], 'BadRequestError');
    for (const type of ['input', 'output']) {
      const p = tokens.find((t) => t.attributes['gen_ai.token.type'] === type);
      const fromSpans = [chat, stream].map((s) => {
        assert.equal(s.attributes['llm_otel.usage_source'], 'provider');
        return s.attributes[`gen_ai.usage.${type}_tokens`];
      });
      assert.equal(p.sum, sum(fromSpans), `${k}: ${type} tokens are the spans'`);
      assert.equal(p.min, Math.min(...fromSpans));
      assert.equal(p.max, Math.max(...fromSpans));
    }
  }
}

test('the app is unchanged by metrics', () => {
  for (const k of ['default', 'app-thread-json', 'unsampled-parent', 'sampler-off', 'metrics-none', 'metrics-only']) {
    assertSameApp(k);
    assert.equal(get(k).run.stderr, '', `${k}: stderr`);
  }
});

test('names, units, buckets, attributes and counts match the calls made (writer thread, protobuf, sent at exit)', () => {
  const { spans, metricRequests } = get('default');
  assert.equal(spans.length, 3, 'the three calls were traced');
  for (const r of metricRequests) {
    assert.equal(r.path, '/v1/metrics');
    assert.equal(r.contentType, 'application/x-protobuf');
  }
  assertScenarioMetrics('default', { spans });
});

test('the same from the app thread over http/json', () => {
  const { spans, metricRequests } = get('app-thread-json');
  for (const r of metricRequests) assert.equal(r.contentType, 'application/json');
  assertScenarioMetrics('app-thread-json', { spans });
});

test('calls that are not sampled have no spans, yet the metrics count every call', () => {
  for (const k of ['unsampled-parent', 'sampler-off']) {
    assert.equal(get(k).spans.length, 0, `${k}: no LLM spans`);
    assertScenarioMetrics(k);
  }
});

test('OTEL_METRIC_EXPORT_INTERVAL: metrics are sent while the app runs; cumulative totals grow to the calls made', () => {
  const reqs = get('interval-cumulative').metricRequests;
  assert.ok(reqs.length >= 2, `exports during the run and at exit: ${reqs.length}`);
  const counts = reqs.map((r) => sum(r.metrics.find((m) => m.name === 'gen_ai.client.operation.duration').points.map((p) => p.count)));
  for (let i = 1; i < counts.length; i++) assert.ok(counts[i] >= counts[i - 1], `cumulative counts never shrink: ${counts}`);
  assert.equal(counts.at(-1), 3);
  // A cumulative point keeps its start time from export to export.
  const starts = new Map();
  for (const r of reqs)
    for (const m of r.metrics)
      for (const p of m.points) {
        const id = `${m.name} ${JSON.stringify(p.attributes)}`;
        if (!starts.has(id)) starts.set(id, p.startTimeUnixNano);
        assert.equal(p.startTimeUnixNano, starts.get(id), `${id}: start time`);
      }
});

test('OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta: each export holds what is new, adding up to the calls made', () => {
  const reqs = get('interval-delta').metricRequests;
  assert.ok(reqs.length >= 2, `exports during the run: ${reqs.length}`);
  const durations = reqs.flatMap((r) => r.metrics.filter((m) => m.name === 'gen_ai.client.operation.duration'));
  for (const m of durations) assert.equal(m.temporality, 'DELTA');
  assert.equal(sum(durations.flatMap((m) => m.points.map((p) => p.count))), 3);
});

test('OTEL_METRICS_EXPORTER=none: spans only; OTEL_TRACES_EXPORTER=none: nothing, unless metrics are asked for', () => {
  const none = get('metrics-none');
  assert.equal(none.metricRequests.length, 0, 'no metrics request');
  assert.equal(none.spans.length, 3, 'spans still sent');
  assert.equal(get('traces-none').requests.length, 0, 'nothing sent with OTLP off');
  const only = get('metrics-only');
  assert.equal(only.spans.length, 0);
  assert.equal(only.requests.length, only.metricRequests.length, 'metrics only');
  assertScenarioMetrics('metrics-only');
});

test('a dead metrics endpoint: one warning naming it, spans still delivered, the app unchanged', () => {
  const { run, spans } = get('dead-metrics');
  assertSameApp('dead-metrics');
  const lines = llmOtelLines(run.stderr);
  assert.equal(lines.length, 1, run.stderr);
  assert.equal(run.stderr, `${lines[0]}\n`, 'nothing else on stderr');
  assert.match(
    lines[0],
    /OTLP export to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics failed: connection refused .*ECONNREFUSED.*; metrics are not delivered there/,
  );
  assert.equal(spans.length, 3);
});

test('a collector without a metrics pipeline (HTTP 404, as Jaeger alone): one warning saying how to stop metrics', () => {
  const { run, spans } = get('no-metrics-pipeline');
  assertSameApp('no-metrics-pipeline');
  const lines = llmOtelLines(run.stderr);
  assert.equal(lines.length, 1, run.stderr);
  assert.match(
    lines[0],
    /\/v1\/metrics failed: HTTP 404 Not Found \(wrong path\? or nothing there takes metrics.*OTEL_METRICS_EXPORTER=none/,
  );
  assert.equal(spans.length, 3);
});

test(`a metrics endpoint that never answers delays exit by at most the 1 s cap (+${EXIT_MARGIN_MS} ms margin)`, (t) => {
  const healthy = get('healthy-exit').run;
  const { run: hung, silent, spans } = get('silent-metrics');
  const delay = hung.durationMs - healthy.durationMs;
  const measured = `exit delayed by ${Math.round(delay)} ms (healthy ${Math.round(healthy.durationMs)} ms, silent ${Math.round(hung.durationMs)} ms)`;
  console.log(measured);
  assert.ok(delay <= CAP_MS + EXIT_MARGIN_MS, measured);
  for (const r of [healthy, hung]) {
    assert.equal(r.timedOut, false);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '0: Atlantic Ocean.\n1: Atlantic Ocean.\ndone\n');
  }
  assert.equal(healthy.stderr, '', 'a healthy endpoint prints nothing');
  assert.ok(get('healthy-exit').metricRequests.length > 0, 'the healthy run sent its metrics at exit');
  const lines = llmOtelLines(hung.stderr);
  assert.equal(lines.length, 1, hung.stderr);
  assert.ok(lines[0].includes(`${silent}/v1/metrics`), lines[0]);
  assert.match(lines[0], /had no answer when the app ended \(exit waits at most 1 s\)/);
  assert.equal(spans.length, 2, 'spans were delivered to their own endpoint');
});

test("an app's own MeterProvider (as NodeSDK gives it) gets the metrics through OpenAIInstrumentation, without register", () => {
  const { run } = get('own-meter');
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  const out = JSON.parse(run.stdout.trim().split('\n').at(-1));
  assert.equal(out.spans, 3);
  const by = Object.fromEntries(out.metrics.map((m) => [m.name, m]));
  assert.deepEqual(keys(by), keys(METRICS));
  for (const [name, want] of Object.entries(METRICS)) {
    assert.equal(by[name].unit, want.unit);
    assert.equal(by[name].scope, 'llm-otel');
    for (const p of by[name].points) assert.deepEqual(p.boundaries, want.bounds);
  }
  const duration = by['gen_ai.client.operation.duration'].points;
  assert.equal(sum(duration.map((p) => p.count)), 3);
  assert.equal(duration.find((p) => p.attributes['error.type'] === 'BadRequestError')?.count, 1);
  assert.equal(by['gen_ai.client.operation.time_to_first_chunk'].points[0].count, 1);
  assert.deepEqual(by['gen_ai.client.token.usage'].points.map((p) => [p.attributes['gen_ai.token.type'], p.count]).sort(), [
    ['input', 2],
    ['output', 2],
  ]);
});
