// LangChain.js under register, with no code change (issue 15, item 4): the real packages that run on
// Node 20 (langchain 1.x, @langchain/core 1.x, @langchain/openai 1.5.8 on openai 6, LangGraph) from
// test/fixtures/langchain, against the loopback OpenAI-wire server driven by a scripted model (a
// tool call, then the final answer; test/helpers/openai-agent-script.mjs). Apps:
// test/fixtures/langchain/apps/agent.mjs (ESM, --import) and agent.cjs (CJS, --require).
//
// Checked: the app's output is the same with and without llm-otel; each createAgent run is one tree —
// the agent run → its LLM calls (parent_call_id, agent name) → the tool run (execute_tool, the
// model's tool call id) → the next LLM call; an agent called from a tool nests under that tool;
// streamed runs (stream(), streamEvents()) form the same tree and end when read; a stream left
// early is cancelled; every LLM call is recorded once (as many rows as requests the server got);
// `llm-otel trace` shows the tree; LLM_OTEL_LANGCHAIN=false turns the bridge off. Nothing leaves
// the machine: LangSmith tracing is off, and the model never streams through `streaming: true`
// (which downloads tokenizer ranks; the app's comment says why).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll as after, beforeAll as before, describe, test } from 'vitest';
import { assertCleanRun, assertRunTotals, assertSinksAgree, runWithSinks } from './3x-helpers/sinks.mjs';
import { copyApps, installFixture } from './helpers/fixture-install.mjs';
import { agentScript } from './helpers/openai-agent-script.mjs';
import { startOpenAIServer } from './helpers/openai-server.mjs';
import { runApp } from './helpers/run-app.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(REPO, 'bin', 'llm-otel.js');
const run = promisify(execFile);
// LangSmith's tracer would send runs to its vendor: never on in these tests.
const QUIET = { LANGSMITH_TRACING: 'false', LANGCHAIN_TRACING_V2: 'false', LANGCHAIN_TRACING: 'false', LANGSMITH_API_KEY: undefined };

let server;
let apps;
let plain;
let esm;
let esmRequests;
let cjs;
let cjsRequests;
let off;
let wrapped;
let wrappedOff;

before(async () => {
  const dir = await installFixture('langchain');
  apps = copyApps('langchain', dir, ['agent.mjs', 'agent.cjs', 'wrapped.mjs']);
  server = await startOpenAIServer({ respond: agentScript() });
  plain = await runApp(apps[0], { env: { ...QUIET, TEST_OPENAI_URL: server.url }, timeoutMs: 120_000 });
  server.reset();
  esm = await runWithSinks(apps[0], { preload: 'import', openaiUrl: server.url, env: QUIET, timeoutMs: 120_000 });
  esmRequests = server.requests.length;
  server.reset();
  cjs = await runWithSinks(apps[1], { preload: 'require', openaiUrl: server.url, env: QUIET, timeoutMs: 120_000 });
  cjsRequests = server.requests.length;
  off = await runWithSinks(apps[0], {
    preload: 'import',
    openaiUrl: server.url,
    env: { ...QUIET, LLM_OTEL_LANGCHAIN: 'false' },
    args: ['invoke'],
  });
  wrapped = await runWithSinks(apps[2], { preload: 'import', openaiUrl: server.url, env: QUIET });
  wrappedOff = await runWithSinks(apps[2], { preload: 'import', openaiUrl: server.url, env: { ...QUIET, LLM_OTEL_LANGCHAIN: 'false' } });
}, 600_000);

after(async () => {
  for (const r of [esm, cjs, off, wrapped, wrappedOff]) r?.cleanup();
  await server?.close();
});

const agentRun = (r, name) => {
  const found = r.runs.filter((x) => x.kind === 'agent' && x.name === name);
  assert.equal(found.length, 1, `agent ${name}: ${found.length} runs`);
  return found[0];
};
const childrenOf = (r, id) => ({
  calls: r.calls.filter((c) => c.parent_call_id === id),
  runs: r.runs.filter((x) => x.parent_call_id === id),
});

/** The ids of the tool calls in a call's output (llm_messages.tool_calls). */
const toolCallIdsOf = (r, call) =>
  r
    .sql(
      `SELECT j.value ->> '$.id' AS id FROM llm_messages m, json_each(m.tool_calls) j WHERE m.direction = 'output' AND m.call_id = ?`,
      call.id,
    )
    .map((x) => x.id);

