// LLM calls finished on the writer thread (src/pipeline/finisher.ts) versus on the app's thread: the
// same calls, run once each way in this process against the loopback OpenAI server, must give the
// same spans over OTLP (every attribute, status, kind, parent) and the same call-log rows. Also: what
// is recorded is the request as sent, even when the app changes its messages right after the call.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import Database from 'better-sqlite3';
import { afterAll as after, beforeAll as before, test } from 'vitest';
import { startOpenAIServer } from './helpers/openai-server.mjs';
import { startOtlpReceiver } from './helpers/otlp-receiver.mjs';

const require = createRequire(import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'llm-otel-offload-'));
const QUESTION = 'Answer in up to 3 words: Which ocean contains Bouvet Island?';
const VOLATILE = new Set(['llm_otel.request_id', 'gen_ai.response.time_to_first_chunk']);

let server;
let rx;
let llm;
let OpenAI;
const outcome = {}; // mode → { spans, rows, sent }

/** The calls both modes make; each under its own remote parent so the spans can be told apart. */
async function scenario(client, mode) {
  const parentOf = (n) =>
    trace.setSpanContext(ROOT_CONTEXT, {
      traceId: `${mode === 'worker' ? 'a' : 'b'}${String(n).padStart(31, '0')}`,
      spanId: `${String(n).padStart(16, '0')}`,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      // One parent carries vendor trace state: the call's span inherits it.
      traceState: n === 2 ? new TraceState('vendor=abc,other=1') : undefined,
    });
  const run = (n, fn) => context.with(parentOf(n), fn);
  const messages = [
    { role: 'system', content: 'Reply briefly. Contact: ops@example.com' },
    { role: 'user', content: QUESTION },
  ];
  const sent = JSON.parse(JSON.stringify(messages));
  const r1 = await run(1, () =>
    llm.withLlmContext({ sessionId: 's-1', userId: 'u-1', tags: ['t'], metadata: { n: 1, f: () => 1 } }, () =>
      client.chat.completions.create(
        { model: 'gpt-4o-mini', messages, temperature: 0.2 },
        { headers: { 'x-fixture': 'openai-chat-completions-adds-genai-conventions-with-system-message' } },
      ),
    ),
  );
  // The app keeps the conversation going in the same array and edits the message it sent.
  messages.push(r1.choices[0].message);
  messages[1].content = 'changed after the call';
  await run(2, async () => {
    const s = await client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: QUESTION }], stream: true, stream_options: { include_usage: true } },
      { headers: { 'x-fixture': 'openai-streaming-chat-completions-records-usage' } },
    );
    for await (const c of s) void c;
  });
  await run(3, () =>
    client.chat.completions
      .create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: QUESTION }] },
        { headers: { 'x-fixture': 'openai-chat-completions-adds-genai-conventions', 'x-scenario': 'error:400' } },
      )
      .catch(() => undefined),
  );
  await run(4, () =>
    client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: QUESTION }] },
      { headers: { 'x-fixture': 'openai-chat-completions-adds-genai-conventions', 'x-scenario': 'fail:500:1' }, maxRetries: 2 },
    ),
  );
  return sent;
}

async function runMode(mode) {
  const db = join(dir, `${mode}.db`);
  const handle = llm.start({
    config: { db, otlp: true, otlpProtocol: 'http/protobuf', captureContent: 'all' },
    offload: mode === 'worker',
    exitHooks: false,
  });
  llm.instrumentOpenAI(OpenAI);
  const rt = globalThis[Symbol.for('llm-otel.runtime')];
  assert.equal(
    typeof rt.offload === 'function',
    mode === 'worker',
    `${mode}: calls finished on the ${mode === 'worker' ? 'writer' : 'app'} thread`,
  );
  const client = new OpenAI.OpenAI({ baseURL: server.url, apiKey: 'sk-offload-test-0123456789abcdef', maxRetries: 0 });
  const sent = await scenario(client, mode);
  await handle.forceFlush();
  // What a serverless handler relies on: after forceFlush() resolves, the calls have been sent.
  const prefix = mode === 'worker' ? 'a' : 'b';
  const flushed = rx.spans.filter((s) => s.scope.name === 'llm-otel' && s.traceId.startsWith(prefix)).length;
  await handle.shutdown();
  const conn = new Database(db, { readonly: true });
  const rows = conn.prepare('SELECT * FROM llm_calls ORDER BY trace_id').all();
  const messages = conn
    .prepare('SELECT m.* FROM llm_messages m JOIN llm_calls c ON c.id = m.call_id ORDER BY c.trace_id, m.direction, m.position')
    .all();
  conn.close();
  return { sent, rows, messages, flushed };
}

