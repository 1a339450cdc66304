// Process-level (issue 15, item 3): the Vercel AI SDK (ai 6, @ai-sdk/openai 3, installed from
// test/fixtures/vercel-ai/) calls `fetch` itself, so llm-otel's openai patch never sees its calls.
// An ESM app that turns on `experimental_telemetry: { isEnabled: true }` and nothing else, under
// `--import llm-otel/register`, against the loopback OpenAI-wire server: every model call is a row
// and an OTLP span with our columns (model, provider, tokens, cost, status, redacted content), each
// generateText / streamText / embed is a workflow run, each tool call a tool run with its
// tool_call_id; the app's output is unchanged; an app with its own global tracer provider keeps
// receiving exactly the SDK's spans while llm-otel records the same rows; the `openai` package
// beside it is still recorded once.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { afterAll as after, beforeAll as before, test } from 'vitest';
import { assertCleanRun, assertRunTotals, assertSinksAgree, runWithSinks } from './3x-helpers/sinks.mjs';
import { copyApps, installFixture } from './helpers/fixture-install.mjs';
import { DEFAULT_FIXTURE_DIRS, startOpenAIServer } from './helpers/openai-server.mjs';
import { runApp } from './helpers/run-app.mjs';

const WIRE = join(import.meta.dirname, 'fixtures', 'vercel-ai', 'wire');
const SCENARIOS = ['generate', 'chat', 'stream', 'tool', 'error', 'embed', 'direct'];

let server;
let app;
let plain; // the app without llm-otel
let r; // the app under register, with a call log and an OTLP receiver

before(async () => {
  const dir = await installFixture('vercel-ai');
  [app] = copyApps('vercel-ai', dir, ['ai-app.mjs', 'own-provider.mjs']);
  server = await startOpenAIServer({ fixtureDirs: [...DEFAULT_FIXTURE_DIRS, WIRE] });
  plain = await runApp(app, { env: { OPENAI_BASE_URL: server.baseURL } });
  r = await runWithSinks(app, { preload: 'import', openaiUrl: server.url, env: { OPENAI_BASE_URL: server.baseURL } });
}, 180_000);

after(async () => {
  r?.cleanup();
  await server?.close();
});

const out = (run) =>
  Object.fromEntries(
    run.stdout
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
  );
const workflow = (name) => {
  const found = r.runs.filter((x) => x.kind === 'workflow' && x.name === name);
  return found;
};
const callsUnder = (run) => r.calls.filter((c) => c.parent_call_id === run.span_id);
const messages = (call) => r.messages.filter((m) => m.call_id === call.id);

test('the app prints the same with and without register, and every scenario ran', () => {
  assertCleanRun(plain, 'without register');
  assertCleanRun(r.run, 'under register');
  assert.deepEqual(Object.keys(out(plain)), SCENARIOS);
  assert.equal(r.run.stdout, plain.stdout);
  assert.equal(r.run.stderr, plain.stderr, 'llm-otel printed nothing of its own');
  assert.match(out(plain).tool, /"steps":2,"calls":\["Paris"\]/);
  assert.match(out(plain).error, /"status":429/);
});

test('every HTTP call of the SDK is one row; the openai package beside it is recorded once', () => {
  // 1 generate, 1 chat, 1 stream, 2 tool turns, 1 rate-limited, 1 embed, 1 direct = 8 requests.
  assert.equal(server.requests.length, 2 * 8, 'both runs made the same 8 requests');
  assert.equal(r.calls.length, 8);
  assert.deepEqual(r.calls.map((c) => c.api).sort(), [
    'chat.completions',
    'chat.completions',
    'embeddings',
    'responses',
    'responses',
    'responses',
    'responses',
    'responses',
  ]);
  const direct = r.calls.filter((c) => c.parent_call_id === null);
  assert.equal(direct.length, 1, 'only the direct openai call has no AI SDK run above it');
  assert.equal(direct[0].http_status, 200);
});

