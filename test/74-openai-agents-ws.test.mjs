// Process-level (issue 15, item 2): the OpenAI Agents SDK's Responses-over-WebSocket transport
// (`setOpenAIResponsesTransport('websocket')`, OpenAIResponsesWSModel in @openai/agents 0.20), whose
// model requests go over the SDK's own socket, not through the `openai` package. Against a loopback
// server speaking that protocol (test/helpers/responses-ws-server.mjs, the model's moves from
// test/helpers/agent-replies.mjs), each scenario runs with and without `--import llm-otel/register`:
// the app's output is identical, and each `response.create` frame is exactly one llm_calls row under
// the agent run that made it, with the columns an `openai` call over HTTP gets (compared with the
// same agent over HTTP, test/helpers/openai-server.mjs), errors and dropped sockets included.
// Node 20 has a global WebSocket (which the SDK requires) only with --experimental-websocket.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { agentReplies } from './helpers/agent-replies.mjs';
import { copyApps, installFixture } from './helpers/fixture-install.mjs';
import { startOpenAIServer } from './helpers/openai-server.mjs';
import { startResponsesWsServer } from './helpers/responses-ws-server.mjs';
import { runApp } from './helpers/run-app.mjs';
import { runTree } from './helpers/run-tree.mjs';

const NODE_ARGS = Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-websocket'] : [];

let ws;
let http;
let dir;
let tmp;
let n = 0;

beforeAll(async () => {
  dir = await installFixture('openai-agents');
  copyApps('openai-agents', dir, ['agents-ws.mjs', 'agents.mjs', 'tool-agent-ws.cjs', 'local-export.mjs']);
  const { WebSocketServer } = createRequire(join(dir, 'package.json'))('ws');
  ws = await startResponsesWsServer({ WebSocketServer });
  http = await startOpenAIServer({ scripted: agentReplies });
  tmp = mkdtempSync(join(tmpdir(), 'llm-otel-74-'));
}, 300_000);

