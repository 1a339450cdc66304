// Process-level (issue 4): the process ends while agent/tool runs are still open —
// process.exit() inside a tool, SIGTERM without an app handler, an agent awaiting a promise that
// never settles (the loop runs dry). The runs are still recorded (status `cancelled`), so the calls'
// parent_call_id is never dangling, and the app's exit (code / signal) is what it is without
// llm-otel. App: test/apps/ctx-exit-app.mjs (openai 6, ESM, --import).

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterAll as after, beforeAll as before, test } from 'vitest';
import { APPS, runWithSinks } from './3x-helpers/sinks.mjs';
import { startOpenAIServer } from './helpers/openai-server.mjs';
import { pool, runApp } from './helpers/run-app.mjs';

const MODES = {
  exit: { otlp: false }, // OTLP cannot be sent from inside 'exit' (README "Exit behaviour")
  signal: { otlp: true, signalWhen: { text: 'READY', signal: 'SIGTERM' } },
  stalled: { otlp: true },
};

let server;
const res = {};

before(async () => {
  server = await startOpenAIServer();
  await pool(
    Object.entries(MODES).map(([mode, m]) => async () => {
      const env = { TEST_EXIT_MODE: mode };
      const opts = { signalWhen: m.signalWhen ?? null, timeoutMs: 10_000 };
      const baseline = await runApp(join(APPS, 'ctx-exit-app.mjs'), { ...opts, env: { ...env, TEST_OPENAI_URL: server.url } });
      const r = await runWithSinks('ctx-exit-app.mjs', { ...opts, preload: 'import', openaiUrl: server.url, env });
      res[mode] = { baseline, r };
    }),
    3,
  );
});

after(async () => {
  for (const { r } of Object.values(res)) r?.cleanup();
  await server?.close();
});

for (const [mode, m] of Object.entries(MODES)) {
  test(`${mode}: the exit is unchanged; open runs are recorded as cancelled; no dangling parent_call_id`, () => {
    const { baseline, r } = res[mode];
    assert.equal(r.run.timedOut, false, r.run.stderr);
    assert.deepEqual(
      [r.run.code, r.run.signal],
      [baseline.code, baseline.signal],
      `exit differs from the run without llm-otel; stderr:\n${r.run.stderr}`,
    );
    assert.doesNotMatch(r.run.stderr, /llm-otel|\n\s+at .+:\d+:\d+\)?\n/, r.run.stderr);
    const agent = r.runs.find((x) => x.name === 'main');
    const tool = r.runs.find((x) => x.name === 'last-step');
    assert.ok(agent && tool, `runs: ${JSON.stringify(r.runs)}`);
    assert.deepEqual([agent.status, agent.session_id, agent.parent_call_id], ['cancelled', `exit-${mode}`, null]);
    assert.deepEqual([tool.status, tool.parent_call_id], ['cancelled', agent.span_id]);
    assert.equal(r.calls.length, 1);
    assert.deepEqual([r.calls[0].status, r.calls[0].parent_call_id], ['ok', agent.span_id]);
    const totals = r.totals.find((t) => t.span_id === agent.span_id);
    assert.deepEqual([totals.calls, totals.status], [1, 'cancelled']);
    if (m.otlp) {
      const byName = Object.fromEntries(r.spans.map((s) => [s.name, s]));
      assert.equal(byName['invoke_agent main']?.attributes['llm_otel.status'], 'cancelled', `OTLP spans: ${r.spans.map((s) => s.name)}`);
      assert.equal(byName['execute_tool last-step']?.attributes['llm_otel.status'], 'cancelled');
    }
  });
}