test('generateText: a workflow run above one call with model, provider, tokens, cost, and content redacted', () => {
  const runs = workflow('generateText').filter((w) => callsUnder(w).some((c) => c.response_id === 'resp_vercel_ai_text_01'));
  assert.equal(runs.length, 1);
  const [call] = callsUnder(runs[0]);
  assert.equal(runs[0].status, 'ok');
  assert.equal(runs[0].parent_span_id, null);
  assert.equal(call.parent_span_id, runs[0].span_id);
  assert.equal(call.trace_id, runs[0].trace_id);
  assert.equal(call.operation, 'chat');
  assert.equal(call.provider, 'openai');
  assert.equal(call.request_model, 'gpt-4o-mini');
  assert.equal(call.response_model, 'gpt-4o-mini-2024-07-18');
  assert.equal(call.request_id, 'req_vercel_ai_text_01');
  assert.equal(call.input_tokens, 24);
  assert.equal(call.output_tokens, 12);
  assert.equal(call.usage_source, 'provider');
  assert.equal(call.status, 'ok');
  assert.equal(call.stream, 0);
  assert.deepEqual(JSON.parse(call.finish_reasons), ['stop']);
  // gpt-4o-mini: $0.15 / $0.60 per million tokens (the built-in table).
  assert.ok(Math.abs(call.cost - (24 * 0.15 + 12 * 0.6) / 1e6) < 1e-12, `cost ${call.cost}`);
  assert.equal(call.currency, 'USD');
  const m = messages(call);
  assert.deepEqual(
    m.map((x) => [x.direction, x.role, x.content]),
    [
      ['input', 'user', 'Which ocean contains Bouvet Island? Reply to [EMAIL].'],
      ['output', 'assistant', 'The Southern Ocean. Copying [EMAIL].'],
    ],
  );
});

test('the chat model (openai.chat): request parameters, functionId as the run name, telemetry metadata as the call metadata', () => {
  const [run] = workflow('greeter');
  assert.ok(run, 'experimental_telemetry.functionId names the run');
  const [call] = callsUnder(run);
  assert.equal(call.api, 'chat.completions');
  assert.equal(call.temperature, 0.2);
  assert.deepEqual(call.metadata, { tenant: 'acme' });
  assert.deepEqual(
    messages(call).map((x) => [x.direction, x.role, x.content]),
    [
      ['input', 'system', 'You answer in one word.'],
      ['input', 'user', 'Say hello.'],
      ['output', 'assistant', 'Atlantic Ocean.'],
    ],
  );
  // The same response through the openai package: priced the same.
  const direct = r.calls.find((c) => c.parent_call_id === null);
  assert.equal(call.input_tokens, direct.input_tokens);
  assert.equal(call.cost, direct.cost);
});

test('streamText, consumed: a streamed call with its text, usage and time to first chunk', () => {
  const [run] = workflow('streamText');
  assert.ok(run);
  const [call] = callsUnder(run);
  assert.equal(call.stream, 1);
  assert.equal(call.status, 'ok');
  assert.equal(call.response_id, 'resp_vercel_ai_stream_01');
  assert.equal(call.input_tokens, 22);
  assert.equal(call.output_tokens, 4);
  assert.ok(call.ttft_ms > 0 && call.ttft_ms <= call.duration_ms, `ttft ${call.ttft_ms} of ${call.duration_ms}`);
  assert.ok(call.cost > 0);
  assert.equal(messages(call).find((x) => x.direction === 'output').content, 'The Southern Ocean.');
  assert.ok(run.ended_at >= call.ended_at, 'the run ends after its call');
});

