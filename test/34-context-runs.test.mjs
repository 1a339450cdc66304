// Process-level (issue 4): semantics of withLlmContext / withAgent / withTool / withWorkflow in a
// real app (test/apps/ctx-runs-app.mjs, openai 6, ESM under --import): nested scopes merge (inner
// wins per key, tags united, metadata merged, nothing leaks out or across siblings), agent names,
// errors rethrown unchanged with the run marked (redacted message), sync functions stay sync, SDK
// objects returned through a run keep working (.asResponse()), a tool run's toolCallId joins the
// call whose output requested it (llm_messages.tool_calls), and workflow totals.

import assert from 'node:assert/strict';
import { afterAll as after, beforeAll as before, test } from 'vitest';
import { assertCleanRun, assertRunTotals, assertSinksAgree, runWithSinks } from './3x-helpers/sinks.mjs';
import { startOpenAIServer } from './helpers/openai-server.mjs';

let server;
let r;

before(async () => {
  server = await startOpenAIServer();
  r = await runWithSinks('ctx-runs-app.mjs', { preload: 'import', openaiUrl: server.url });
});

after(async () => {
  r?.cleanup();
  await server?.close();
});

const line = (name) => r.lines.find((l) => l.case === name);
const callsOf = (session) => r.calls.filter((c) => c.session_id === session);
const runsOf = (session) => r.runs.filter((x) => x.session_id === session);
const step = (session, name) => {
  const found = callsOf(session).filter((c) => c.metadata?.step === name);
  assert.equal(found.length, 1, `${session}/${name}: ${found.length} calls`);
  return found[0];
};
const run = (session, name) => {
  const found = runsOf(session).filter((x) => x.name === name);
  assert.equal(found.length, 1, `${session}/${name}: ${found.length} runs`);
  return found[0];
};
const ctxOf = (c) => ({
  session: c.session_id,
  user: c.user_id,
  agent: c.agent_name,
  conversation: c.conversation_id,
  tags: c.tags,
  metadata: c.metadata,
});

test('the app runs cleanly and every case reported', () => {
  assertCleanRun(r.run, 'runs app');
  assert.deepEqual(
    r.lines.map((l) => l.case),
    ['nest', 'names', 'errors', 'returns', 'weather', 'pipeline'],
  );
});

test('nested scopes: inner wins per key, tags united, metadata merged; empty values never erase; nothing leaks', () => {
  const outer = {
    sessionId: 'nest',
    userId: 'u-outer',
    agentName: 'outer-agent',
    conversationId: 'conv-outer',
    tags: ['a', 'b'],
    metadata: { tenant: 't1', plan: 'free' },
  };
  const inner = { ...outer, userId: 'u-inner', tags: ['a', 'b', 'c'], metadata: { tenant: 't1', plan: 'pro', region: 'eu' } };
  const { seen } = line('nest');
  assert.deepEqual(seen.outer, outer);
  assert.deepEqual(seen.inner, inner);
  assert.deepEqual(seen.innermost, { ...inner, conversationId: 'conv-inner' });
  assert.deepEqual(seen.after, outer, 'the inner scope did not leak into the outer one');
  assert.deepEqual(seen.outside, {}, 'nothing outside the scopes');

  const row = (s, ctx) => ({
    session: ctx.sessionId,
    user: ctx.userId,
    agent: ctx.agentName,
    conversation: ctx.conversationId,
    tags: ctx.tags,
    metadata: { ...ctx.metadata, step: s },
  });
  assert.deepEqual(ctxOf(step('nest', 'outer-before')), row('outer-before', outer));
  assert.deepEqual(ctxOf(step('nest', 'inner')), row('inner', inner));
  assert.deepEqual(ctxOf(step('nest', 'innermost')), row('innermost', { ...inner, conversationId: 'conv-inner' }));
  assert.deepEqual(ctxOf(step('nest', 'sibling-x')), row('sibling-x', { ...outer, userId: 'u-x', tags: ['a', 'b', 'x'] }));
  assert.deepEqual(ctxOf(step('nest', 'sibling-y')), row('sibling-y', { ...outer, userId: 'u-y', tags: ['a', 'b', 'y'] }));
  assert.deepEqual(ctxOf(step('nest', 'outer-after')), row('outer-after', outer));
  assert.equal(callsOf('nest').length, 6);
  for (const c of callsOf('nest')) assert.equal(c.parent_call_id, null, 'scopes are not runs: no parent call');
});

