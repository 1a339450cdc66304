// Process-level (issue 15, item 2): the OpenAI Agents SDK bridge with the real @openai/agents (0.20,
// on openai 7; test/fixtures/openai-agents) against the loopback server playing the model
// (test/helpers/agent-replies.mjs: function calls and answers, Responses API and chat completions,
// streamed or not). Each scenario runs with and without `--import llm-otel/register`: the app's
// output — including what the SDK's own trace export exported, through its BatchTraceProcessor and a
// local exporter the app puts in place of the vendor's — is identical, and the call log holds the
// tree the SDK ran: workflow → agent → LLM → tool → LLM, handoffs to the agent that really ran,
// tool runs linked to the model's tool call ids, every LLM call once.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { agentReplies } from './helpers/agent-replies.mjs';
import { copyApps, installFixture } from './helpers/fixture-install.mjs';
import { startOpenAIServer } from './helpers/openai-server.mjs';
import { runApp } from './helpers/run-app.mjs';
import { runTree } from './helpers/run-tree.mjs';

let server;
let dir;
let tmp;
let n = 0;

beforeAll(async () => {
  dir = await installFixture('openai-agents');
  copyApps('openai-agents', dir, ['agents.mjs', 'local-export.mjs', 'tool-agent.cjs']);
  server = await startOpenAIServer({ scripted: agentReplies });
  tmp = mkdtempSync(join(tmpdir(), 'llm-otel-72-'));
}, 300_000);