before(async () => {
  server = await startOpenAIServer();
  rx = await startOtlpReceiver();
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = rx.url; // read by the OTLP exporter on either thread
  llm = await import('../dist/esm/src/index.js');
  OpenAI = require('openai');
  for (const mode of ['worker', 'app']) outcome[mode] = await runMode(mode);
  await rx.settle();
  for (const mode of ['worker', 'app']) {
    const prefix = mode === 'worker' ? 'a' : 'b';
    outcome[mode].spans = rx.spans
      .filter((s) => s.scope.name === 'llm-otel' && s.traceId.startsWith(prefix))
      .sort((x, y) => (x.traceId < y.traceId ? -1 : 1));
  }
});

after(async () => {
  await server?.close();
  await rx?.close();
  rmSync(dir, { recursive: true, force: true });
});

const stable = (attrs) => Object.fromEntries(Object.entries(attrs).filter(([k]) => !VOLATILE.has(k)));

test('forceFlush() resolves after the calls made before it were exported, either way', () => {
  assert.equal(outcome.worker.flushed, 4);
  assert.equal(outcome.app.flushed, 4);
});

test('the writer thread and the app thread produce the same spans', () => {
  const w = outcome.worker.spans;
  const a = outcome.app.spans;
  assert.equal(w.length, 4, `writer-thread spans: ${w.map((s) => s.name)}`);
  assert.equal(a.length, 4);
  for (let i = 0; i < 4; i++) {
    assert.equal(w[i].name, a[i].name);
    assert.equal(w[i].kindName, 'CLIENT');
    assert.equal(w[i].kindName, a[i].kindName);
    assert.equal(w[i].parentSpanId, a[i].parentSpanId);
    assert.equal(w[i].traceState, a[i].traceState);
    assert.equal(w[i].flags, a[i].flags);
    assert.deepEqual(w[i].scope, a[i].scope);
    assert.deepEqual(w[i].status, a[i].status);
    assert.deepEqual(w[i].resource, a[i].resource);
    assert.deepEqual(stable(w[i].attributes), stable(a[i].attributes), `span ${i} (${w[i].name})`);
    const dur = (s) => Number(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)) / 1e6;
    assert.ok(dur(w[i]) > 0 && dur(w[i]) < 10_000, `span ${i} has a plausible duration (${dur(w[i])} ms)`);
  }
  // What the calls are, so equality is not equality of two empty maps.
  assert.equal(w[0].attributes['session.id'], 's-1');
  assert.equal(w[0].attributes['llm_otel.metadata.n'], 1);
  assert.equal('llm_otel.metadata.f' in w[0].attributes, false, 'a function in metadata is not an attribute value');
  assert.equal(w[0].attributes['gen_ai.usage.input_tokens'] > 0, true);
  assert.equal(typeof w[0].attributes['llm_otel.cost'], 'number');
  assert.equal(w[1].attributes['gen_ai.request.stream'], true);
  assert.equal(w[1].traceState, 'vendor=abc,other=1');
  assert.equal(w[0].flags, 0x301, 'sampled, remote parent (OTLP span flags)');
  assert.equal(w[2].attributes['llm_otel.status'], 'error');
  assert.equal(w[2].status.codeName, 'ERROR');
  assert.equal(w[3].attributes['http.request.resend_count'], 1);
});

test('the recorded prompt is the request as sent, not the array the app changed afterwards', () => {
  const input = JSON.parse(outcome.worker.spans[0].attributes['gen_ai.input.messages']);
  assert.deepEqual(
    input.map((m) => m.role),
    ['system', 'user'],
    'the two messages sent, not the three the array holds now',
  );
  assert.equal(input[1].parts[0].content, outcome.worker.sent[1].content);
  assert.equal(input[0].parts[0].content, 'Reply briefly. Contact: [EMAIL]', 'redacted on the writer thread too');
  assert.deepEqual(outcome.worker.spans[0].attributes['gen_ai.input.messages'], outcome.app.spans[0].attributes['gen_ai.input.messages']);
});

