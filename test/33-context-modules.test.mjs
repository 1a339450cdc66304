// Process-level (issue 4): the package imported both as ESM and as CJS in one process shares one
// context (keys via Symbol.for) and one pipeline: an .mjs app under --import using the ESM
// withLlmContext with the CJS withAgent (and the reverse, and nested scopes across the copies, with
// both the ESM and the CJS openai), and a .cjs app under --require that also `import()`s the ESM
// copy. Apps: test/apps/ctx-mixed-app.{mjs,cjs}, openai 6.

import assert from 'node:assert/strict';
import { afterAll as after, beforeAll as before, describe, test } from 'vitest';
import { assertCleanRun, assertRunTotals, assertSinksAgree, runWithSinks } from './3x-helpers/sinks.mjs';
import { startOpenAIServer } from './helpers/openai-server.mjs';
import { pool } from './helpers/run-app.mjs';

let server;
const res = {};

before(async () => {
  server = await startOpenAIServer();
  await pool(
    [
      async () => {
        res.esm = await runWithSinks('ctx-mixed-app.mjs', { preload: 'import', openaiUrl: server.url });
      },
      async () => {
        res.cjs = await runWithSinks('ctx-mixed-app.cjs', { preload: 'require', openaiUrl: server.url });
      },
    ],
    2,
  );
});

after(async () => {
  for (const r of Object.values(res)) r.cleanup();
  await server?.close();
});

const line = (r, name) => r.lines.find((l) => l.case === name);
const pick = (row, keys) => Object.fromEntries(keys.map((k) => [k, row[k]]));

describe('.mjs app: ESM import + createRequire in one process (--import)', () => {
  test('runs cleanly with two distinct copies of the package', () => {
    assertCleanRun(res.esm.run, 'mixed esm');
    assert.equal(line(res.esm, 'copies').distinct, true, 'the test needs two copies of the package');
  });

  test('ESM withLlmContext + CJS withAgent: the call carries both', () => {
    const r = res.esm;
    const want = { sessionId: 'mix-a', userId: 'mix-ua', agentName: 'cjs-agent' };
    assert.deepEqual(line(r, 'a').seenByEsm, want);
    assert.deepEqual(line(r, 'a').seenByCjs, want);
    const agent = r.runs.filter((x) => x.session_id === 'mix-a');
    assert.equal(agent.length, 1);
    assert.deepEqual(pick(agent[0], ['kind', 'name', 'user_id', 'parent_call_id']), {
      kind: 'agent',
      name: 'cjs-agent',
      user_id: 'mix-ua',
      parent_call_id: null,
    });
    const calls = r.calls.filter((c) => c.session_id === 'mix-a');
    assert.equal(calls.length, 1, 'the ESM openai client call');
    assert.deepEqual(pick(calls[0], ['user_id', 'agent_name', 'parent_call_id', 'parent_span_id', 'trace_id']), {
      user_id: 'mix-ua',
      agent_name: 'cjs-agent',
      parent_call_id: agent[0].span_id,
      parent_span_id: agent[0].span_id,
      trace_id: agent[0].trace_id,
    });
  });

  test('CJS withLlmContext + ESM withAgent + CJS withTool: the CJS openai call sits under the tool', () => {
    const r = res.esm;
    const runs = r.runs.filter((x) => x.session_id === 'mix-b');
    const agent = runs.find((x) => x.kind === 'agent');
    const tool = runs.find((x) => x.kind === 'tool');
    assert.equal(runs.length, 2);
    assert.deepEqual(pick(agent, ['name', 'user_id', 'parent_call_id']), { name: 'esm-agent', user_id: 'mix-ub', parent_call_id: null });
    assert.deepEqual(pick(tool, ['name', 'user_id', 'agent_name', 'parent_call_id', 'tool_call_id', 'trace_id']), {
      name: 'cjs-tool',
      user_id: 'mix-ub',
      agent_name: 'esm-agent',
      parent_call_id: agent.span_id,
      tool_call_id: 'call_mix_b',
      trace_id: agent.trace_id,
    });
    const calls = r.calls.filter((c) => c.session_id === 'mix-b');
    assert.equal(calls.length, 1);
    assert.deepEqual(pick(calls[0], ['user_id', 'agent_name', 'tags', 'parent_call_id', 'trace_id']), {
      user_id: 'mix-ub',
      agent_name: 'esm-agent',
      tags: ['cjs'],
      parent_call_id: tool.span_id,
      trace_id: agent.trace_id,
    });
  });

  test('scopes nested across the copies merge (inner wins, tags united, metadata merged) for both openai copies', () => {
    const calls = res.esm.calls.filter((c) => c.session_id === 'mix-c');
    assert.equal(calls.length, 2, 'one call per openai copy');
    for (const c of calls) {
      assert.deepEqual(pick(c, ['user_id', 'agent_name', 'tags', 'metadata', 'parent_call_id']), {
        user_id: 'mix-uc2',
        agent_name: null,
        tags: ['esm', 'cjs'],
        metadata: { outer: 'esm', inner: 'cjs' },
        parent_call_id: null,
      });
    }
  });

  test('sinks agree; run totals', () => {
    assert.equal(res.esm.calls.length, 4);
    assert.equal(res.esm.runs.length, 3);
    assertSinksAgree(res.esm, 'mixed esm');
    assertRunTotals(res.esm, 'mixed esm');
  });
});

