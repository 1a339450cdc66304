// Process-level (issue 4, deliverable 5): an app with its own OpenTelemetry setup. The app's global
// BasicTracerProvider (in-memory exporter), context manager and propagators are registered BEFORE
// llm-otel/register (a first `--import`), or only the provider, or the app registers after
// llm-otel. In every case: llm-otel's spans still reach the DB and OTLP, the app's own spans still
// reach the app's exporter (and only there: nothing is sent twice), and an LLM call made inside an
// app span has that span as OTel parent (same trace) while llm_otel.parent_call_id still names the
// nearest llm-otel span. Apps: test/apps/ctx-otel-setup.mjs + ctx-otel-app.mjs (openai 6, ESM).

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterAll as after, beforeAll as before, describe, test } from 'vitest';
import { APPS, assertCleanRun, assertRunTotals, assertSinksAgree, runWithSinks } from './3x-helpers/sinks.mjs';
import { startOpenAIServer } from './helpers/openai-server.mjs';
import { pool } from './helpers/run-app.mjs';

const SETUP = ['--import', join(APPS, 'ctx-otel-setup.mjs')];
const VARIANTS = [
  {
    label: 'app SDK (provider + context manager + propagators) registered before register',
    nodeArgs: SETUP,
    env: { TEST_APP_OTEL: 'full' },
    accepted: { provider: true, contextManager: true, propagator: true },
  },
  {
    label: 'app provider only, registered before register',
    nodeArgs: SETUP,
    env: { TEST_APP_OTEL: 'provider-only' },
    accepted: { provider: true },
  },
  // Registered after llm-otel: the provider is still accepted (llm-otel never takes the global one);
  // llm-otel's context manager and propagator were first, so the app's are refused.
  {
    label: 'app SDK registered after register',
    nodeArgs: [],
    env: { TEST_APP_OTEL_LATE: '1' },
    accepted: { provider: true, contextManager: false, propagator: false },
  },
];

let server;
const results = new Map();

before(async () => {
  server = await startOpenAIServer();
  await pool(
    VARIANTS.map((v) => async () => {
      results.set(
        v.label,
        await runWithSinks('ctx-otel-app.mjs', { preload: 'import', nodeArgs: v.nodeArgs, env: v.env, openaiUrl: server.url }),
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
    const out = () => get().lines[0];
    const step = (name) => {
      const found = get().calls.filter((c) => c.metadata?.step === name);
      assert.equal(found.length, 1, `${name}: ${found.length} calls`);
      return found[0];
    };

    test('runs cleanly; the app registered what it wanted', () => {
      assertCleanRun(get().run, v.label);
      assert.equal(get().lines.length, 1, get().run.stdout);
      assert.deepEqual(out().accepted, v.accepted);
    });

    test("llm-otel's spans reach the DB and OTLP (the same ids in both)", () => {
      const r = get();
      assert.equal(r.calls.length, 3);
      assert.equal(r.runs.length, 1);
      assertSinksAgree(r, v.label);
      assertRunTotals(r, v.label);
      assert.ok(
        r.spans.every((s) => s.resource['service.name'] === 'llm-otel-context-app'),
        'llm-otel keeps its own resource',
      );
    });

    test("the app's spans reach the app's exporter only, and llm-otel's spans are not sent twice", () => {
      const { appSpans } = out();
      assert.deepEqual(appSpans.map((s) => s.name).sort(), ['app-db-query', 'handle-request']);
      assert.ok(
        appSpans.every((s) => s.scope === 'my-app'),
        `app exporter got: ${JSON.stringify(appSpans)}`,
      );
      const otlpNames = get().allSpans.map((s) => s.name);
      assert.equal(
        otlpNames.includes('handle-request') || otlpNames.includes('app-db-query'),
        false,
        `app spans sent by llm-otel: ${otlpNames}`,
      );
    });

    test('a call inside an app span has that span as OTel parent (same trace); parent_call_id names the nearest llm-otel span', () => {
      const { request, db, appSpans } = out();
      const agent = get().runs[0];
      const first = step('in-app-span');
      const nested = step('in-app-span-in-agent');
      const outside = step('outside');
      assert.deepEqual(
        [first.trace_id, first.parent_span_id, first.parent_call_id, first.session_id],
        [request.traceId, request.spanId, null, 'own-otel'],
      );
      assert.deepEqual(
        [agent.trace_id, agent.parent_span_id, agent.parent_call_id, agent.session_id],
        [request.traceId, request.spanId, null, 'own-otel'],
      );
      assert.deepEqual(
        [nested.trace_id, nested.parent_span_id, nested.parent_call_id, nested.agent_name],
        [request.traceId, db.spanId, agent.span_id, 'own-agent'],
      );
      assert.equal(db.traceId, request.traceId);
      assert.equal(
        appSpans.find((s) => s.name === 'app-db-query').parentSpanId,
        agent.span_id,
        "the app's span started inside withAgent is the agent run's child",
      );
      assert.notEqual(outside.trace_id, request.traceId);
      assert.deepEqual([outside.parent_span_id, outside.session_id], [null, null]);
    });
  });
}