test('agent names: withAgent sets the agent beneath it (innermost wins); tools and workflows keep the enclosing one; RunOptions merge', () => {
  assert.equal(step('names', 'ctx-only').agent_name, 'ctx-agent');
  const wf = run('names', 'wf');
  const outerA = run('names', 'outer-a');
  const innerA = run('names', 'inner-a');
  const tool = run('names', 'opt-tool');
  assert.deepEqual([wf.kind, wf.agent_name, wf.parent_call_id], ['workflow', 'ctx-agent', null]);
  assert.deepEqual([outerA.kind, outerA.agent_name, outerA.parent_call_id], ['agent', 'outer-a', null]);
  assert.deepEqual([innerA.kind, innerA.agent_name, innerA.parent_call_id], ['agent', 'inner-a', outerA.span_id]);
  assert.deepEqual([tool.kind, tool.agent_name, tool.parent_call_id, tool.user_id], ['tool', 'outer-a', outerA.span_id, 'opt-user']);
  const expect = {
    'in-workflow': ['ctx-agent', wf.span_id, null, null],
    'in-outer': ['outer-a', outerA.span_id, null, null],
    'in-inner': ['inner-a', innerA.span_id, null, null],
    'in-tool': ['outer-a', tool.span_id, 'opt-user', ['tool-tag']],
    'back-in-outer': ['outer-a', outerA.span_id, null, null],
  };
  for (const [s, [agent, parent, user, tags]] of Object.entries(expect)) {
    const c = step('names', s);
    assert.deepEqual([c.agent_name, c.parent_call_id, c.user_id, c.tags], [agent, parent, user, tags], `names/${s}`);
  }
});

test('errors are rethrown unchanged (async, sync, non-Error, SDK errors, nested) and the runs are marked error', () => {
  const out = line('errors');
  assert.deepEqual(out.async, { same: true, message: 'agent exploded for bob@example.com', code: 'E_BOOM', name: 'BoomError' });
  assert.deepEqual(out.sync, { same: true, thrownSynchronously: true });
  assert.deepEqual(out.nonError, { same: true });
  assert.deepEqual(out.llm, { isBadRequest: true, status: 400 });
  assert.deepEqual(out.nested, { same: true });
  assert.deepEqual(out.ctxSync, { same: true });
  assert.deepEqual(out.ctxAsync, { same: true });

  const boom = run('errors', 'boom-agent');
  assert.equal(boom.status, 'error');
  assert.equal(boom.error_message, 'agent exploded for [EMAIL]', 'the stored message is redacted; the app’s error object was not touched');
  assert.equal(JSON.parse(boom.attributes)['error.type'], 'BoomError');
  assert.equal(step('errors', 'before-boom').status, 'ok', 'the call inside the failing agent succeeded');
  assert.equal(step('errors', 'before-boom').parent_call_id, boom.span_id);

  for (const [name, message, type] of [
    ['sync-fail', 'sync tool failed', 'BoomError'],
    ['string-throw', 'plain string', '_OTHER'],
    ['inner-fail', 'inner tool failed', 'BoomError'],
    ['wrapping-agent', 'inner tool failed', 'BoomError'],
  ]) {
    const x = run('errors', name);
    assert.deepEqual([x.status, x.error_message, JSON.parse(x.attributes)['error.type']], ['error', message, type], `run ${name}`);
  }
  assert.equal(run('errors', 'inner-fail').parent_call_id, run('errors', 'wrapping-agent').span_id);

  const llmFail = run('errors', 'llm-fail');
  assert.equal(llmFail.status, 'error');
  assert.equal(JSON.parse(llmFail.attributes)['error.type'], 'BadRequestError');
  const failed = callsOf('errors').filter((c) => c.parent_call_id === llmFail.span_id);
  assert.equal(failed.length, 1);
  assert.equal(failed[0].status, 'error');
  assert.equal(failed[0].http_status, 400);

  const span = r.spans.find((s) => s.spanId === boom.span_id);
  assert.equal(span.status.codeName, 'ERROR');
  assert.equal(span.status.message, 'agent exploded for [EMAIL]');
  assert.equal(span.attributes['error.type'], 'BoomError');
  assert.equal(span.attributes['llm_otel.status'], 'error');
});