describe('.cjs app: require + import() in one process (--require)', () => {
  test('runs cleanly with two distinct copies of the package', () => {
    assertCleanRun(res.cjs.run, 'mixed cjs');
    assert.equal(line(res.cjs, 'copies').distinct, true);
  });

  test('workflow (ESM) → agent (CJS) → tool (ESM): one tree, one context, both sinks', () => {
    const r = res.cjs;
    const want = { sessionId: 'cmix-a', userId: 'cmix-ua', agentName: 'cjs-agent' };
    assert.deepEqual(line(r, 'a').seenByEsm, want);
    assert.deepEqual(line(r, 'a').seenByCjs, want);
    const flow = r.runs.find((x) => x.kind === 'workflow');
    const agent = r.runs.find((x) => x.kind === 'agent');
    const tool = r.runs.find((x) => x.kind === 'tool');
    assert.equal(r.runs.length, 3);
    assert.deepEqual(pick(flow, ['name', 'session_id', 'user_id', 'parent_call_id']), {
      name: 'esm-flow',
      session_id: 'cmix-a',
      user_id: 'cmix-ua',
      parent_call_id: null,
    });
    assert.deepEqual(pick(agent, ['name', 'session_id', 'parent_call_id', 'trace_id']), {
      name: 'cjs-agent',
      session_id: 'cmix-a',
      parent_call_id: flow.span_id,
      trace_id: flow.trace_id,
    });
    assert.deepEqual(pick(tool, ['name', 'session_id', 'agent_name', 'parent_call_id', 'tool_call_id']), {
      name: 'esm-tool',
      session_id: 'cmix-a',
      agent_name: 'cjs-agent',
      parent_call_id: agent.span_id,
      tool_call_id: 'call_cmix',
    });
    assert.deepEqual(r.calls.map((c) => c.parent_call_id).sort(), [agent.span_id, tool.span_id].sort());
    for (const c of r.calls)
      assert.deepEqual(pick(c, ['session_id', 'user_id', 'agent_name']), {
        session_id: 'cmix-a',
        user_id: 'cmix-ua',
        agent_name: 'cjs-agent',
      });
    assertSinksAgree(r, 'mixed cjs');
    assertRunTotals(r, 'mixed cjs');
    assert.equal(r.totals.find((t) => t.span_id === flow.span_id).calls, 2, 'the workflow totals count calls through nested runs');
  });
});
