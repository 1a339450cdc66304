// `llm-otel demo` end to end — the loopback OpenAI-wire server, the sample app as a child process
// under `node --import llm-otel/register`, the real call log — and then every read verb against
// the DB that real instrumented run produced.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll as after, beforeAll as before, test } from 'vitest';
import { cli, scratch } from './4x-helpers/calllog.mjs';

let s;
let db;
let demo;
before(() => {
  s = scratch('cli-demo');
  db = join(s.dir, 'demo.db');
  demo = cli(['demo', '--db', db], { env: { OTEL_TRACES_EXPORTER: '', OTEL_EXPORTER_OTLP_ENDPOINT: '' } });
});
after(() => s.cleanup());

const j = (args) => {
  const r = cli([...args, '--db', db, '--json']);
  assert.equal(r.code, 0, `llm-otel ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};

test('demo runs without an API key and prints stats and a trace', () => {
  assert.equal(demo.code, 0, demo.stderr + demo.stdout);
  assert.match(demo.stdout, /loopback OpenAI-wire server/);
  assert.match(demo.stdout, /\$ llm-otel stats --by model/);
  assert.match(demo.stdout, /gpt-4o-mini\s+5\s/);
  assert.match(demo.stdout, /\$ llm-otel trace [0-9a-f]{32}/);
  assert.match(demo.stdout, /└─ agent trip-planner/);
  assert.match(demo.stdout, /├─ tool get_weather/);
  assert.doesNotMatch(demo.stdout + demo.stderr, /\n\s+at /, 'no stack traces');
});

test('the demo DB holds what a real instrumented run records', () => {
  const d = new Database(db, { readonly: true });
  try {
    const calls = d.prepare('SELECT * FROM llm_calls ORDER BY id').all();
    assert.equal(calls.length, 8);
    assert.deepEqual([...new Set(calls.map((c) => c.session_id))], ['demo-session-1', 'demo-session-2']);
    assert.deepEqual([...new Set(calls.map((c) => c.user_id))], ['alice', 'bob']);
    assert.ok(calls.every((c) => c.service_name === 'llm-otel-demo'));
    const streams = calls.filter((c) => c.stream === 1);
    assert.equal(streams.length, 2);
    assert.ok(streams.every((c) => c.ttft_ms > 0 && c.ttft_ms <= c.duration_ms));
    assert.deepEqual(streams.map((c) => c.usage_source).sort(), ['estimated', 'provider']);
    assert.equal(calls.filter((c) => c.retry_count === 1).length, 1, 'one call retried after a 429');
    const failed = calls.filter((c) => c.status === 'error');
    assert.deepEqual(
      failed.map((c) => [c.request_model, c.error_type, c.http_status]),
      [['demo-missing', 'NotFoundError', 404]],
    );
    assert.equal(calls.filter((c) => c.api === 'embeddings').length, 1);
    const runs = d.prepare('SELECT kind, name, tool_call_id FROM llm_runs ORDER BY id').all();
    assert.deepEqual(runs.map((r) => `${r.kind}:${r.name}`).sort(), ['agent:trip-planner', 'tool:get_weather']);
    assert.match(runs.find((r) => r.kind === 'tool').tool_call_id, /^call-demo/);
    assert.ok(d.prepare('SELECT count(*) AS n FROM llm_messages').get().n >= 10);
  } finally {
    d.close();
  }
});

test('every read verb against the demo DB (--json)', () => {
  const calls = j(['calls']).calls;
  assert.equal(calls.length, 8);
  const first = calls[calls.length - 1];
  const shown = j(['show', String(first.id)]);
  assert.equal(shown.call.span_id, first.span_id);
  assert.ok(shown.messages.some((m) => m.role === 'system' && /travel assistant/.test(m.content)));
  assert.equal(j(['show', first.span_id]).call.id, first.id);

  const agentTrace = calls.find((c) => c.agent_name === 'trip-planner').trace_id;
  const tr = j(['trace', agentTrace.slice(0, 12)]);
  assert.equal(tr.trace_id, agentTrace);
  const agent = tr.roots.find((n) => n.kind === 'agent');
  assert.equal(agent.name, 'trip-planner');
  assert.deepEqual(
    agent.children.map((c) => c.kind),
    ['call', 'tool', 'call'],
  );
  assert.equal(agent.calls, 2);
  assert.equal(
    agent.input_tokens,
    agent.children.reduce((n, c) => n + c.input_tokens, 0),
  );

  const sess = j(['session', 'demo-session-1']);
  assert.equal(sess.session.calls, 5);
  assert.deepEqual(sess.session.users, ['alice']);
  assert.deepEqual(sess.runs.map((r) => r.kind).sort(), ['agent', 'tool']);

  const byModel = Object.fromEntries(j(['stats', '--by', 'model']).rows.map((r) => [r.key, r]));
  assert.equal(byModel['gpt-4o-mini'].calls, 5);
  assert.equal(byModel['demo-missing'].error_rate, 1);
  assert.equal(byModel['demo-missing'].cost, null);
  assert.deepEqual(
    j(['stats', '--by', 'user']).rows.map((r) => [r.key, r.calls]),
    [
      ['alice', 5],
      ['bob', 3],
    ],
  );
  assert.deepEqual(
    j(['stats', '--by', 'session']).rows.map((r) => [r.key, r.calls]),
    [
      ['demo-session-1', 5],
      ['demo-session-2', 3],
    ],
  );
  assert.equal(
    j(['stats', '--by', 'day']).rows.reduce((n, r) => n + r.calls, 0),
    8,
  );
  assert.equal(j(['stats', '--by', 'provider']).rows[0].key, 'openai');

  const lat = j(['latency']).rows.find((r) => r.model === 'gpt-4o-mini');
  assert.ok(lat.p50_ms <= lat.p90_ms && lat.p90_ms <= lat.p99_ms && lat.p99_ms <= lat.max_ms);
  assert.equal(j(['latency', '--ttft']).rows[0].measured, 2);

  const runs = j(['runs']).runs;
  assert.equal(runs.find((r) => r.kind === 'agent').calls, 2);
  const ex = cli(['export', '--format', 'jsonl', '--db', db]);
  assert.equal(ex.stdout.trim().split('\n').length, 8);
  assert.deepEqual(j(['sql', "SELECT count(*) AS n FROM llm_calls WHERE session_id = 'demo-session-2'"]).rows, [{ n: 3 }]);
});

test('demo costs: known models priced with a real price row, unknown ones not', () => {
  const calls = j(['calls']).calls;
  for (const c of calls.filter((x) => x.request_model === 'gpt-4o-mini' && x.input_tokens !== null)) {
    assert.ok(c.cost > 0, `call ${c.id} has cost ${c.cost}`);
    assert.equal(c.currency, 'USD');
    assert.equal(j(['show', String(c.id)]).price.model_pattern, 'gpt-4o-mini');
  }
  const emb = calls.find((c) => c.api === 'embeddings');
  assert.ok(emb.cost > 0 && emb.currency === 'USD', 'embeddings priced by input tokens only');
  assert.equal(calls.find((c) => c.request_model === 'demo-missing').cost, null);
});

test('demo refuses a foreign DB file, leaving it untouched', (t) => {
  const foreign = join(s.dir, 'foreign.db');
  const f = new Database(foreign);
  f.exec('CREATE TABLE notes (x)');
  f.close();
  const r = cli(['demo', '--db', foreign]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^llm-otel: .*not an llm-otel call log/);
  console.log('refused before starting the app');
});