/** Asserts agent → LLM → tool → LLM for one createAgent run; returns its parts. */
function assertAgentTree(r, name, { stream = 0 } = {}) {
  const agent = agentRun(r, name);
  assert.deepEqual([agent.status, agent.agent_name], ['ok', name]);
  assert.equal(r.spans.find((s) => s.spanId === agent.span_id)?.attributes['gen_ai.operation.name'], 'invoke_agent');
  const { calls, runs } = childrenOf(r, agent.span_id);
  assert.equal(calls.length, 2, `${name}: two LLM calls beneath the agent`);
  assert.equal(runs.length, 1, `${name}: one tool run beneath the agent`);
  const [first, second] = calls.sort((a, b) => a.id - b.id); // rows in the order the calls ended
  const [tool] = runs;
  for (const c of calls) {
    assert.deepEqual([c.agent_name, c.trace_id, c.status, c.stream], [name, agent.trace_id, 'ok', stream], `${name}: call ${c.span_id}`);
  }
  assert.deepEqual(
    [tool.kind, tool.name, tool.agent_name, tool.status, tool.trace_id],
    ['tool', 'get_weather', name, 'ok', agent.trace_id],
  );
  const toolSpan = r.spans.find((s) => s.spanId === tool.span_id);
  assert.deepEqual([toolSpan?.name, toolSpan?.attributes['gen_ai.tool.call.id']], ['execute_tool get_weather', tool.tool_call_id]);
  assert.deepEqual(toolCallIdsOf(r, first), [tool.tool_call_id], `${name}: the tool run answers the first call's tool call`);
  assert.match(tool.tool_call_id, /^call_[0-9a-f]{20}$/);
  // LLM → tool → LLM by what each saw (not by timestamps: a slewed wall clock moves a call's
  // against a run's): the second call was sent the tool's answer to that tool call id.
  const answered = r.sql(`SELECT tool_call_id FROM llm_messages WHERE call_id = ? AND direction = 'input' AND role = 'tool'`, second.id);
  assert.deepEqual(
    answered.map((x) => x.tool_call_id),
    [tool.tool_call_id],
    `${name}: the second call answers the tool call`,
  );
  const within = first.duration_ms + tool.duration_ms + second.duration_ms;
  assert.ok(
    agent.duration_ms >= within,
    `${name}: the agent run (${agent.duration_ms} ms) lasts while its calls and tool run (${within} ms)`,
  );
  return { agent, first, second, tool };
}

describe('ESM app under --import llm-otel/register', () => {
  test('runs cleanly; its output is the same as without llm-otel', () => {
    assertCleanRun(plain, 'without llm-otel');
    assertCleanRun(esm.run, 'with llm-otel');
    assert.deepEqual(
      esm.lines.map((l) => l.case),
      ['invoke', 'stream', 'events', 'nested', 'break', 'responses', 'toolerror', 'chain'],
    );
    assert.equal(esm.run.stdout, plain.stdout);
    assert.doesNotMatch(esm.run.stderr, /llm-otel|Error in handler/);
  });

  test('every LLM call recorded once: one row per request the server answered; both sinks agree; run totals add up', () => {
    assert.equal(esm.calls.length, esmRequests);
    assert.ok(esmRequests >= 11);
    assertSinksAgree(esm, 'langchain esm');
    assertRunTotals(esm, 'langchain esm');
  });

  test('createAgent invoke: one tree — agent → LLM → tool (its tool call id) → LLM', () => {
    const { agent } = assertAgentTree(esm, 'weather_agent');
    assert.equal(agent.parent_call_id, null);
  });

  test('agent.stream() (the model streaming too) and streamEvents(): the same tree, ended when read', () => {
    assertAgentTree(esm, 'stream_agent', { stream: 1 });
    assertAgentTree(esm, 'events_agent', { stream: 1 });
  });

  test('on the Responses API (function_call items), invoked and streamed: the same tree', () => {
    for (const [name, stream] of [
      ['responses_agent', 0],
      ['responses_stream_agent', 1],
    ]) {
      const { first } = assertAgentTree(esm, name, { stream });
      assert.equal(first.api, 'responses');
    }
  });

  test('an agent called from a tool nests beneath that tool run', () => {
    const supervisor = agentRun(esm, 'supervisor');
    const { calls, runs } = childrenOf(esm, supervisor.span_id);
    assert.equal(calls.length, 2);
    assert.deepEqual(
      runs.map((x) => [x.kind, x.name]),
      [['tool', 'ask_researcher']],
    );
    const researcher = assertAgentTree(esm, 'researcher').agent;
    assert.equal(researcher.parent_call_id, runs[0].span_id);
    assert.equal(researcher.trace_id, supervisor.trace_id);
    assert.equal(researcher.agent_name, 'researcher');
    assert.deepEqual(
      calls.map((c) => c.agent_name),
      ['supervisor', 'supervisor'],
    );
  });

  test('a stream the app leaves after its first update: the agent run is cancelled, its call beneath it', () => {
    const agent = agentRun(esm, 'break_agent');
    assert.equal(agent.status, 'cancelled');
    const { calls } = childrenOf(esm, agent.span_id);
    assert.ok(calls.length >= 1);
    for (const c of calls) assert.equal(c.agent_name, 'break_agent');
  });

  test('a tool that throws: its run is error with the (redacted) message; the agent, which goes on, ok', () => {
    const agent = agentRun(esm, 'failing_agent');
    assert.equal(agent.status, 'ok');
    const { runs, calls } = childrenOf(esm, agent.span_id);
    assert.equal(calls.length, 2);
    assert.equal(runs.length, 1);
    assert.deepEqual([runs[0].name, runs[0].status, runs[0].error_message], ['broken_lookup', 'error', 'lookup failed for [EMAIL]']);
    assert.match(
      esm.lines.find((l) => l.case === 'toolerror').answer,
      /lookup failed for bob@example\.com/,
      "the app's own data untouched",
    );
  });

  test('graph internals are not runs: only agents, tools and the app-invoked chain', () => {
    assert.deepEqual([...new Set(esm.runs.map((x) => `${x.kind}:${x.name}`))].sort(), [
      'agent:break_agent',
      'agent:events_agent',
      'agent:failing_agent',
      'agent:researcher',
      'agent:responses_agent',
      'agent:responses_stream_agent',
      'agent:stream_agent',
      'agent:supervisor',
      'agent:weather_agent',
      'tool:ask_researcher',
      'tool:broken_lookup',
      'tool:get_weather',
      'workflow:topic_chain',
    ]);
  });

  test("a chain the app invokes: a workflow run with its sequence's LLM call beneath it; the app's own model call after it in no run", () => {
    const chain = esm.runs.find((x) => x.name === 'topic_chain');
    assert.deepEqual([chain.kind, chain.status, chain.parent_call_id], ['workflow', 'ok', null]);
    const { calls } = childrenOf(esm, chain.span_id);
    assert.equal(calls.length, 1);
    const orphans = esm.calls.filter((c) => c.parent_call_id === null);
    assert.equal(orphans.length, 1, 'only the direct call has no parent');
    assert.ok(orphans[0].id > calls[0].id);
    assert.equal(orphans[0].agent_name, null);
  });

  test('llm-otel trace shows the agent, its calls and the tool as one tree', async () => {
    const agent = agentRun(esm, 'weather_agent');
    const { stdout } = await run(process.execPath, [CLI, 'trace', agent.trace_id, '--db', esm.dbPath, '--json']);
    const { roots } = JSON.parse(stdout);
    assert.equal(roots.length, 1);
    const shape = (n) => ({ kind: n.kind, name: n.kind === 'call' ? 'call' : n.name, children: n.children.map(shape) });
    assert.deepEqual(shape(roots[0]), {
      kind: 'agent',
      name: 'weather_agent',
      children: [
        { kind: 'call', name: 'call', children: [] },
        { kind: 'tool', name: 'get_weather', children: [] },
        { kind: 'call', name: 'call', children: [] },
      ],
    });
    const human = await run(process.execPath, [CLI, 'trace', agent.trace_id, '--db', esm.dbPath]);
    assert.match(human.stdout, /weather_agent/);
    assert.match(human.stdout, /get_weather/);
  });
});