test('both ways write the same call-log rows, with the same ids as the spans', () => {
  const pick = (r) => {
    const { id, trace_id, span_id, started_at, ended_at, duration_ms, request_id, ttft_ms, parent_span_id, created_at, ...rest } = r;
    return rest;
  };
  const w = outcome.worker;
  const a = outcome.app;
  assert.equal(w.rows.length, 4);
  assert.deepEqual(w.rows.map(pick), a.rows.map(pick));
  assert.deepEqual(
    w.rows.map((r) => r.span_id),
    w.spans.map((s) => s.spanId),
  );
  const msg = (m) => ({ direction: m.direction, position: m.position, role: m.role, content: m.content });
  assert.deepEqual(w.messages.map(msg), a.messages.map(msg));
  assert.ok(w.messages.length >= 8);
});

test('a plain instrumented app never switches on AsyncLocalStorage promise hooks; withLlmContext does', async () => {
  const { spawn } = await import('node:child_process');
  const { pathToFileURL } = await import('node:url');
  const register = pathToFileURL(join(process.cwd(), 'dist/esm/src/register.esm.js')).href;
  // A new promise carries AsyncLocalStorage's symbol slots only while its promise hooks are on.
  const app = (withContext) => `
    import OpenAI from 'openai';
    import { withLlmContext } from ${JSON.stringify(pathToFileURL(join(process.cwd(), 'dist/esm/src/index.js')).href)};
    const client = new OpenAI({ baseURL: process.env.URL, apiKey: 'sk-x', maxRetries: 2 });
    const shared = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
    const ask = (h, params = { ...shared }) => client.chat.completions.create(params, { headers: { 'x-fixture': 'openai-chat-completions-adds-genai-conventions', ...h } });
    // Sequential, then two at once (one retried) sharing one params object: attempts go to the right call.
    const go = async () => {
      await ask({}); await ask({ 'x-scenario': 'fail:500:1' });
      await Promise.all([ask({ 'x-scenario': 'fail:500:2' }, shared), ask({}, shared)]);
    };
    ${withContext ? "await withLlmContext({ sessionId: 's' }, go);" : 'await go();'}
    console.log(JSON.stringify({ slots: Object.getOwnPropertySymbols(new Promise(() => {})).length }));`;
  // Asynchronously: the OpenAI server answering the child runs in this process.
  const run = (withContext) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', register, '--input-type=module', '-e', app(withContext)], {
        cwd: process.cwd(),
        env: { ...process.env, URL: server.url, LLM_OTEL_DB: join(dir, `hooks-${withContext}.db`), OTEL_TRACES_EXPORTER: 'none' },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.stderr.on('data', (d) => {
        err += d;
      });
      child.on('error', reject);
      child.on('close', (code) => {
        try {
          assert.equal(code, 0, err);
          resolve({ ...JSON.parse(out.trim().split('\n').pop()), db: join(dir, `hooks-${withContext}.db`) });
        } catch (e) {
          reject(e);
        }
      });
    });
  const plain = await run(false);
  const ctx = await run(true);
  assert.equal(plain.slots, 0, 'promise hooks were switched on by an instrumented call');
  assert.ok(ctx.slots > 0, 'the probe sees hooks once withLlmContext ran');
  // Without a context the retry is still counted (request handoff) and the call still recorded.
  for (const r of [plain, ctx]) {
    const conn = new Database(r.db, { readonly: true });
    const rows = conn.prepare('SELECT status, retry_count AS retries FROM llm_calls ORDER BY id').all();
    conn.close();
    assert.deepEqual(rows.slice(0, 2), [
      { status: 'ok', retries: 0 },
      { status: 'ok', retries: 1 },
    ]);
    assert.deepEqual(
      rows
        .slice(2)
        .map((r) => r.retries)
        .sort(),
      [0, 2],
    );
  }
});

test('an embeddings response crosses to the writer thread without its vectors', async () => {
  const { forTransfer, endAttributes } = await import('../dist/esm/src/finish/finish.js');
  const vectors = Array.from({ length: 100 }, (_, i) => ({
    object: 'embedding',
    index: i,
    embedding: Array.from({ length: 1536 }, () => Math.random()),
  }));
  const rec = {
    rec: 1,
    api: 'embeddings',
    server: { provider: 'openai' },
    llm: {},
    traceId: '1'.repeat(32),
    spanId: '1'.repeat(16),
    started: 0,
    ended: 1,
    status: 'ok',
    hasResult: true,
    attempts: 1,
    bodyJson: JSON.stringify({ model: 'text-embedding-3-small', input: ['a', 'b'] }),
    model: 'text-embedding-3-small',
    result: { object: 'list', data: vectors, model: 'text-embedding-3-small', usage: { prompt_tokens: 8, total_tokens: 8 } },
  };
  forTransfer(rec);
  assert.equal(rec.result, undefined);
  assert.ok(rec.resultJson.length < 200, `${rec.resultJson.length} characters cross the thread boundary`);
  const attrs = {};
  endAttributes(rec, attrs, { tracer: () => undefined, captureContent: false, content: { redact: (s) => s, maxChars: 100 } });
  assert.equal(attrs['gen_ai.response.model'], 'text-embedding-3-small');
  assert.equal(attrs['gen_ai.usage.input_tokens'], 8);
});

