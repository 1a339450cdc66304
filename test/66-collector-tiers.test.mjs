// The fleet's Collector layout (collector/): agent tier → load_balancing by trace id → gateway tier
// (memory_limiter, tail_sampling) → Jaeger, and its compose file.
//
// What runs here: the configs' structure against the rules the Collector itself enforces (checked
// against its sources, see docs/collector.md), the compose file through `docker-compose config`,
// and the sampling policies against the spans a real app under llm-otel puts on the wire. What
// does not: a Collector binary (none can be had on these machines: no Go toolchain recent enough,
// no release downloads), so `otelcol validate` and a live two-tier run are not part of the suite.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, test } from 'vitest';
import { parse } from 'yaml';
import { startOpenAIServer } from './helpers/openai-server.mjs';
import { startOtlpReceiver } from './helpers/otlp-receiver.mjs';
import { runApp } from './helpers/run-app.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIR = join(ROOT, 'collector');
const text = (name) => readFileSync(join(DIR, name), 'utf8');
const agent = parse(text('agent.yaml'));
const gateway = parse(text('gateway.yaml'));
const compose = parse(text('docker-compose.yaml'));

// Our attribute names and call statuses, from the wire contract itself.
const semconvSource = readFileSync(join(ROOT, 'src', 'core', 'semconv.ts'), 'utf8');
const ATTR = Object.fromEntries([...semconvSource.matchAll(/export const (\w+) = '([^']+)';/g)].map((m) => [m[1], m[2]]));
const LLM_STATUSES = [...(semconvSource.match(/export type LlmStatus = ([^;]+);/)?.[1] ?? '').matchAll(/'(\w+)'/g)].map((m) => m[1]);
const TOKEN_ATTRIBUTES = Object.entries(ATTR)
  .filter(([name]) => /^GEN_AI_USAGE_.*TOKENS$/.test(name))
  .map(([, key]) => key);

// Component types as current Collector releases name them (contrib 0.159), and the old names.
const CURRENT = {
  receivers: ['otlp'],
  processors: ['memory_limiter', 'tail_sampling', 'transform'],
  exporters: ['load_balancing', 'otlp_grpc', 'otlp_http', 'prometheus'],
  extensions: ['health_check'],
};
const RENAMED = { exporters: ['otlp', 'otlphttp', 'loadbalancing'] };
const KINDS = ['receivers', 'processors', 'exporters'];
const typeOf = (id) => id.split('/')[0];
const tiers = { agent, gateway };

/** Go duration (as the Collector reads one) → milliseconds. */
function durationMs(s) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(String(s));
  assert.ok(m, `not a duration: ${s}`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2]];
}

test('sanity: the contract the configs are checked against was read', () => {
  assert.equal(ATTR.LLM_OTEL_STATUS, 'llm_otel.status');
  assert.equal(ATTR.LLM_OTEL_COST, 'llm_otel.cost');
  assert.deepEqual(LLM_STATUSES.toSorted(), ['cancelled', 'error', 'ok', 'timeout']);
  assert.ok(TOKEN_ATTRIBUTES.includes('gen_ai.usage.input_tokens'), TOKEN_ATTRIBUTES.join());
});

test('both tiers: every pipeline component defined and every defined one used, memory_limiter first, current names only, no batch processor', () => {
  for (const [tier, cfg] of Object.entries(tiers)) {
    const pipelines = Object.entries(cfg.service.pipelines);
    assert.ok(pipelines.length > 0, `${tier}: no pipelines`);
    for (const kind of KINDS) {
      const defined = Object.keys(cfg[kind] ?? {});
      const used = new Set(pipelines.flatMap(([, p]) => p[kind] ?? []));
      for (const id of used) assert.ok(defined.includes(id), `${tier}: ${kind} ${id} is used but not defined`);
      for (const id of defined) assert.ok(used.has(id), `${tier}: ${kind} ${id} is defined but in no pipeline`);
      for (const id of defined) {
        assert.ok(CURRENT[kind].includes(typeOf(id)), `${tier}: ${kind} ${id} is not a current component type`);
        assert.ok(!(RENAMED[kind] ?? []).includes(typeOf(id)), `${tier}: ${id} is a pre-rename name`);
      }
    }
    for (const id of cfg.service.extensions) assert.ok(cfg.extensions[id], `${tier}: extension ${id} not defined`);
    for (const [name, p] of pipelines) {
      assert.equal(p.processors?.[0], 'memory_limiter', `${tier}: ${name} must start with memory_limiter`);
      assert.ok(!(p.processors ?? []).some((id) => typeOf(id) === 'batch'), `${tier}: ${name} batches in a processor`);
    }
    const ml = cfg.processors.memory_limiter;
    assert.ok(durationMs(ml.check_interval) > 0);
    assert.ok(ml.spike_limit_percentage < ml.limit_percentage && ml.limit_percentage <= 100, `${tier}: memory_limiter limits`);
  }
});