test('a tool loop: workflow run → LLM call → tool run (with its tool_call_id) → LLM call, one trace', () => {
  const runs = workflow('generateText').filter((w) => r.runs.some((t) => t.kind === 'tool' && t.parent_call_id === w.span_id));
  assert.equal(runs.length, 1);
  const run = runs[0];
  const calls = callsUnder(run).sort((a, b) => a.started_at.localeCompare(b.started_at));
  const tools = r.runs.filter((t) => t.kind === 'tool');
  assert.equal(calls.length, 2);
  assert.equal(tools.length, 1);
  const [tool] = tools;
  assert.equal(tool.name, 'get_weather');
  assert.equal(tool.tool_call_id, 'call_vercel_ai_weather_01');
  assert.equal(tool.parent_call_id, run.span_id);
  assert.equal(tool.status, 'ok');
  for (const x of [...calls, tool]) assert.equal(x.trace_id, run.trace_id);
  // The order the SDK did it in: call, tool, call.
  assert.ok(calls[0].ended_at <= tool.started_at && tool.ended_at <= calls[1].started_at);
  // The first call's output asked for that tool call; the second call's input carries its result.
  const asked = JSON.parse(messages(calls[0]).find((x) => x.direction === 'output').tool_calls);
  assert.deepEqual(asked, [{ id: 'call_vercel_ai_weather_01', name: 'get_weather', arguments: { city: 'Paris' } }]);
  const answered = messages(calls[1]).find((x) => x.role === 'tool');
  assert.equal(answered.tool_call_id, 'call_vercel_ai_weather_01');
  assert.equal(answered.content, '{"city":"Paris","forecast":"sunny","celsius":21}');
  assert.deepEqual(JSON.parse(calls[0].finish_reasons), ['tool_call']);
  assertRunTotals(r, 'tool loop');
  // The same tree in `llm-otel trace`, in the order it ran.
  const cli = join(import.meta.dirname, '..', 'bin', 'llm-otel.js');
  const text = execFileSync(process.execPath, [cli, 'trace', run.trace_id, '--db', r.dbPath], {
    encoding: 'utf8',
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
  const tree = text
    .split('\n')
    .filter((l) => /[└├]─/.test(l))
    .map((l) => l.trim().replace(/\s{2,}.*$/, ''));
  assert.deepEqual(tree, [
    '└─ workflow generateText',
    '├─ chat gpt-4o-mini → gpt-4o-mini-2024-07-18',
    '├─ tool get_weather',
    '└─ chat gpt-4o-mini → gpt-4o-mini-2024-07-18',
  ]);
});

test('an HTTP 429: the call is an error row with its status and message, the run is marked failed', () => {
  const failed = r.calls.filter((c) => c.status !== 'ok');
  assert.equal(failed.length, 1);
  const [call] = failed;
  assert.equal(call.status, 'error');
  assert.equal(call.http_status, 429);
  assert.equal(call.error_type, 'APICallError');
  assert.match(call.error_message, /Rate limit reached/);
  assert.equal(call.input_tokens, null);
  assert.equal(call.cost, null);
  const run = r.runs.find((x) => x.span_id === call.parent_call_id);
  assert.equal(run.status, 'error');
  assert.match(run.error_message, /Rate limit reached/);
});

test('embed: an embeddings call with its tokens and price', () => {
  const [run] = workflow('embed');
  const [call] = callsUnder(run);
  assert.equal(call.operation, 'embeddings');
  assert.equal(call.request_model, 'text-embedding-3-small');
  assert.equal(call.input_tokens, 8);
  assert.ok(call.cost > 0);
});

test('OTLP: one GenAI span per row, with our attributes, and no content or SDK attribute leaves the machine', () => {
  assertSinksAgree(r, 'vercel-ai');
  const call = r.spans.find((s) => s.attributes['gen_ai.response.id'] === 'resp_vercel_ai_text_01');
  assert.equal(call.name, 'chat gpt-4o-mini');
  assert.equal(call.kindName, 'CLIENT');
  for (const [k, v] of Object.entries({
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o-mini',
    'gen_ai.usage.input_tokens': 24,
    'gen_ai.usage.output_tokens': 12,
    'llm_otel.status': 'ok',
    'openai.api.type': 'responses',
  }))
    assert.equal(call.attributes[k], v, k);
  assert.ok(call.attributes['llm_otel.cost'] > 0);
  const tool = r.spans.find((s) => s.attributes['gen_ai.operation.name'] === 'execute_tool');
  assert.equal(tool.attributes['gen_ai.tool.call.id'], 'call_vercel_ai_weather_01');
  const all = JSON.stringify(r.allSpans, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
  assert.doesNotMatch(all, /ana\.lima|Bouvet|"ai\.(prompt|response)/, 'content is local by default; the SDK attributes are never exported');
  assert.equal(r.allSpans.length, r.spans.length, 'no span other than llm-otel’s');
  const stored = JSON.stringify(r.sql('SELECT * FROM llm_calls')) + JSON.stringify(r.messages);
  assert.doesNotMatch(stored, /ana\.lima|sk-test-vercel-ai/);
});

// The app's own provider (own-provider.mjs), registered after llm-otel started (the app imports it)
// or before (preloaded ahead of llm-otel/register): the app gets exactly the spans it gets without
// llm-otel, and llm-otel records the same rows as with no provider.
const OWN = 'generate,tool,stream,error';
for (const order of ['after', 'before']) {
  test(`an app with its own global tracer provider (registered ${order} llm-otel starts): the same ai.* spans for the app, the same rows for llm-otel`, async () => {
    const providerFile = join(dirname(app), 'own-provider.mjs');
    const opts =
      order === 'after'
        ? { env: { OPENAI_BASE_URL: server.baseURL, APP_OWN_PROVIDER: '1' } }
        : { env: { OPENAI_BASE_URL: server.baseURL }, nodeArgs: ['--import', providerFile] };
    const own = await runApp(app, { ...opts, args: [OWN] });
    const under = await runWithSinks(app, { preload: 'import', openaiUrl: server.url, ...opts, args: [OWN] });
    try {
      assertCleanRun(own, 'own provider');
      assertCleanRun(under.run, 'own provider under register');
      // (1) What the app's provider received: names, parents, kinds, statuses, attributes, events.
      const { traces, tree } = JSON.parse(out(own)['own provider tree']);
      assert.deepEqual(JSON.parse(out(under.run)['own provider tree']), { traces, tree });
      assert.equal(under.run.stdout, own.stdout);
      assert.equal(under.run.stderr, own.stderr);
      assert.equal(traces, 4, 'one trace per SDK call');
      const flat = (nodes, parent = null) => nodes.flatMap((n) => [{ ...n, parent }, ...flat(n.children, n.name)]);
      const spans = flat(tree);
      assert.equal(spans.length, 11);
      const parents = Object.fromEntries(spans.map((s) => [s.name, s.parent]));
      assert.equal(parents['ai.generateText.doGenerate'], 'ai.generateText');
      assert.equal(parents['ai.toolCall'], 'ai.generateText');
      assert.equal(parents['ai.streamText.doStream'], 'ai.streamText');
      assert.equal(parents['weather lookup'], 'ai.toolCall', "the app's own span inside the tool parents to the app's ai.toolCall");
      assert.ok(spans.find((s) => s.name === 'ai.streamText.doStream').events.includes('ai.stream.firstChunk'));
      assert.ok(
        spans.find((s) => s.name === 'ai.generateText.doGenerate').attributes['ai.prompt.messages'],
        'the SDK attributes reach the app',
      );
      assert.ok(
        spans.some((s) => s.status.code === 2),
        'the 429 is an error span in the app too',
      );
      // (2) llm-otel's call log: the rows of the no-provider run, with the same tree.
      const pick = (c) => [
        c.api,
        c.request_model,
        c.response_model,
        c.response_id,
        c.input_tokens,
        c.output_tokens,
        c.cost,
        c.status,
        c.http_status,
        c.stream,
        c.finish_reasons,
      ];
      const same = r.calls.filter(
        (c) =>
          c.parent_call_id !== null && (under.calls.some((y) => y.response_id === c.response_id && c.response_id) || c.status === 'error'),
      );
      assert.equal(under.calls.length, 5, '1 generate, 2 tool turns, 1 stream, 1 rate-limited');
      assert.deepEqual(under.calls.map(pick).sort(), same.map(pick).sort());
      assert.deepEqual(under.runs.map((w) => [w.kind, w.name, w.status, w.tool_call_id]).sort(), [
        ['tool', 'get_weather', 'ok', 'call_vercel_ai_weather_01'],
        ['workflow', 'generateText', 'error', null],
        ['workflow', 'generateText', 'ok', null],
        ['workflow', 'generateText', 'ok', null],
        ['workflow', 'streamText', 'ok', null],
      ]);
      for (const c of under.calls)
        assert.ok(under.runs.some((w) => w.span_id === c.parent_call_id && w.span_id === c.parent_span_id && w.trace_id === c.trace_id));
      const tool = under.runs.find((w) => w.kind === 'tool');
      const loop = under.runs.find((w) => w.span_id === tool.parent_call_id);
      assert.equal(tool.parent_span_id, loop.span_id);
      assert.equal(loop.parent_span_id, null);
      const cli = join(import.meta.dirname, '..', 'bin', 'llm-otel.js');
      const text = execFileSync(process.execPath, [cli, 'trace', loop.trace_id, '--db', under.dbPath], {
        encoding: 'utf8',
        timeout: 60_000,
        killSignal: 'SIGKILL',
      });
      assert.deepEqual(
        text
          .split('\n')
          .filter((l) => /[└├]─/.test(l))
          .map((l) => l.trim().replace(/\s{2,}.*$/, '')),
        [
          '└─ workflow generateText',
          '├─ chat gpt-4o-mini → gpt-4o-mini-2024-07-18',
          '├─ tool get_weather',
          '└─ chat gpt-4o-mini → gpt-4o-mini-2024-07-18',
        ],
      );
      assertSinksAgree(under, `own provider ${order}`);
      const ours = JSON.stringify(under.allSpans, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
      assert.doesNotMatch(ours, /Bouvet|"ai\.(prompt|response)/, 'only our GenAI spans, without content, leave by OTLP');
    } finally {
      under.cleanup();
    }
  }, 120_000);
}

test('an app with its own provider and LLM_OTEL_VERCEL_AI=off: the app gets its spans, llm-otel records none', async () => {
  const env = { OPENAI_BASE_URL: server.baseURL, APP_OWN_PROVIDER: '1' };
  const own = await runApp(app, { env, args: ['generate,tool'] });
  const off = await runWithSinks(app, {
    preload: 'import',
    openaiUrl: server.url,
    env: { ...env, LLM_OTEL_VERCEL_AI: 'off' },
    args: ['generate,tool'],
  });
  try {
    assertCleanRun(off.run, 'own provider, bridge off');
    assert.deepEqual(JSON.parse(out(off.run)['own provider tree']), JSON.parse(out(own)['own provider tree']));
    assert.equal(off.run.stdout, own.stdout);
    assert.equal(off.calls.length, 0);
    assert.equal(off.runs.length, 0);
  } finally {
    off.cleanup();
  }
}, 120_000);

test('a stream never consumed, then process.exit(): its call and run are recorded as cancelled', async () => {
  const x = await runWithSinks(app, {
    preload: 'import',
    openaiUrl: server.url,
    env: { OPENAI_BASE_URL: server.baseURL },
    args: ['abandon'],
  });
  try {
    assertCleanRun(x.run, 'abandon');
    assert.equal(x.calls.length, 1);
    assert.equal(x.calls[0].status, 'cancelled');
    assert.equal(x.calls[0].stream, 1);
    assert.deepEqual(
      x.runs.map((w) => [w.name, w.status]),
      [['streamText', 'cancelled']],
    );
  } finally {
    x.cleanup();
  }
}, 120_000);

test('another sampler (spans made when they start, not when they end): the same rows', async () => {
  const x = await runWithSinks(app, {
    preload: 'import',
    openaiUrl: server.url,
    env: { OPENAI_BASE_URL: server.baseURL, OTEL_TRACES_SAMPLER: 'always_on' },
    args: ['generate,tool'],
  });
  try {
    assertCleanRun(x.run, 'always_on');
    const pick = (c) => [c.api, c.request_model, c.response_id, c.input_tokens, c.output_tokens, c.cost, c.status, c.finish_reasons];
    const same = r.calls.filter((c) => x.calls.some((y) => y.response_id === c.response_id));
    assert.equal(x.calls.length, 3);
    assert.deepEqual(x.calls.map(pick).sort(), same.map(pick).sort());
    assert.deepEqual(x.runs.map((w) => [w.kind, w.name, w.tool_call_id]).sort(), [
      ['tool', 'get_weather', 'call_vercel_ai_weather_01'],
      ['workflow', 'generateText', null],
      ['workflow', 'generateText', null],
    ]);
    for (const c of x.calls) assert.ok(x.runs.some((w) => w.span_id === c.parent_call_id && w.span_id === c.parent_span_id));
    assertSinksAgree(x, 'always_on');
  } finally {
    x.cleanup();
  }
}, 120_000);

test('LLM_OTEL_VERCEL_AI=off: no AI SDK rows; the openai package is still recorded', async () => {
  const off = await runWithSinks(app, {
    preload: 'import',
    openaiUrl: server.url,
    env: { OPENAI_BASE_URL: server.baseURL, LLM_OTEL_VERCEL_AI: 'off' },
    args: ['generate,direct'],
  });
  try {
    assertCleanRun(off.run, 'bridge off');
    assert.equal(off.calls.length, 1);
    assert.equal(off.calls[0].api, 'chat.completions');
    assert.equal(off.runs.length, 0);
  } finally {
    off.cleanup();
  }
}, 120_000);
