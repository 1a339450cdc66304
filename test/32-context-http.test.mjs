// Process-level (issue 4): context through a node:http server (test/apps/ctx-http-app.mjs, openai
// 6, ESM under --import) that extracts W3C trace context + baggage from the request headers itself
// (no HTTP instrumentation). Upstream baggage session.id / user.id land on the rows; withLlmContext
// values override them; `propagate: true` writes session.id / user.id into the baggage injected
// for an outgoing request, and the downstream handler's rows carry them and join the same trace.

import assert from 'node:assert/strict';
import { afterAll as after, beforeAll as before, test } from 'vitest';
import { assertCleanRun, assertRunTotals, assertSinksAgree, runWithSinks } from './3x-helpers/sinks.mjs';
import { startOpenAIServer } from './helpers/openai-server.mjs';

const N = 20;
let server;
let r;

before(async () => {
  server = await startOpenAIServer();
  r = await runWithSinks('ctx-http-app.mjs', { preload: 'import', openaiUrl: server.url, env: { TEST_REQUESTS: N } });
});

after(async () => {
  r?.cleanup();
  await server?.close();
});

const answer = (route, i) => r.lines.find((l) => l.route === route && l.i === i);
const callsOf = (session) => r.calls.filter((c) => c.session_id === session);
const runsOf = (session) => r.runs.filter((x) => x.session_id === session);

function parseBaggage(header) {
  const out = {};
  for (const member of String(header ?? '').split(',')) {
    const [kv] = member.split(';');
    const eq = kv.indexOf('=');
    if (eq > 0) out[kv.slice(0, eq).trim()] = decodeURIComponent(kv.slice(eq + 1).trim());
  }
  return out;
}

test('the app serves every request', () => {
  assertCleanRun(r.run, 'http app');
  assert.equal(r.lines.length, 3 * N + 1);
  for (const l of r.lines) assert.equal(l.status, 200, JSON.stringify(l));
});

test('upstream baggage session.id / user.id reach the rows; the traceparent parents the agent run', () => {
  for (let i = 0; i < N; i++) {
    const session = `http-s-${i};x`; // the header carried it percent-encoded
    assert.deepEqual(
      answer('chat', i).body.seen,
      { sessionId: session, userId: `http-u-${i}`, agentName: 'http-agent' },
      `chat ${i}: getLlmContext() in the handler`,
    );
    const calls = callsOf(session);
    const runs = runsOf(session);
    assert.equal(calls.length, 1, `chat ${i}: calls ${JSON.stringify(calls)}`);
    assert.equal(runs.length, 1, `chat ${i}: runs ${JSON.stringify(runs)}`);
    const [c] = calls;
    const [run] = runs;
    assert.deepEqual(
      { user: c.user_id, agent: c.agent_name, metadata: c.metadata, parentCall: c.parent_call_id, trace: c.trace_id },
      { user: `http-u-${i}`, agent: 'http-agent', metadata: { step: 'chat' }, parentCall: run.span_id, trace: run.trace_id },
      `chat ${i}: call row (other baggage members are not ours)`,
    );
    assert.equal(run.user_id, `http-u-${i}`);
    assert.equal(run.trace_id, String(i + 1).padStart(32, '0'), `chat ${i}: the run joins the upstream trace`);
    assert.equal(run.parent_span_id, String(i).padStart(16, 'f'), `chat ${i}: the run's parent is the upstream span`);
    assert.equal(run.parent_call_id, null, `chat ${i}: no llm-otel span encloses the run`);
  }
});

test('a request without baggage gives rows without session / user', () => {
  assert.deepEqual(answer('chat', 'nobaggage').body.seen, { agentName: 'http-agent' });
  const bare = r.calls.filter((c) => c.session_id === null);
  assert.equal(bare.length, 1, JSON.stringify(bare));
  assert.equal(bare[0].user_id, null);
  assert.equal(bare[0].agent_name, 'http-agent');
});

test('withLlmContext values override upstream baggage per key', () => {
  for (let i = 0; i < N; i++) {
    assert.deepEqual(answer('override', i).body.seen, { sessionId: `override-${i}`, userId: `ov-u-${i}`, agentName: 'http-agent' });
    const calls = callsOf(`override-${i}`);
    assert.equal(calls.length, 1, `override ${i}`);
    assert.equal(calls[0].user_id, `ov-u-${i}`, `override ${i}: user still from baggage`);
    assert.equal(runsOf(`override-${i}`).length, 1);
    assert.equal(
      callsOf(`ov-s-${i}`).length + runsOf(`ov-s-${i}`).length,
      0,
      `override ${i}: the baggage session was overridden everywhere`,
    );
  }
});

test('propagate: true → the injected baggage carries session.id / user.id (other members kept); downstream rows carry them in the same trace', () => {
  for (let i = 0; i < N; i++) {
    const { body } = answer('propagate', i);
    const bag = parseBaggage(body.headers.baggage);
    assert.deepEqual(
      bag,
      { 'session.id': `prop-s-${i}`, 'user.id': `prop-u-${i}`, tenant: 'acme' },
      `propagate ${i}: baggage ${body.headers.baggage}`,
    );
    assert.deepEqual(body.downstream.seen, { sessionId: `prop-s-${i}`, userId: `prop-u-${i}`, agentName: 'downstream' });

    const runs = runsOf(`prop-s-${i}`);
    const caller = runs.find((x) => x.name === 'caller');
    const down = runs.find((x) => x.name === 'downstream');
    assert.ok(caller && down && runs.length === 2, `propagate ${i}: runs ${JSON.stringify(runs)}`);
    const [, traceId, spanId] = body.headers.traceparent.split('-');
    assert.equal(traceId, caller.trace_id, `propagate ${i}: injected traceparent trace id`);
    assert.equal(spanId, caller.span_id, `propagate ${i}: injected traceparent parent = the caller run`);
    assert.equal(down.trace_id, caller.trace_id, `propagate ${i}: downstream joins the trace`);
    assert.equal(down.parent_span_id, caller.span_id);
    assert.equal(down.user_id, `prop-u-${i}`);

    const calls = callsOf(`prop-s-${i}`);
    assert.deepEqual(calls.map((c) => c.metadata.step).sort(), ['caller', 'downstream']);
    for (const c of calls) {
      assert.equal(c.user_id, `prop-u-${i}`);
      assert.equal(c.trace_id, caller.trace_id);
      assert.equal(c.parent_call_id, c.metadata.step === 'caller' ? caller.span_id : down.span_id);
      assert.equal(c.agent_name, c.metadata.step);
    }
    assert.equal(callsOf(`up-s-${i}`).length, 0, `propagate ${i}: the upstream session was overridden`);
  }
});

test('every row is accounted for; OTLP agrees with the DB; run totals', () => {
  assert.equal(r.calls.length, 4 * N + 1);
  assert.equal(r.runs.length, 4 * N + 1);
  assertSinksAgree(r, 'http app');
  assertRunTotals(r, 'http app');
});
