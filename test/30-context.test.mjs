// Process-level (issue 4): 50 concurrent sessions × an agent that calls the LLM, runs a tool that
// itself calls the LLM, then calls it again — with random delays, streams consumed later,
// Promise.all, an EventEmitter listener and a failing call — in an ESM app under --import and a
// CJS app under --require and --import (test/apps/ctx-agents-*.{mjs,cjs}, openai 6). Asserted on
// the SQLite call log AND the OTLP/JSON spans: every row has its own session, user and agent (no
// cross-talk), parent_call_id forms the expected tree, llm_run_totals equals the sums of the calls,
// and both sinks carry the same ids.

import assert from 'node:assert/strict';
import { afterAll as after, beforeAll as before, describe, test } from 'vitest';
import { assertCleanRun, assertRunTotals, assertSinksAgree, runWithSinks } from './3x-helpers/sinks.mjs';
import { startOpenAIServer } from './helpers/openai-server.mjs';
import { pool } from './helpers/run-app.mjs';

const SESSIONS = 50;
const VARIANTS = [
  { label: 'ESM app, --import', app: 'ctx-agents-app.mjs', preload: 'import', seed: 1 },
  { label: 'CJS app, --require', app: 'ctx-agents-app.cjs', preload: 'require', seed: 2 },
  { label: 'CJS app, --import', app: 'ctx-agents-app.cjs', preload: 'import', seed: 3 },
];

/** Steps of session i (see ctx-agents-lib.cjs) and whether each one streams. */
function expectedSteps(i) {
  const steps = {
    plan: {},
    later: { stream: i % 2 === 1, api: i % 2 === 1 ? 'chat.completions' : 'responses' },
    search: { stream: i % 3 === 0, model: i % 3 === 0 ? 'gpt-4o-mini' : 'o4-mini' },
    'fanout-a': {},
    'fanout-b': { api: 'embeddings' },
    emitter: {},
    final: {},
  };
  if (i % 10 === 0) steps.failing = { status: 'error' };
  return steps;
}

let server;
const results = new Map();

before(async () => {
  server = await startOpenAIServer();
  await pool(
    VARIANTS.map((v) => async () => {
      results.set(
        v.label,
        await runWithSinks(v.app, {
          preload: v.preload,
          openaiUrl: server.url,
          env: { TEST_SESSIONS: SESSIONS, TEST_SEED: v.seed },
        }),
      );
    }),
    3,
  );
});

after(async () => {
  for (const r of results.values()) r.cleanup();
  await server?.close();
});