describe('CJS app under --require llm-otel/register', () => {
  test('the same tree through the CJS builds; every call once', () => {
    assertCleanRun(cjs.run, 'cjs');
    assert.deepEqual(cjs.lines, [{ case: 'cjs', answer: 'Final answer from 1 tool result(s): sunny in city-1', messages: 4 }]);
    assert.equal(cjs.calls.length, cjsRequests);
    assertAgentTree(cjs, 'cjs_agent');
    assertSinksAgree(cjs, 'langchain cjs');
  });
});

describe('LLM_OTEL_LANGCHAIN=false', () => {
  test('no LangChain runs; the LLM calls are still recorded, unparented; same output', () => {
    assertCleanRun(off.run, 'bridge off');
    assert.equal(off.run.stdout, plain.stdout.split('\n')[0] + '\n');
    assert.equal(off.runs.length, 0);
    assert.equal(off.calls.length, 2);
    for (const c of off.calls) assert.deepEqual([c.parent_call_id, c.agent_name], [null, null]);
  });
});

describe('a streamed agent run wrapped by hand in withAgent, read after withAgent returned (issue 15: it ended when returned)', () => {
  const check = (r, label) => {
    assertCleanRun(r.run, label);
    assert.deepEqual(r.lines, [{ case: 'wrapped', nodes: ['model_request', 'tools', 'model_request'] }]);
    const outer = r.runs.find((x) => x.name === 'hand_wrapped');
    assert.equal(outer.status, 'ok');
    assert.equal(r.calls.length, 2);
    const within = r.calls.reduce((a, c) => a + c.duration_ms, 0);
    assert.ok(
      outer.duration_ms >= within,
      `${label}: the run (${outer.duration_ms} ms) lasted until its stream was read (calls: ${within} ms)`,
    );
    return outer;
  };

  test("with the bridge: the graph's run nests in it, the calls beneath the graph", () => {
    const outer = check(wrapped, 'bridge on');
    const graph = agentRun(wrapped, 'inner_graph');
    assert.equal(graph.parent_call_id, outer.span_id);
    for (const c of wrapped.calls) assert.deepEqual([c.parent_call_id, c.agent_name], [graph.span_id, 'inner_graph']);
  });

  test("without it: LangChain runs the graph in the context the stream was created in, so the calls are the run's children", () => {
    const outer = check(wrappedOff, 'bridge off');
    assert.equal(wrappedOff.runs.length, 1);
    for (const c of wrappedOff.calls) assert.deepEqual([c.parent_call_id, c.agent_name], [outer.span_id, 'hand_wrapped']);
  });
});