afterAll(async () => {
  await ws?.close();
  await http?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function readLog(db) {
  if (!existsSync(db)) return { calls: [], runs: [] }; // nothing recorded: no file
  const conn = new Database(db, { readonly: true });
  try {
    const calls = conn.prepare('SELECT * FROM llm_calls ORDER BY started_at, id').all();
    const runs = conn.prepare('SELECT * FROM llm_runs ORDER BY started_at, id').all();
    const messages = conn.prepare('SELECT * FROM llm_messages ORDER BY call_id, direction, position').all();
    for (const c of calls) c.messages = messages.filter((m) => m.call_id === c.id);
    return { calls, runs };
  } finally {
    conn.close();
  }
}

/** Runs the app plain, then under register (against `server`); returns both runs, the rows and the requests. */
async function scenario(app, args, { server = ws, env = {} } = {}) {
  // NODE_ENV=test (vitest sets it) turns the SDK's tracing off: the bridge is tested with it on.
  const base = { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'sk-test-agents-ws', NODE_ENV: undefined, ...env };
  server.reset();
  const plain = await runApp(join(dir, app), { args, env: base, nodeArgs: NODE_ARGS });
  const db = join(tmp, `run-${++n}.db`);
  server.reset();
  const registered = await runApp(join(dir, app), {
    args,
    preload: app.endsWith('.cjs') ? 'require' : 'import',
    nodeArgs: NODE_ARGS,
    env: { ...base, LLM_OTEL_DB: db, OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none' },
  });
  const requests = server === ws ? [...ws.requests] : server.requests.filter((r) => r.scenario === 'scripted');
  return { plain, registered, requests, ...readLog(db) };
}

/** The app ran the same with and without register, cleanly. */
function assertSameOutput({ plain, registered }) {
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(registered.code, 0, registered.stderr);
  assert.equal(registered.stdout, plain.stdout);
  assert.match(plain.stdout, /exported: traces 1, spans \w/);
  assert.doesNotMatch(registered.stderr, /llm-otel/, registered.stderr);
}

const WEATHER = 'workflow Agent workflow(agent Weather agent(llm[Weather agent] tool get_weather llm[Weather agent]))';

/** Every response.create frame is one row, all in one trace with the runs, under the agent run. */
function assertEveryCallOnce(r) {
  assert.ok(r.requests.length > 0);
  assert.equal(r.calls.length, r.requests.length, `${r.calls.length} rows for ${r.requests.length} requests`);
  assert.equal(new Set(r.calls.map((c) => c.span_id)).size, r.calls.length);
  assert.equal(new Set([...r.calls, ...r.runs].map((x) => x.trace_id)).size, 1, 'one trace');
  const agent = r.runs.find((x) => x.kind === 'agent');
  for (const c of r.calls) {
    assert.equal(c.parent_call_id, agent.span_id);
    assert.equal(c.agent_name, agent.name);
  }
}

/** The tool run carries the call id the model issued, which the next request answers. */
function assertToolCallIds(r, name) {
  const answered = new Set();
  for (const req of r.requests) for (const it of req.body?.input ?? []) if (it?.type === 'function_call_output') answered.add(it.call_id);
  const run = r.runs.find((x) => x.kind === 'tool' && x.name === name);
  assert.ok(run?.tool_call_id, `${name} has a tool_call_id`);
  assert.ok(answered.has(run.tool_call_id), `${run.tool_call_id} is one of ${[...answered]}`);
  // The first call's output message holds that tool call (content under the default policy).
  const out = r.calls[0].messages.find((m) => m.direction === 'output');
  assert.match(out.tool_calls, new RegExp(run.tool_call_id));
}

// What differs between the transports by nature: ids, times, the socket's port, the request id and
// HTTP status (a request over an open socket has neither), `stream` (every request over the socket
// is streamed).
const TRANSPORT_COLUMNS = new Set([
  'id',
  'span_id',
  'trace_id',
  'parent_span_id',
  'parent_call_id',
  'started_at',
  'ended_at',
  'duration_ms',
  'ttft_ms',
  'server_port',
  'request_id',
  'http_status',
  'response_id',
  'stream',
  'messages',
]);
const ids = (s) => (typeof s === 'string' ? s.replace(/\b(call|fc|msg|resp)_\d+_\d+\b/g, '$1_*') : s);

describe('OpenAI Agents SDK over the Responses WebSocket transport, under register', () => {
  test('agent with a function tool: every model request over the socket is one call, with the columns an HTTP call has', async () => {
    const r = await scenario('agents-ws.mjs', ['tool']);
    assertSameOutput(r);
    assert.match(r.plain.stdout, /final: It is nice \| sunny in Paris/);
    assert.equal(r.requests.length, 2);
    assert.equal(runTree(r), WEATHER);
    assertEveryCallOnce(r);
    assertToolCallIds(r, 'get_weather');
    const port = Number(new URL(ws.baseURL).port);
    for (const c of r.calls) {
      assert.equal(c.status, 'ok');
      assert.equal(c.api, 'responses');
      assert.equal(c.server_address, '127.0.0.1');
      assert.equal(c.server_port, port);
      assert.equal(c.request_model, 'gpt-4o-mini');
      assert.equal(c.response_model, 'gpt-4o-mini');
      assert.equal(c.input_tokens, 11);
      assert.equal(c.output_tokens, 7);
      assert.ok(c.cost > 0, 'priced');
      assert.equal(c.stream, 1, 'the frame asked for a stream');
      // Not streamed by the app: the SDK reads the events itself, so no first chunk is seen.
      assert.equal(c.ttft_ms, null);
      assert.doesNotMatch(JSON.stringify(c), /sk-test-agents-ws/);
    }

    // The same agent over HTTP (the `openai` patch): the same columns and messages.
    const h = await scenario('agents.mjs', ['tool', 'responses'], { server: http });
    assertSameOutput(h);
    assert.equal(h.calls.length, r.calls.length);
    r.calls.forEach((c, i) => {
      const o = h.calls[i];
      for (const k of Object.keys(o)) if (!TRANSPORT_COLUMNS.has(k)) assert.deepEqual(ids(c[k]), ids(o[k]), `call ${i}: ${k}`);
      const strip = (m) => ({
        ...m,
        call_id: 0,
        call_span_id: m.call_span_id === c.span_id || m.call_span_id === o.span_id ? 'its call' : m.call_span_id,
        tool_calls: ids(m.tool_calls),
        tool_call_id: ids(m.tool_call_id),
        content: ids(m.content),
      });
      assert.deepEqual(c.messages.map(strip), o.messages.map(strip), `call ${i}: messages`);
    });
  }, 120_000);

  test('streamed run: each call has its time to first chunk; the response is the streamed one', async () => {
    const r = await scenario('agents-ws.mjs', ['tool', 'stream']);
    assertSameOutput(r);
    assert.match(r.plain.stdout, /streamed chars: 27/);
    assert.equal(runTree(r), WEATHER);
    assertEveryCallOnce(r);
    assertToolCallIds(r, 'get_weather');
    for (const c of r.calls) {
      assert.equal(c.status, 'ok');
      assert.equal(c.stream, 1);
      assert.ok(c.ttft_ms > 0 && c.ttft_ms <= c.duration_ms, `ttft ${c.ttft_ms} within ${c.duration_ms}`);
      assert.equal(c.output_tokens, 7);
    }
    const last = r.calls[1].messages.find((m) => m.direction === 'output');
    assert.match(last.content, /It is nice \| sunny in Paris/);
  }, 120_000);

  test('withResponsesWebSocketSession (one socket for the run): still one call per request', async () => {
    const r = await scenario('agents-ws.mjs', ['session']);
    assertSameOutput(r);
    assert.deepEqual(
      r.requests.map((q) => q.socket),
      [r.requests[0].socket, r.requests[0].socket],
      'both requests on one socket',
    );
    assert.equal(runTree(r), WEATHER);
    assertEveryCallOnce(r);
    assertToolCallIds(r, 'get_weather');
  }, 120_000);

  for (const mode of ['', 'stream']) {
    test(`the server answers with an error event${mode ? ' (streamed)' : ''}: an error row, the app's error unchanged`, async () => {
      const r = await scenario('agents-ws.mjs', ['error', mode]);
      assertSameOutput(r);
      assert.match(r.plain.stdout, /failed: ModelBehaviorError: .*unsuccessful terminal state "error"/);
      assert.equal(r.requests.length, 1);
      assertEveryCallOnce(r);
      const [c] = r.calls;
      assert.equal(c.status, 'error');
      if (mode) {
        // The event itself is seen: the error an HTTP 400 gets from `openai`.
        assert.equal(c.error_type, 'BadRequestError');
        assert.equal(c.http_status, 400);
        assert.match(c.error_message, /^400 The model `nope` does not exist/);
      } else {
        // The SDK reads the events itself and throws: its error is the call's.
        assert.equal(c.error_type, 'ModelBehaviorError');
      }
      assert.equal(r.runs.find((x) => x.kind === 'agent').status, 'error');
    }, 120_000);

    test(`the socket is dropped mid-response${mode ? ' (streamed)' : ''}: an error row, the app's error unchanged`, async () => {
      const r = await scenario('agents-ws.mjs', ['drop', mode]);
      assertSameOutput(r);
      assert.match(r.plain.stdout, /failed: ResponsesWebSocketInternalError: .*closed before a terminal response event/);
      assert.equal(r.requests.length, 1);
      assert.equal(r.requests[0].outcome, 'dropped');
      assertEveryCallOnce(r);
      const [c] = r.calls;
      assert.equal(c.status, 'error');
      assert.equal(c.error_type, 'ResponsesWebSocketInternalError');
      assert.ok(c.duration_ms > 0);
      if (mode) assert.ok(c.ttft_ms > 0, 'the events before the drop were seen');
    }, 120_000);
  }

  test('a CommonJS app (--require), its socket at OPENAI_WEBSOCKET_BASE_URL: the same tree, the server the socket went to', async () => {
    const wsURL = ws.baseURL.replace(/^http:/, 'ws:');
    // Nothing listens on the HTTP base URL: every request goes over the socket.
    const r = await scenario('tool-agent-ws.cjs', [], {
      env: { OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', OPENAI_WEBSOCKET_BASE_URL: wsURL },
    });
    assertSameOutput(r);
    assert.match(r.plain.stdout, /final: It is nice \| sunny in Paris/);
    assert.equal(runTree(r), WEATHER);
    assertEveryCallOnce(r);
    assertToolCallIds(r, 'get_weather');
    for (const c of r.calls) assert.equal(c.server_port, Number(new URL(wsURL).port));
  }, 120_000);

  test('withAgent inside an SDK function tool: a child of the tool run', async () => {
    const r = await scenario('agents-ws.mjs', ['nested']);
    assertSameOutput(r);
    assert.equal(
      runTree(r),
      'workflow Agent workflow(agent Weather agent(llm[Weather agent] tool get_weather(agent forecaster) llm[Weather agent]))',
    );
  }, 120_000);

  test('LLM_OTEL_OPENAI_AGENTS=false: the SDK is left alone, its socket calls are not recorded', async () => {
    const r = await scenario('agents-ws.mjs', ['tool'], { env: { LLM_OTEL_OPENAI_AGENTS: 'false' } });
    assertSameOutput(r);
    assert.equal(r.requests.length, 2);
    assert.equal(r.calls.length, 0);
    assert.equal(r.runs.length, 0);
  }, 120_000);
});