test('attribute limits from the environment apply to spans finished on the writer thread', async () => {
  // With OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT set, spans go through the SDK's Span (which applies
  // it) instead of being built directly.
  process.env.OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT = '12';
  try {
    const handle = llm.start({
      config: { db: null, otlp: true, otlpProtocol: 'http/protobuf', captureContent: 'all' },
      offload: true,
      exitHooks: false,
    });
    llm.instrumentOpenAI(OpenAI);
    assert.equal(typeof globalThis[Symbol.for('llm-otel.runtime')].offload, 'function', 'finished on the writer thread');
    const client = new OpenAI.OpenAI({ baseURL: server.url, apiKey: 'sk-test', maxRetries: 0 });
    const parent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: 'c'.repeat(32),
      spanId: '1'.repeat(16),
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    await context.with(parent, () =>
      client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: QUESTION }] },
        { headers: { 'x-fixture': 'openai-chat-completions-adds-genai-conventions' } },
      ),
    );
    await handle.forceFlush();
    await handle.shutdown();
    const span = (await rx.waitForSpans(1, { filter: (s) => s.traceId === 'c'.repeat(32) }))[0];
    assert.equal(span.attributes['gen_ai.input.messages'].length, 12);
    assert.equal(span.attributes['gen_ai.request.model'], 'gpt-4o-mini', 'shorter values are kept whole');
  } finally {
    delete process.env.OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT;
  }
});

test('a stream never read ends as cancelled once it is garbage-collected', async () => {
  const v8 = await import('node:v8');
  const vm = await import('node:vm');
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  const db = join(dir, 'gc.db');
  const handle = llm.start({ config: { db, otlp: false, captureContent: 'none' }, exitHooks: false });
  llm.instrumentOpenAI(OpenAI);
  const client = new OpenAI.OpenAI({ baseURL: server.url, apiKey: 'sk-test', maxRetries: 0 });
  const ask = () =>
    client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: QUESTION }], stream: true },
      { headers: { 'x-fixture': 'openai-streaming-chat-completions-adds-genai-conventions' } },
    );
  // One read to the end (its registration is dropped when it ends), one never read.
  for await (const c of await ask()) void c;
  await (async () => {
    await ask();
  })();
  for (let i = 0; i < 20; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
    await handle.forceFlush();
    const conn = new Database(db, { readonly: true });
    const rows = conn.prepare('SELECT status FROM llm_calls ORDER BY id').all();
    conn.close();
    if (rows.length === 2) {
      assert.deepEqual(
        rows.map((r) => r.status),
        ['ok', 'cancelled'],
      );
      await handle.shutdown();
      return;
    }
  }
  await handle.shutdown();
  assert.fail('the unread stream was not ended after garbage collection');
});

test('a call with more attributes than the default limit keeps 128, as the SDK would, on the writer thread', async () => {
  const handle = llm.start({
    config: { db: null, otlp: true, otlpProtocol: 'http/protobuf', captureContent: 'none' },
    offload: true,
    exitHooks: false,
  });
  llm.instrumentOpenAI(OpenAI);
  const client = new OpenAI.OpenAI({ baseURL: server.url, apiKey: 'sk-test', maxRetries: 0 });
  const parent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: 'd'.repeat(32),
    spanId: '2'.repeat(16),
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
  });
  const metadata = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, i]));
  await context.with(parent, () =>
    llm.withLlmContext({ metadata }, () =>
      client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: QUESTION }] },
        { headers: { 'x-fixture': 'openai-chat-completions-adds-genai-conventions' } },
      ),
    ),
  );
  await handle.forceFlush();
  await handle.shutdown();
  const span = (await rx.waitForSpans(1, { filter: (s) => s.traceId === 'd'.repeat(32) }))[0];
  assert.equal(Object.keys(span.attributes).length, 128);
  assert.equal(span.attributes['gen_ai.operation.name'], 'chat', 'the first attributes are kept');
});