test('agent: traces leave only through load_balancing by trace id to one resolver; metrics never through it', () => {
  const { traces, metrics } = agent.service.pipelines;
  assert.deepEqual(traces.exporters.map(typeOf), ['load_balancing']);
  const lb = agent.exporters[traces.exporters[0]];
  assert.equal(lb.routing_key, 'traceID');
  const resolvers = Object.keys(lb.resolver);
  assert.equal(resolvers.length, 1, 'exactly one resolver');
  assert.ok(['static', 'dns', 'k8s', 'aws_cloud_map'].includes(resolvers[0]));
  for (const h of lb.resolver.static.hostnames) assert.match(h, /^[a-z0-9.-]+:\d+$/);
  assert.equal(lb.protocol.otlp.endpoint, undefined, 'the resolver fills in the endpoint');
  // The Kubernetes alternative is there, commented: DNS over a headless Service.
  assert.match(text('agent.yaml'), /#\s+dns:\n\s*#\s+hostname: \S+\.svc\.cluster\.local\n\s*#\s+port: "4317"/);
  // Routing by trace id is for traces only: metrics take another exporter.
  assert.ok(!metrics.exporters.some((id) => typeOf(id) === 'load_balancing'));
  assert.ok(agent.receivers.otlp.protocols.grpc && agent.receivers.otlp.protocols.http);
});

test('gateway: tail sampling after memory_limiter keeps errors, not-ok calls, slow, expensive, a share of the rest — on our attribute names', () => {
  const { processors } = gateway.service.pipelines.traces;
  assert.deepEqual(processors, ['memory_limiter', 'tail_sampling']);
  const ts = gateway.processors.tail_sampling;
  assert.ok(durationMs(ts.decision_wait) >= 10_000, 'LLM calls are long: decision_wait');
  assert.ok(ts.num_traces > 0 && ts.expected_new_traces_per_sec > 0);
  const names = ts.policies.map((p) => p.name);
  assert.equal(new Set(names).size, names.length, 'policy names are unique');
  const ofType = (type) => ts.policies.filter((p) => p.type === type);
  for (const p of ts.policies) assert.ok(p[p.type] !== undefined, `${p.name}: no ${p.type} settings`);

  assert.ok(
    ofType('status_code').some((p) => p.status_code.status_codes.includes('ERROR')),
    'errors',
  );
  const notOk = ofType('string_attribute').find((p) => p.string_attribute.key === ATTR.LLM_OTEL_STATUS);
  assert.ok(notOk, `a policy on ${ATTR.LLM_OTEL_STATUS}`);
  assert.deepEqual(notOk.string_attribute.values.toSorted(), LLM_STATUSES.filter((s) => s !== 'ok').toSorted());
  assert.ok(!notOk.string_attribute.invert_match, 'invert_match would keep every trace without the attribute');
  assert.ok(
    ofType('latency').some((p) => p.latency.threshold_ms > 0),
    'slow',
  );
  // `llm_otel.cost` is a float: numeric_attribute reads ints (a double reads as 0), so never on it.
  const costCondition = new RegExp(`^attributes\\["${ATTR.LLM_OTEL_COST.replace('.', '\\.')}"\\] >= (\\d+(?:\\.\\d+)?)$`);
  const expensive = ofType('ottl_condition')
    .flatMap((p) => p.ottl_condition.span ?? [])
    .map((c) => costCondition.exec(c));
  assert.ok(expensive.some(Boolean), `an OTTL condition on ${ATTR.LLM_OTEL_COST}`);
  for (const p of ofType('numeric_attribute')) {
    assert.notEqual(p.numeric_attribute.key, ATTR.LLM_OTEL_COST);
    assert.ok(TOKEN_ATTRIBUTES.includes(p.numeric_attribute.key), `${p.numeric_attribute.key} is not one of our integer attributes`);
  }
  const share = ofType('probabilistic').map((p) => p.probabilistic.sampling_percentage);
  assert.equal(share.length, 1);
  assert.ok(share[0] > 0 && share[0] < 100, 'a share, not none nor all');
  assert.equal(ofType('always_sample').length, 0, 'always_sample would keep everything');
});

test('exporters batch in their own sending queue, within the limits the Collector validates', () => {
  const queues = [
    ['agent load_balancing → gateways', agent.exporters.load_balancing.protocol.otlp.sending_queue],
    ...Object.entries(gateway.exporters).map(([id, e]) => [`gateway ${id}`, e.sending_queue]),
  ];
  for (const [where, q] of queues) {
    assert.ok(q?.batch, `${where}: no sending_queue.batch`);
    assert.ok(q.queue_size > 0 && q.num_consumers > 0, `${where}: queue_size, num_consumers`);
    assert.ok(['requests', 'items', 'bytes'].includes(q.sizer), `${where}: sizer`);
    const batchSizer = q.batch.sizer ?? q.sizer;
    assert.ok(['items', 'bytes'].includes(batchSizer), `${where}: batch sizer`);
    assert.ok(durationMs(q.batch.flush_timeout) > 0, `${where}: flush_timeout`);
    assert.ok(q.batch.max_size >= q.batch.min_size, `${where}: max_size ≥ min_size`);
    if (batchSizer === q.sizer) assert.ok(q.batch.min_size <= q.queue_size, `${where}: min_size ≤ queue_size`);
  }
});

test('compose: Jaeger, the agent and the gateways, wired to one another', () => {
  const services = compose.services;
  const gateways = Object.keys(services).filter((s) => s.startsWith('gateway'));
  assert.ok(gateways.length >= 2, 'at least two gateways, or routing by trace id shows nothing');
  assert.ok(services.jaeger && services.agent);
  const images = new Set();
  for (const name of ['agent', ...gateways]) {
    const s = services[name];
    assert.match(s.image, /^otel\/opentelemetry-collector-contrib:\d+\.\d+\.\d+$/, `${name}: a pinned contrib image`);
    images.add(s.image);
    const mount = s.volumes.find((v) => v.endsWith(':/etc/otelcol/config.yaml:ro'));
    assert.ok(mount && existsSync(join(DIR, mount.split(':')[0])), `${name}: config mounted from collector/`);
    assert.equal(mount.split(':')[0], name === 'agent' ? './agent.yaml' : './gateway.yaml');
    assert.ok(s.mem_limit && s.environment?.GOMEMLIMIT, `${name}: a memory limit for memory_limiter's percentages`);
  }
  assert.equal(images.size, 1, 'both tiers on the same Collector release');
  const port = gateway.receivers.otlp.protocols.grpc.endpoint.split(':').at(-1);
  assert.deepEqual(agent.exporters.load_balancing.resolver.static.hostnames.toSorted(), gateways.map((g) => `${g}:${port}`).toSorted());
  assert.equal(gateway.exporters['otlp_grpc/jaeger'].endpoint, 'jaeger:4317');
  assert.ok(
    services.agent.ports.some((p) => String(p).startsWith('4318:4318')),
    'apps reach the agent on 4318',
  );
});

// Debian's docker-compose reads the file as Docker Compose would (no daemon needed). CI installs it
// (.ci/run); elsewhere a machine without it skips this test, saying why.
const hasCompose = spawnSync('docker-compose', ['version'], { stdio: 'ignore', timeout: 60_000, killSignal: 'SIGKILL' }).status === 0;
const composeSkip = !hasCompose && !process.env.CI ? 'docker-compose is missing (apt-get install -y docker-compose)' : false;

test('compose: docker-compose reads the file (schema, references) and resolves the config mounts', { skip: composeSkip }, () => {
  const r = spawnSync('docker-compose', ['-f', join(DIR, 'docker-compose.yaml'), 'config'], {
    encoding: 'utf8',
    cwd: DIR,
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
  assert.equal(r.status, 0, r.stderr);
  const resolved = parse(r.stdout);
  assert.deepEqual(Object.keys(resolved.services).toSorted(), Object.keys(compose.services).toSorted());
  assert.ok(resolved.services.agent.volumes.some((v) => String(v.source ?? v).startsWith(join(DIR, 'agent.yaml'))));
});

// ---- the policies against real spans ----

let server;
let rx;
let wire; // per call status: { status code, attributes as on the wire ({ key: { stringValue | intValue | doubleValue } }) }

beforeAll(async () => {
  server = await startOpenAIServer();
  rx = await startOtlpReceiver();
  const r = await runApp(join(ROOT, 'test', 'apps', 'collector-policy-app.mjs'), {
    preload: 'import',
    env: {
      TEST_OPENAI_BASE_URL: server.baseURL,
      OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
      OTEL_METRICS_EXPORTER: 'none',
      LLM_OTEL_DB: 'off',
    },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    'ok: returned\nerror: threw InternalServerError\ntimeout: threw APIConnectionTimeoutError\ncancelled: threw APIUserAbortError\n',
  );
  await rx.waitForSpans(4, { timeoutMs: 10_000 });
  wire = {};
  for (const q of rx.requests)
    for (const rs of q.body?.resourceSpans ?? [])
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? []) {
          const attributes = Object.fromEntries(s.attributes.map((a) => [a.key, a.value]));
          wire[attributes[ATTR.LLM_OTEL_STATUS].stringValue] = { code: Number(s.status?.code ?? 0), attributes };
        }
});

afterAll(async () => {
  await rx?.close();
  await server?.close();
});

test("real spans: the policies keep llm-otel's error, timeout and cancelled calls, and leave an ordinary ok call to the share", () => {
  const ts = gateway.processors.tail_sampling;
  const statusPolicy = ts.policies.find((p) => p.string_attribute?.key === ATTR.LLM_OTEL_STATUS).string_attribute.values;
  const errorCodes = ts.policies.filter((p) => p.type === 'status_code').flatMap((p) => p.status_code.status_codes);
  assert.deepEqual(Object.keys(wire).toSorted(), ['cancelled', 'error', 'ok', 'timeout']);
  const ERROR = 2;
  // error and timeout: span status ERROR (the status_code policy) and a listed llm_otel.status.
  for (const s of ['error', 'timeout']) {
    assert.equal(wire[s].code, ERROR, s);
    assert.ok(errorCodes.includes('ERROR') && statusPolicy.includes(s), s);
  }
  // cancelled: status UNSET, so only the llm_otel.status policy keeps it.
  assert.notEqual(wire.cancelled.code, ERROR);
  assert.ok(statusPolicy.includes('cancelled'));
  // ok: no error policy applies, and its cost is below the threshold.
  assert.notEqual(wire.ok.code, ERROR);
  assert.ok(!statusPolicy.includes('ok'));
  const cost = wire.ok.attributes[ATTR.LLM_OTEL_COST];
  assert.ok('doubleValue' in cost && cost.doubleValue > 0, `cost on the wire: ${JSON.stringify(cost)}`);
  const threshold = Number(/>= ([\d.]+)$/.exec(ts.policies.find((p) => p.type === 'ottl_condition').ottl_condition.span[0])[1]);
  assert.ok(cost.doubleValue < threshold, 'an ordinary call is not "expensive"');
});

test('real spans: each policy reads its attribute with the type llm-otel sends (string for string_attribute, int for numeric_attribute)', () => {
  const policies = gateway.processors.tail_sampling.policies;
  const ok = wire.ok.attributes;
  for (const p of policies.filter((x) => x.type === 'string_attribute'))
    for (const call of Object.values(wire)) assert.ok('stringValue' in call.attributes[p.string_attribute.key], p.name);
  for (const p of policies.filter((x) => x.type === 'numeric_attribute')) {
    const v = ok[p.numeric_attribute.key];
    assert.ok(v && 'intValue' in v, `${p.name}: ${p.numeric_attribute.key} on the wire is ${JSON.stringify(v)}`);
  }
  // The reason the cost policy is an OTTL condition: the same check would fail for the cost.
  assert.ok(!('intValue' in ok[ATTR.LLM_OTEL_COST]));
});