for (const v of VARIANTS) {
  describe(v.label, () => {
    const get = () => results.get(v.label);

    test('the app runs all sessions cleanly (the failing call surfaces as the SDK error)', () => {
      const { run, lines } = get();
      assertCleanRun(run, v.label);
      assert.deepEqual(lines.at(-1), { done: SESSIONS });
      for (let i = 0; i < SESSIONS; i++) {
        const line = lines.find((l) => l.session === `sess-${i}`);
        assert.ok(line, `no output for sess-${i}`);
        assert.equal(line.failing, i % 10 === 0 ? 'InternalServerError' : undefined, `sess-${i}: failing step`);
        assert.equal(typeof line.later, 'string');
        assert.ok(line.later.length > 0, `sess-${i}: the stream consumed later still delivered its text`);
      }
    });

    test('one agent run and one tool run per session; tool run under the agent run', () => {
      const { runs } = get();
      assert.equal(runs.length, 2 * SESSIONS, `runs: ${runs.length}`);
      for (let i = 0; i < SESSIONS; i++) {
        const mine = runs.filter((r) => r.session_id === `sess-${i}`);
        const agent = mine.filter((r) => r.kind === 'agent');
        const tool = mine.filter((r) => r.kind === 'tool');
        assert.equal(agent.length, 1, `sess-${i}: agent runs ${JSON.stringify(mine)}`);
        assert.equal(tool.length, 1, `sess-${i}: tool runs ${JSON.stringify(mine)}`);
        const [a] = agent;
        const [t] = tool;
        assert.deepEqual(
          {
            name: a.name,
            user: a.user_id,
            agent: a.agent_name,
            parentCall: a.parent_call_id,
            parentSpan: a.parent_span_id,
            status: a.status,
          },
          { name: 'planner', user: `user-${i}`, agent: 'planner', parentCall: null, parentSpan: null, status: 'ok' },
          `sess-${i}: agent run`,
        );
        assert.deepEqual(
          {
            name: t.name,
            user: t.user_id,
            agent: t.agent_name,
            parentCall: t.parent_call_id,
            parentSpan: t.parent_span_id,
            trace: t.trace_id,
            toolCallId: t.tool_call_id,
            status: t.status,
          },
          {
            name: 'search',
            user: `user-${i}`,
            agent: 'planner',
            parentCall: a.span_id,
            parentSpan: a.span_id,
            trace: a.trace_id,
            toolCallId: `call_${i}`,
            status: 'ok',
          },
          `sess-${i}: tool run`,
        );
      }
      assert.equal(new Set(runs.filter((r) => r.kind === 'agent').map((r) => r.trace_id)).size, SESSIONS, 'each session is its own trace');
    });

    test('every call has its own session, user and agent, and sits under the right run (no cross-talk)', () => {
      const { calls, runs } = get();
      const expectedCount = Array.from({ length: SESSIONS }, (_, i) => Object.keys(expectedSteps(i)).length).reduce((a, b) => a + b, 0);
      assert.equal(calls.length, expectedCount, `calls in the DB: ${calls.length}`);
      for (const c of calls) {
        assert.match(c.session_id ?? '', /^sess-\d+$/, `call ${c.span_id} lost its session: ${JSON.stringify(c)}`);
      }
      for (let i = 0; i < SESSIONS; i++) {
        const sid = `sess-${i}`;
        const agent = runs.find((r) => r.session_id === sid && r.kind === 'agent');
        const tool = runs.find((r) => r.session_id === sid && r.kind === 'tool');
        const mine = calls.filter((c) => c.session_id === sid);
        const steps = expectedSteps(i);
        assert.deepEqual(mine.map((c) => c.metadata?.step).sort(), Object.keys(steps).sort(), `${sid}: steps`);
        for (const c of mine) {
          const step = c.metadata.step;
          const want = steps[step];
          const parent = step === 'search' ? tool : agent;
          const label = `${sid} ${step}`;
          assert.deepEqual(c.metadata, { step }, `${label}: metadata`);
          assert.equal(c.user_id, `user-${i}`, `${label}: user`);
          assert.equal(c.agent_name, 'planner', `${label}: agent`);
          assert.equal(c.trace_id, agent.trace_id, `${label}: trace`);
          assert.equal(c.parent_call_id, parent.span_id, `${label}: parent_call_id`);
          assert.equal(c.parent_span_id, parent.span_id, `${label}: OTel parent`);
          // A request that does not say `stream` leaves the column NULL (set only when the body says).
          assert.equal(Boolean(c.stream), Boolean(want.stream), `${label}: stream`);
          assert.equal(c.status, want.status ?? 'ok', `${label}: status`);
          if (want.api) assert.equal(c.api, want.api, `${label}: api`);
          if (want.model) assert.equal(c.request_model, want.model, `${label}: model`);
          if (want.status !== 'error') assert.ok(c.input_tokens > 0, `${label}: input tokens recorded`);
        }
      }
    });

    test('llm_run_totals of every run equals the sums of the calls beneath it', () => {
      const r = get();
      assertRunTotals(r, v.label);
      const byId = new Map(r.totals.map((t) => [t.span_id, t]));
      for (let i = 0; i < SESSIONS; i++) {
        const agent = r.runs.find((x) => x.session_id === `sess-${i}` && x.kind === 'agent');
        const tool = r.runs.find((x) => x.session_id === `sess-${i}` && x.kind === 'tool');
        const at = byId.get(agent.span_id);
        assert.equal(at.calls, Object.keys(expectedSteps(i)).length, `sess-${i}: agent total calls include the tool's call`);
        assert.equal(at.errors, i % 10 === 0 ? 1 : 0, `sess-${i}: agent errors`);
        assert.equal(byId.get(tool.span_id).calls, 1, `sess-${i}: tool total calls`);
        const models = at.models.split(',');
        assert.ok(models.includes('text-embedding-3-small'), `sess-${i}: models ${at.models}`);
        assert.ok(
          models.some((m) => m.startsWith(i % 3 === 0 ? 'gpt-4o-mini' : 'o4-mini')),
          `sess-${i}: models ${at.models}`,
        );
      }
    });

    test('OTLP spans carry the same ids, parents and session/user/agent as the DB rows', () => {
      const r = get();
      assertSinksAgree(r, v.label);
      const agents = r.spans.filter((s) => s.name === 'invoke_agent planner');
      const tools = r.spans.filter((s) => s.name === 'execute_tool search');
      assert.equal(agents.length, SESSIONS);
      assert.equal(tools.length, SESSIONS);
      for (const t of tools) {
        assert.match(t.attributes['gen_ai.tool.call.id'], /^call_\d+$/);
        assert.equal(t.attributes['gen_ai.operation.name'], 'execute_tool');
        assert.equal(t.attributes['gen_ai.tool.name'], 'search');
      }
      for (const a of agents) assert.equal(a.attributes['gen_ai.operation.name'], 'invoke_agent');
    });
  });
}