test('return values: sync stays sync, async stays async, APIPromise/Stream returned through a run keep working', () => {
  const out = line('returns');
  assert.deepEqual(out.syncAgent, { value: 42, isPromise: false });
  assert.equal(out.syncTool, true);
  assert.equal(out.syncWorkflow, true);
  assert.equal(out.syncScope, 'x');
  assert.equal(out.badAttrs, 'still runs');
  assert.deepEqual(out.asyncAgent, { isPromise: true, value: 'v' });
  assert.deepEqual(out.asResponse, { status: 200, id: 'chatcmpl-Bs24CNH3ITxv65qJpGjVXijYv6qX2' }, '.asResponse() body still readable');
  assert.deepEqual(out.withResponse, { id: 'chatcmpl-Bs24CNH3ITxv65qJpGjVXijYv6qX2', status: 200 });
  assert.ok(out.stream.length > 0);

  for (const name of ['sync-agent', 'sync-tool', 'sync-wf', 'async-agent', 'api-promise', 'with-response', 'stream-tool']) {
    const x = run('returns', name);
    assert.equal(x.status, 'ok', `run ${name}`);
    assert.ok(x.ended_at >= x.started_at, `run ${name} ended`);
  }
  for (const name of ['api-promise', 'with-response', 'stream-tool']) {
    const x = run('returns', name);
    const calls = callsOf('returns').filter((c) => c.parent_call_id === x.span_id);
    assert.equal(calls.length, 1, `run ${name}: its call`);
    assert.equal(calls[0].status, 'ok');
  }
  const streamed = callsOf('returns').find((c) => c.parent_call_id === run('returns', 'stream-tool').span_id);
  assert.equal(streamed.stream, 1);
  assert.ok(streamed.output_tokens > 0, 'the stream consumed after its run ended still recorded its usage');
});

test("a tool run's tool_call_id joins the call whose output requested it, and the call that received the result", () => {
  const { ids } = line('weather');
  assert.equal(ids.length, 2);
  const agent = run('weather', 'weather-agent');
  const [first, second] = callsOf('weather');
  const joined = r.sql(`
    SELECT r.tool_call_id AS tool_call_id, r.name AS tool, c.span_id AS requested_by, j.value ->> '$.name' AS fn
    FROM llm_runs r
    JOIN llm_messages m ON m.direction = 'output' AND m.tool_calls IS NOT NULL
    JOIN json_each(m.tool_calls) j ON j.value ->> '$.id' = r.tool_call_id
    JOIN llm_calls c ON c.id = m.call_id
    WHERE r.kind = 'tool' AND r.session_id = 'weather'
    ORDER BY r.started_at`);
  assert.deepEqual(
    joined,
    ids.map((id) => ({ tool_call_id: id, tool: 'get_weather', requested_by: first.span_id, fn: 'get_weather' })),
  );
  const answered = r.sql(`
    SELECT r.tool_call_id AS tool_call_id, c.span_id AS answered_in
    FROM llm_runs r
    JOIN llm_messages m ON m.direction = 'input' AND m.role = 'tool' AND m.tool_call_id = r.tool_call_id
    JOIN llm_calls c ON c.id = m.call_id
    WHERE r.kind = 'tool' AND r.session_id = 'weather'
    ORDER BY r.started_at`);
  assert.deepEqual(
    answered,
    ids.map((id) => ({ tool_call_id: id, answered_in: second.span_id })),
  );
  for (const x of runsOf('weather').filter((y) => y.kind === 'tool')) {
    assert.deepEqual([x.parent_call_id, x.user_id, x.agent_name], [agent.span_id, 'u-weather', 'weather-agent']);
  }
  for (const c of [first, second]) assert.equal(c.parent_call_id, agent.span_id);
});

test('workflow → agent → tool: the tree and the totals through nested runs', () => {
  const wf = run('pipeline', 'pipeline');
  const agent = run('pipeline', 'step-agent');
  const tool = run('pipeline', 'wf-tool');
  assert.deepEqual([wf.kind, wf.parent_call_id], ['workflow', null]);
  assert.equal(agent.parent_call_id, wf.span_id);
  assert.equal(tool.parent_call_id, agent.span_id);
  assert.equal(step('pipeline', 'wf-1').parent_call_id, agent.span_id);
  assert.equal(step('pipeline', 'wf-2').parent_call_id, tool.span_id);
  assert.equal(step('pipeline', 'wf-3').status, 'error');
  const totals = Object.fromEntries(
    r.totals.filter((t) => t.session_id === 'pipeline').map((t) => [t.name, [t.calls, t.errors, t.input_tokens, t.output_tokens]]),
  );
  assert.deepEqual(totals, { pipeline: [3, 1, 44, 6], 'step-agent': [3, 1, 44, 6], 'wf-tool': [1, 0, 22, 3] });
});

test('OTLP agrees with the DB; every run total equals its calls', () => {
  assertSinksAgree(r, 'runs app');
  assertRunTotals(r, 'runs app');
});