test("on the writer thread, rows are made from the finisher's own message lists: the same rows as parsing the span's content", async () => {
  const { createFinisher } = await import('../dist/esm/src/pipeline/finisher.js');
  const { itemFromSpanData, itemWithSize, toSpanData } = await import('../dist/esm/exporter/rows.js');
  const record = (n, api, body, result) => ({
    rec: 1,
    api,
    server: { provider: 'openai' },
    llm: {},
    traceId: String(n).padStart(32, 'e'),
    spanId: String(n).padStart(16, 'e'),
    started: T_START,
    ended: T_START + 5,
    status: 'ok',
    hasResult: true,
    attempts: 1,
    body,
    result,
    model: body.model,
  });
  const T_START = Date.UTC(2026, 11, 7, 6);
  const records = [
    record(
      1,
      'chat.completions',
      {
        model: 'gpt-4o-mini',
        messages: [
          { role: 'system', content: 'Be brief. Write to ops@example.com' },
          {
            role: 'user',
            name: 'ann',
            content: [
              { type: 'text', text: 'What is in this image?' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==' } },
              { type: 'image_url', image_url: { url: 'https://img.test/a.png?sig=abc' } },
            ],
          },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x","n":1.5e300,"d":[1,{"e":null}]}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '{"ok":true,"at":"2020-01-01"}' },
          {
            role: 'tool',
            tool_call_id: 'call_2',
            content: [
              { type: 'text', text: 'part one' },
              { type: 'text', text: 'part two' },
            ],
          },
          { role: 'user', content: `long ${'x'.repeat(6000)}` },
        ],
      },
      {
        id: 'chatcmpl-1',
        model: 'gpt-4o-mini',
        choices: [
          {
            index: 0,
            finish_reason: 'tool_calls',
            message: {
              role: 'assistant',
              content: 'calling',
              tool_calls: [{ id: 'call_3', type: 'function', function: { name: 'f', arguments: 'not json {' } }],
            },
          },
        ],
        usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
      },
    ),
    record(
      2,
      'responses',
      {
        model: 'gpt-4o-mini',
        instructions: 'Answer as a pirate.',
        input: [
          {
            role: 'user',
            content: [
              { type: 'input_text', text: 'hi' },
              { type: 'input_file', file_id: 'file-1' },
            ],
          },
          { type: 'function_call', call_id: 'c1', name: 'g', arguments: '{"a":1}' },
          { type: 'function_call_output', call_id: 'c1', output: '{"a": 2, "when": "now"}' },
        ],
      },
      {
        id: 'resp_1',
        object: 'response',
        model: 'gpt-4o-mini',
        status: 'completed',
        output: [
          { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'thinking' }] },
          {
            type: 'message',
            id: 'msg_1',
            role: 'assistant',
            status: 'completed',
            content: [{ type: 'output_text', text: 'Ahoy', annotations: [] }],
          },
          { type: 'function_call', id: 'fc_1', call_id: 'c2', name: 'h', arguments: '{"z":[1,2]}', status: 'completed' },
        ],
        usage: { input_tokens: 3, output_tokens: 4, total_tokens: 7 },
      },
    ),
  ];
  const made = new Map();
  const seen = [];
  const finisher = createFinisher(
    {
      captureContent: true,
      maxContentChars: 4096,
      redact: { mode: 'default', patterns: [] },
      keepContext: [],
      estimateTokens: true,
      prices: { path: null, overrides: null },
      otlp: null,
    },
    (span) => seen.push({ data: toSpanData(span), made: new Map(made) }),
    undefined,
    (attribute, text, value) => made.set(attribute, { text, value }),
  );
  for (const r of records) {
    finisher.finish(r);
    made.clear();
  }
  await finisher.shutdown();
  assert.equal(seen.length, records.length);
  let toolRows = 0;
  for (const { data, made: lists } of seen) {
    const keys = ['gen_ai.system_instructions', 'gen_ai.input.messages', 'gen_ai.output.messages'].filter((k) => data.attributes[k]);
    assert.ok(
      keys.length >= 2 && keys.every((k) => lists.get(k)?.text === data.attributes[k]),
      'every message attribute was handed over with its list',
    );
    const fromLists = itemWithSize(data, lists).item;
    assert.deepEqual(fromLists, itemFromSpanData(data));
    toolRows += fromLists.messages.filter((m) => m.tool_calls !== null || m.tool_call_id !== null).length;
  }
  assert.ok(toolRows >= 4, `tool calls and results were among the rows (${toolRows})`);
});