afterAll(async () => {
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Runs the app (plain, then under register); returns both runs, the rows and the model requests. */
async function scenario(app, args, env = {}) {
  // NODE_ENV=test (vitest sets it) turns the SDK's tracing off: the bridge is tested with it on.
  const base = { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'sk-test-agents', NODE_ENV: undefined, ...env };
  const plain = await runApp(join(dir, app), { args, env: base });
  const db = join(tmp, `run-${++n}.db`);
  server.reset();
  const registered = await runApp(join(dir, app), {
    args,
    preload: app.endsWith('.cjs') ? 'require' : 'import',
    env: { ...base, LLM_OTEL_DB: db, OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none' },
  });
  const requests = server.requests.filter((r) => r.scenario === 'scripted');
  const conn = new Database(db, { readonly: true });
  try {
    const calls = conn.prepare('SELECT * FROM llm_calls ORDER BY started_at, id').all();
    const runs = conn.prepare('SELECT * FROM llm_runs ORDER BY started_at, id').all();
    return { plain, registered, calls, runs, requests };
  } finally {
    conn.close();
  }
}

/** The app ran the same with and without register, cleanly. */
function assertSameOutput({ plain, registered }) {
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(registered.code, 0, registered.stderr);
  assert.equal(registered.stdout, plain.stdout);
  assert.match(plain.stdout, /exported: traces [1-9]\d*, spans \w/);
  assert.doesNotMatch(registered.stderr, /llm-otel/, registered.stderr);
}

/** Every LLM request the server answered is one row, in one trace with the runs. */
function assertEveryCallOnce(r) {
  assert.ok(r.requests.length > 0);
  assert.equal(r.calls.length, r.requests.length, `${r.calls.length} rows for ${r.requests.length} requests`);
  assert.equal(new Set(r.calls.map((c) => c.span_id)).size, r.calls.length);
  const traces = new Set([...r.calls, ...r.runs].map((x) => x.trace_id));
  assert.equal(traces.size, 1, `one trace, not ${traces.size}`);
  for (const c of r.calls) assert.equal(c.status, 'ok');
}

/** Tool runs carry the call id the model issued (the next request answers it with that id). */
function assertToolCallIds(r, names) {
  const answered = new Set();
  for (const req of r.requests) {
    for (const it of req.body?.input ?? []) if (it?.type === 'function_call_output') answered.add(it.call_id);
    for (const m of req.body?.messages ?? []) if (m?.role === 'tool') answered.add(m.tool_call_id);
  }
  for (const name of names) {
    const run = r.runs.find((x) => x.kind === 'tool' && x.name === name);
    assert.ok(run, `a tool run ${name}`);
    assert.ok(run.tool_call_id, `${name} has a tool_call_id`);
    assert.ok(answered.has(run.tool_call_id), `${name}: ${run.tool_call_id} is one of the model's calls ${[...answered]}`);
  }
}

const WEATHER = 'workflow Agent workflow(agent Weather agent(llm[Weather agent] tool get_weather llm[Weather agent]))';

describe('OpenAI Agents SDK under register', () => {
  for (const [api, mode] of [
    ['responses', ''],
    ['responses', 'stream'],
    ['chat', ''],
    ['chat', 'stream'],
  ]) {
    test(`agent with a function tool (${api}${mode ? ', streamed' : ''}): agent → LLM → tool → LLM, every call once`, async () => {
      const r = await scenario('agents.mjs', ['tool', api, mode]);
      assertSameOutput(r);
      assert.match(r.plain.stdout, /final: It is nice \| sunny in Paris/);
      if (mode) assert.match(r.plain.stdout, /streamed chars: 27/);
      assert.equal(runTree(r), WEATHER);
      assertEveryCallOnce(r);
      assertToolCallIds(r, ['get_weather']);
      const agent = r.runs.find((x) => x.kind === 'agent');
      assert.equal(agent.status, 'ok');
      for (const c of r.calls) assert.equal(c.parent_call_id, agent.span_id);
      assert.equal(r.calls[0].api, api === 'chat' ? 'chat.completions' : 'responses');
      assert.equal(Boolean(r.calls[0].stream), mode === 'stream');
    }, 120_000);
  }

  for (const mode of ['', 'stream']) {
    test(`handoff from a triage agent to a specialist${mode ? ' (streamed)' : ''}: the specialist's calls carry its name`, async () => {
      const r = await scenario('agents.mjs', ['handoff', 'responses', mode]);
      assertSameOutput(r);
      assert.match(r.plain.stdout, /last agent: Billing agent/);
      assert.equal(
        runTree(r),
        'workflow Agent workflow(agent Triage agent(llm[Triage agent] tool transfer_to_Billing_agent) ' +
          'agent Billing agent(llm[Billing agent] tool lookup_invoice llm[Billing agent]))',
      );
      assertEveryCallOnce(r);
      assertToolCallIds(r, ['transfer_to_Billing_agent', 'lookup_invoice']);
      const handoff = r.runs.find((x) => x.name === 'transfer_to_Billing_agent');
      const attrs = JSON.parse(handoff.attributes);
      assert.equal(attrs['openai_agents.span.type'], 'handoff');
      assert.equal(attrs['openai_agents.handoff.to_agent'], 'Billing agent');
      assert.equal(handoff.agent_name, 'Triage agent');
    }, 120_000);
  }

  test("run() inside the app's own withAgent and session: the SDK's agents nest under it, each call named by the agent that ran", async () => {
    const r = await scenario('agents.mjs', ['wrapped']);
    assertSameOutput(r);
    assert.equal(
      runTree(r),
      'agent support-bot(workflow Agent workflow(agent Triage agent(llm[Triage agent] tool transfer_to_Billing_agent) ' +
        'agent Billing agent(llm[Billing agent] tool lookup_invoice llm[Billing agent])))',
    );
    assertEveryCallOnce(r);
    for (const x of [...r.calls, ...r.runs]) assert.equal(x.session_id, 'sess-7');
  }, 120_000);

  test('a guardrail is a run of its agent; a tripped one marks the agent run failed, as the SDK does', async () => {
    const ok = await scenario('agents.mjs', ['guardrail']);
    assertSameOutput(ok);
    assert.equal(
      runTree(ok),
      'workflow Agent workflow(agent Guarded agent(tool no_shouting llm[Guarded agent] tool get_weather llm[Guarded agent]))',
    );
    assertEveryCallOnce(ok);
    const guard = ok.runs.find((x) => x.name === 'no_shouting');
    assert.equal(JSON.parse(guard.attributes)['openai_agents.guardrail.triggered'], false);

    const tripped = await scenario('agents.mjs', ['tripwire']);
    assertSameOutput(tripped);
    assert.match(tripped.plain.stdout, /blocked: InputGuardrailTripwireTriggered/);
    assert.equal(tripped.calls.length, 0);
    assert.equal(runTree(tripped), 'workflow Agent workflow(agent Guarded agent(tool no_shouting))');
    const byKind = Object.fromEntries(tripped.runs.map((x) => [x.kind, x]));
    assert.equal(JSON.parse(byKind.tool.attributes)['openai_agents.guardrail.triggered'], true);
    assert.equal(byKind.tool.status, 'ok');
    assert.equal(byKind.agent.status, 'error');
    assert.match(byKind.agent.error_message, /InputGuardrailTripwireTriggered/);
    // The SDK ends no trace after a run that threw: the workflow ends with the run, not at exit.
    assert.equal(byKind.workflow.status, 'error');
  }, 120_000);

  test("a trace with a group id: one workflow named as the app's trace, the group id as session.id on every row", async () => {
    const r = await scenario('agents.mjs', ['group']);
    assertSameOutput(r);
    const agent = 'agent Weather agent(llm[Weather agent] tool get_weather llm[Weather agent])';
    assert.equal(runTree(r), `workflow Support flow(${agent} ${agent})`);
    assertEveryCallOnce(r);
    for (const x of [...r.calls, ...r.runs]) assert.equal(x.session_id, 'thread-42', `${x.kind ?? 'call'} ${x.name ?? ''}`);
    // The trace's metadata reaches the calls as llm-otel metadata.
    for (const c of r.calls) assert.equal(JSON.parse(c.metadata).ticket, 'T-9');
    const wf = r.runs.find((x) => x.kind === 'workflow');
    assert.match(JSON.parse(wf.attributes)['openai_agents.trace_id'], /^trace_[0-9a-f]{32}$/);
  }, 120_000);

  test("withAgent inside an SDK function tool: the app's run is a child of the SDK's tool run, its call a child of it", async () => {
    const r = await scenario('agents.mjs', ['nested']);
    assertSameOutput(r);
    assert.match(r.plain.stdout, /final: Tomorrow \| cloudy in Lyon/);
    assert.equal(
      runTree(r),
      'workflow Agent workflow(agent Forecast agent(llm[Forecast agent] tool forecast(agent forecaster(llm[forecaster])) llm[Forecast agent]))',
    );
    assertEveryCallOnce(r);
    assertToolCallIds(r, ['forecast']);
    const mine = r.runs.find((x) => x.name === 'forecaster');
    assert.equal(mine.parent_call_id, r.runs.find((x) => x.name === 'forecast').span_id);
  }, 120_000);

  test('a CommonJS app (--require): the same tree', async () => {
    const r = await scenario('tool-agent.cjs', []);
    assertSameOutput(r);
    assert.equal(runTree(r), WEATHER);
    assertEveryCallOnce(r);
    assertToolCallIds(r, ['get_weather']);
  }, 120_000);

  test('LLM_OTEL_OPENAI_AGENTS=false: calls recorded as before, no runs', async () => {
    const r = await scenario('agents.mjs', ['tool'], { LLM_OTEL_OPENAI_AGENTS: 'false' });
    assertSameOutput(r);
    assert.equal(r.runs.length, 0);
    assert.equal(r.calls.length, r.requests.length);
    for (const c of r.calls) assert.equal(c.parent_call_id, null);
  }, 120_000);
});
