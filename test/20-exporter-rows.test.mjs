// Exporter: span → rows mapping through the real OTel SDK, every column of llm_calls,
// llm_messages, llm_runs, the hourly rollup, the run-totals view, sampling, JSONL and hooks.

import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import Database from 'better-sqlite3';
import { test } from 'vitest';
import { chatAttrs, EXPORTER, emit, makeProvider, open, scratch, T0 } from './2x-helpers/spans.mjs';

const { SqliteCallLogExporter, CallLogSpanProcessor, CallLogWriter, contentLength, itemFromSpanData, spanToItem } = await import(EXPORTER);

function capture() {
  const lines = [];
  const seen = new Set();
  return {
    lines,
    warner: {
      warn(key, message) {
        if (!seen.has(key)) {
          seen.add(key);
          lines.push(message);
        }
      },
      reset(key) {
        seen.delete(key);
      },
    },
  };
}

/** Runs `fn(tracer)` against a fresh DB through an exporter (inline or worker) and returns the DB. */
async function withDb(name, fn, opts = {}) {
  const s = scratch(name);
  const path = `${s.dir}/calls.db`;
  const exporter = new SqliteCallLogExporter({ path, ...opts });
  const { provider, tracer } = makeProvider({ exporter });
  await fn(tracer);
  await provider.forceFlush();
  await provider.shutdown();
  const db = new Database(path, { readonly: true });
  return {
    db,
    path,
    dir: s.dir,
    done: () => {
      db.close();
      s.cleanup();
    },
  };
}

const calls = (db) => db.prepare('SELECT * FROM llm_calls ORDER BY id').all();
const msgs = (db, callId) => db.prepare('SELECT * FROM llm_messages WHERE call_id = ? ORDER BY direction, position').all(callId);

test('contentLength reads the truncation marker', () => {
  assert.deepEqual(contentLength('hello'), { chars: 5, truncated: false });
  assert.deepEqual(contentLength('abc…[truncated: 9000 chars]'), { chars: 9000, truncated: true });
  assert.deepEqual(contentLength('mentions …[truncated: x chars]'), { chars: 30, truncated: false });
});

test('started_at / ended_at are Date#toISOString of the floored time, across hours, years and 1970; bad times still fail', () => {
  const data = (startMs, endMs) => ({
    name: 'chat m',
    traceId: '1'.repeat(32),
    spanId: '2'.repeat(16),
    parentSpanId: null,
    serviceName: null,
    attributes: { 'gen_ai.operation.name': 'chat' },
    statusCode: 0,
    statusMessage: null,
    startMs,
    endMs,
    durationMs: endMs === null ? null : endMs - startMs,
  });
  const hour = 3_600_000;
  const times = [0, -0, 0.9, 1, -1, -0.5, 999.9, hour - 1, hour, -hour, -hour - 0.5, T0, T0 + 0.999, 1796626425265.626];
  times.push(
    Date.UTC(2026, 11, 31, 23, 59, 59, 999),
    Date.UTC(-1, 0, 1, 5, 6, 7, 8),
    Date.UTC(-271821, 3, 20),
    Date.UTC(10000, 0, 1, 2, 3, 4, 5),
  );
  times.push(8.64e15, -8.64e15, 8.64e15 - 0.5, 253402300799999, 253402300800000);
  // Deterministic pseudo-random times over ±300 years, in and out of order (the hour changes back and forth).
  let x = 12345;
  for (let i = 0; i < 500; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    times.push((x / 2147483648 - 0.5) * 2e13 + (i % 7) * 0.3);
  }
  for (const t of times) {
    for (const end of [t, t + 0.4, t + 59_999.6, null]) {
      if (end !== null && Math.abs(end) > 8.64e15) continue;
      const { call } = itemFromSpanData(data(t, end));
      assert.equal(call.started_at, new Date(Math.floor(t)).toISOString(), `started_at of ${t}`);
      assert.equal(call.ended_at, end === null ? null : new Date(Math.floor(end)).toISOString(), `ended_at of ${end}`);
    }
  }
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -Number.POSITIVE_INFINITY, 8.64e15 + 1, -8.64e15 - 1]) {
    assert.throws(() => itemFromSpanData(data(bad, null)), RangeError, `startMs ${bad}`);
  }
});

for (const worker of [false, true]) {
  test(`a chat call fills every llm_calls column (worker=${worker})`, async () => {
    let parentId;
    let traceId;
    let spanId;
    const t = await withDb(
      'cols',
      (tracer) => {
        const agent = open(tracer, {
          name: 'invoke_agent planner',
          attrs: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'planner' },
        });
        parentId = agent.spanContext().spanId;
        const span = emit(tracer, {
          parent: agent,
          durationMs: 1500.25,
          attrs: chatAttrs({
            'session.id': 'sess-1',
            'user.id': 'user-1',
            'gen_ai.agent.name': 'planner',
            'gen_ai.conversation.id': 'conv-9',
            'llm_otel.tags': ['beta', 'eu'],
            'llm_otel.metadata.env': 'prod',
            'llm_otel.metadata.team': 'search',
            'llm_otel.parent_call_id': parentId,
            'gen_ai.request.stream': true,
            'gen_ai.response.finish_reasons': ['stop', 'length'],
            'gen_ai.usage.input_tokens': 1200,
            'gen_ai.usage.output_tokens': 300,
            'gen_ai.usage.cache_read.input_tokens': 1024,
            'gen_ai.usage.reasoning.output_tokens': 128,
            'gen_ai.response.time_to_first_chunk': 0.25,
            'http.response.status_code': 200,
            'http.request.resend_count': 2,
            'llm_otel.cost': 0.0042,
            'llm_otel.currency': 'USD',
            'llm_otel.price_id': 7,
            'gen_ai.request.seed': 11,
            'openai.response.system_fingerprint': 'fp_1',
            'custom.flag': true,
            'gen_ai.tool.definitions': '[{"type":"function","name":"search"}]',
          }),
        });
        agent.end(T0 + 2000);
        traceId = span.spanContext().traceId;
        spanId = span.spanContext().spanId;
      },
      { worker },
    );
    try {
      const rows = calls(t.db);
      assert.equal(rows.length, 1);
      const { id, attributes, ...row } = rows[0];
      assert.equal(id, 1);
      assert.deepEqual(row, {
        span_id: spanId,
        trace_id: traceId,
        parent_span_id: parentId,
        parent_call_id: parentId,
        service_name: 'test-svc',
        session_id: 'sess-1',
        user_id: 'user-1',
        agent_name: 'planner',
        conversation_id: 'conv-9',
        tags: '["beta","eu"]',
        metadata: '{"env":"prod","team":"search"}',
        operation: 'chat',
        api: 'chat.completions',
        provider: 'openai',
        server_address: 'api.openai.com',
        server_port: 443,
        request_model: 'gpt-4o-mini',
        response_model: 'gpt-4o-mini-2024-07-18',
        response_id: 'chatcmpl-1',
        request_id: 'req_123',
        temperature: 0,
        top_p: 0.5,
        max_tokens: 100,
        stream: 1,
        finish_reasons: '["stop","length"]',
        input_tokens: 1200,
        output_tokens: 300,
        total_tokens: 1500,
        cached_input_tokens: 1024,
        reasoning_tokens: 128,
        usage_source: 'provider',
        cost: 0.0042,
        currency: 'USD',
        price_id: 7,
        started_at: '2026-11-22T01:02:03.456Z',
        ended_at: '2026-11-22T01:02:04.956Z',
        duration_ms: 1500.25,
        ttft_ms: 250,
        status: 'ok',
        error_type: null,
        error_message: null,
        http_status: 200,
        retry_count: 2,
        // The key of the price row price_id names in this file's model_prices: there is no row 7 here.
        price_key: null,
      });
      // Everything without a column of its own, minus message content (stored in llm_messages).
      assert.deepEqual(JSON.parse(attributes), {
        'openai.api.type': 'chat_completions',
        'gen_ai.request.seed': 11,
        'openai.response.system_fingerprint': 'fp_1',
        'custom.flag': true,
        'gen_ai.tool.definitions': '[{"type":"function","name":"search"}]',
      });
      const runs = t.db.prepare('SELECT kind, name, span_id FROM llm_runs').all();
      assert.deepEqual(runs, [{ kind: 'agent', name: 'planner', span_id: parentId }]);
    } finally {
      t.done();
    }
  });
}

test('an error call keeps status, error type, message, http status and retries; absent values are NULL', async () => {
  const t = await withDb('err', (tracer) => {
    emit(tracer, {
      error: 'Rate limit reached for gpt-4o-mini',
      attrs: chatAttrs({
        'llm_otel.status': 'error',
        'error.type': 'RateLimitError',
        'http.response.status_code': 429,
        'http.request.resend_count': 2,
        'gen_ai.usage.input_tokens': undefined,
        'gen_ai.usage.output_tokens': undefined,
        'gen_ai.response.id': undefined,
        'gen_ai.response.model': undefined,
        'gen_ai.response.finish_reasons': undefined,
        'gen_ai.output.messages': undefined,
        'llm_otel.usage_source': 'none',
        'gen_ai.request.temperature': undefined,
        'gen_ai.request.stream': undefined,
      }),
    });
    emit(tracer, {
      error: 'Request timed out.',
      attrs: chatAttrs({ 'llm_otel.status': 'timeout', 'error.type': 'APIConnectionTimeoutError' }),
    });
    emit(tracer, {
      attrs: chatAttrs({
        'llm_otel.status': 'cancelled',
        'llm_otel.error.message': 'aborted by caller',
        'error.type': 'APIUserAbortError',
      }),
    });
  });
  try {
    const [a, b, c] = calls(t.db);
    assert.equal(a.status, 'error');
    assert.equal(a.error_type, 'RateLimitError');
    assert.equal(a.error_message, 'Rate limit reached for gpt-4o-mini');
    assert.equal(a.http_status, 429);
    assert.equal(a.retry_count, 2);
    for (const col of [
      'input_tokens',
      'output_tokens',
      'total_tokens',
      'response_id',
      'response_model',
      'finish_reasons',
      'temperature',
      'ttft_ms',
      'cost',
    ]) {
      assert.equal(a[col], null, col);
    }
    assert.equal(a.stream, 0, 'a request that did not ask to stream is stored as stream = 0 (0/1, README "The local database")');
    assert.equal(a.usage_source, 'none');
    assert.deepEqual(
      msgs(t.db, a.id).map((m) => m.direction),
      ['input', 'input'],
    );
    assert.equal(b.status, 'timeout');
    assert.equal(b.error_message, 'Request timed out.');
    assert.equal(c.status, 'cancelled');
    assert.equal(c.error_message, 'aborted by caller');
  } finally {
    t.done();
  }
});

test('message rows: order, roles, text, tool calls, tool results, names, media, truncation', async () => {
  const long = 'x'.repeat(100) + '…[truncated: 5000 chars]';
  const input = [
    { role: 'developer', parts: [{ type: 'text', content: 'Use tools.' }] },
    {
      role: 'user',
      name: 'alice',
      parts: [
        { type: 'text', content: 'What is in this image?' },
        { type: 'uri', modality: 'image', uri: 'https://x.test/cat.png' },
      ],
    },
    {
      role: 'assistant',
      parts: [
        { type: 'tool_call', id: 'call_1', name: 'lookup', arguments: { q: 'cat' } },
        { type: 'tool_call', id: 'call_2', name: 'weather', arguments: '{"city":"Paris"}' },
      ],
    },
    { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_1', response: 'a cat' }] },
    { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_2', response: { temp: 21 } }] },
    {
      role: 'user',
      parts: [
        { type: 'text', content: long },
        { type: 'blob', modality: 'image', mime_type: 'image/png', content: '[base64 image/png 12345 bytes]' },
      ],
    },
  ];
  const output = [
    {
      role: 'assistant',
      parts: [
        { type: 'reasoning', content: 'thinking…' },
        { type: 'text', content: 'Done.' },
      ],
      finish_reason: 'stop',
    },
    { role: 'assistant', parts: [{ type: 'text', content: 'Alt answer' }], finish_reason: 'stop' },
  ];
  const t = await withDb('msgs', (tracer) => {
    emit(tracer, {
      attrs: chatAttrs({
        'gen_ai.system_instructions': JSON.stringify([
          { type: 'text', content: 'You are terse.' },
          { type: 'text', content: 'Never lie.' },
        ]),
        'gen_ai.input.messages': JSON.stringify(input),
        'gen_ai.output.messages': JSON.stringify(output),
      }),
    });
  });
  try {
    const callSpan = calls(t.db)[0].span_id;
    const rows = msgs(t.db, 1).map(({ call_id, call_span_id, ...m }) => {
      assert.equal(call_span_id, callSpan, 'each message names its call by span id');
      return m;
    });
    const base = { truncated: 0, tool_calls: null, tool_call_id: null, name: null, token_estimate: null, reasoning: null };
    assert.deepEqual(rows, [
      { ...base, direction: 'input', position: 0, role: 'system', content: 'You are terse.', content_chars: 14 },
      { ...base, direction: 'input', position: 1, role: 'system', content: 'Never lie.', content_chars: 10 },
      { ...base, direction: 'input', position: 2, role: 'developer', content: 'Use tools.', content_chars: 10 },
      {
        ...base,
        direction: 'input',
        position: 3,
        role: 'user',
        name: 'alice',
        content: 'What is in this image?\n[image: https://x.test/cat.png]',
        content_chars: 22 + 1 + 31,
      },
      {
        ...base,
        direction: 'input',
        position: 4,
        role: 'assistant',
        content: null,
        content_chars: null,
        tool_calls: JSON.stringify([
          { id: 'call_1', name: 'lookup', arguments: { q: 'cat' } },
          { id: 'call_2', name: 'weather', arguments: '{"city":"Paris"}' },
        ]),
      },
      { ...base, direction: 'input', position: 5, role: 'tool', content: 'a cat', content_chars: 5, tool_call_id: 'call_1' },
      { ...base, direction: 'input', position: 6, role: 'tool', content: '{"temp":21}', content_chars: 11, tool_call_id: 'call_2' },
      {
        ...base,
        direction: 'input',
        position: 7,
        role: 'user',
        content: `${long}\n[base64 image/png 12345 bytes]`,
        content_chars: 5000 + 1 + 30,
        truncated: 1,
      },
      // Reasoning has its own column: the answer stays the content.
      { ...base, direction: 'output', position: 0, role: 'assistant', content: 'Done.', content_chars: 5, reasoning: 'thinking…' },
      { ...base, direction: 'output', position: 1, role: 'assistant', content: 'Alt answer', content_chars: 10 },
    ]);
    // No content attribute is duplicated into `attributes`.
    const attrs = t.db.prepare('SELECT attributes FROM llm_calls').get().attributes;
    assert.doesNotMatch(attrs, /gen_ai\.(input|output)\.messages|system_instructions/);
  } finally {
    t.done();
  }
});

test('malformed content attributes store the call without message rows', async () => {
  const t = await withDb('bad-json', (tracer) => {
    emit(tracer, {
      attrs: chatAttrs({
        'gen_ai.input.messages': '{not json',
        'gen_ai.output.messages': '{"role":"x"}',
        'gen_ai.system_instructions': undefined,
      }),
    });
  });
  try {
    assert.equal(calls(t.db).length, 1);
    assert.equal(msgs(t.db, 1).length, 0);
  } finally {
    t.done();
  }
});

test('api falls back to openai.api.type / operation; embeddings have no messages; non-GenAI spans are ignored', async () => {
  const t = await withDb('api', (tracer) => {
    emit(tracer, { attrs: chatAttrs({ 'llm_otel.api': undefined, 'openai.api.type': 'responses' }) });
    emit(tracer, {
      attrs: {
        'gen_ai.operation.name': 'embeddings',
        'gen_ai.request.model': 'text-embedding-3-small',
        'gen_ai.usage.input_tokens': 8,
        'gen_ai.provider.name': 'openai',
      },
    });
    emit(tracer, { attrs: { 'gen_ai.operation.name': 'text_completion', 'gen_ai.request.model': 'gpt-3.5-turbo-instruct' } });
    emit(tracer, { name: 'GET /health', kind: SpanKind.SERVER, attrs: { 'http.route': '/health' } });
    emit(tracer, { attrs: { 'gen_ai.system': 'openai', 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm' } });
  });
  try {
    const rows = calls(t.db);
    assert.deepEqual(
      rows.map((r) => [r.operation, r.api, r.provider, r.total_tokens]),
      [
        ['chat', 'responses', 'openai', 25],
        ['embeddings', 'embeddings', 'openai', 8],
        ['text_completion', 'completions', null, null],
        ['chat', null, 'openai', null],
      ],
    );
    assert.equal(t.db.prepare('SELECT count(*) n FROM llm_messages WHERE call_id IN (2, 3, 4)').get().n, 0);
    assert.equal(t.db.prepare('SELECT count(*) n FROM llm_runs').get().n, 0);
  } finally {
    t.done();
  }
});

test('agent / tool / workflow spans become llm_runs rows; llm_run_totals sums every call beneath', async () => {
  const ids = {};
  const t = await withDb('runs', (tracer) => {
    const wf = open(tracer, {
      name: 'invoke_workflow triage',
      attrs: {
        'gen_ai.operation.name': 'invoke_workflow',
        'gen_ai.workflow.name': 'triage',
        'session.id': 's1',
        'user.id': 'u1',
        'llm_otel.status': 'ok',
      },
    });
    ids.wf = wf.spanContext().spanId;
    const agent = open(tracer, {
      name: 'invoke_agent planner',
      parent: wf,
      attrs: {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': 'planner',
        'session.id': 's1',
        'user.id': 'u1',
        'llm_otel.parent_call_id': ids.wf,
        'llm_otel.status': 'ok',
      },
    });
    ids.agent = agent.spanContext().spanId;
    const c1 = emit(tracer, {
      parent: agent,
      durationMs: 100,
      attrs: chatAttrs({
        'llm_otel.parent_call_id': ids.agent,
        'llm_otel.cost': 0.5,
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.response.model': 'gpt-4o-2024-08-06',
      }),
    });
    ids.c1 = c1.spanContext().spanId;
    const tool = open(tracer, {
      name: 'execute_tool lookup',
      parent: agent,
      attrs: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'lookup',
        'gen_ai.tool.call.id': 'call_1',
        'gen_ai.agent.name': 'planner',
        'llm_otel.parent_call_id': ids.agent,
      },
    });
    ids.tool = tool.spanContext().spanId;
    emit(tracer, {
      parent: tool,
      durationMs: 300,
      error: 'bad',
      attrs: chatAttrs({ 'llm_otel.parent_call_id': ids.tool, 'llm_otel.status': 'error', 'llm_otel.cost': 0.25 }),
    });
    tool.setStatus({ code: SpanStatusCode.ERROR, message: 'tool failed' });
    tool.end(T0 + 800);
    agent.end(T0 + 900);
    wf.end(T0 + 1000);
    emit(tracer, { attrs: chatAttrs() }); // unrelated call
  });
  try {
    const runs = t.db.prepare('SELECT * FROM llm_runs ORDER BY started_at, kind').all();
    const byKind = Object.fromEntries(runs.map((r) => [r.kind, r]));
    const { id: _i, trace_id, attributes, ...tool } = byKind.tool;
    assert.match(trace_id, /^[0-9a-f]{32}$/);
    assert.deepEqual(tool, {
      span_id: ids.tool,
      parent_span_id: ids.agent,
      parent_call_id: ids.agent,
      kind: 'tool',
      name: 'lookup',
      session_id: null,
      user_id: null,
      agent_name: 'planner',
      tool_call_id: 'call_1',
      started_at: '2026-11-22T01:02:03.456Z',
      ended_at: '2026-11-22T01:02:04.256Z',
      duration_ms: 800,
      status: 'error',
      error_message: 'tool failed',
    });
    assert.deepEqual(JSON.parse(attributes), { 'gen_ai.tool.name': 'lookup', 'gen_ai.agent.name': 'planner' });
    assert.equal(byKind.agent.name, 'planner');
    assert.equal(byKind.agent.session_id, 's1');
    assert.equal(byKind.agent.status, 'ok');
    assert.equal(byKind.workflow.name, 'triage');
    assert.equal(byKind.workflow.parent_call_id, null);
    const totals = Object.fromEntries(
      t.db
        .prepare('SELECT * FROM llm_run_totals')
        .all()
        .map((r) => [r.kind, r]),
    );
    assert.deepEqual(
      [
        totals.workflow.calls,
        totals.workflow.errors,
        totals.workflow.input_tokens,
        totals.workflow.cost,
        totals.workflow.avg_duration_ms,
        totals.workflow.models,
      ],
      [2, 1, 40, 0.75, 200, 'gpt-4o-2024-08-06,gpt-4o-mini-2024-07-18'],
    );
    assert.deepEqual([totals.agent.calls, totals.agent.cost], [2, 0.75]);
    assert.deepEqual([totals.tool.calls, totals.tool.errors, totals.tool.cost, totals.tool.models], [1, 1, 0.25, 'gpt-4o-mini-2024-07-18']);
  } finally {
    t.done();
  }
});

test('llm_usage_hourly equals the sums of llm_calls per key (NULL-safe cost, "" for missing keys)', async () => {
  const t = await withDb(
    'rollup',
    (tracer) => {
      for (let i = 0; i < 300; i++) {
        emit(tracer, {
          start: T0 + (i % 3) * 3_600_000 + i,
          durationMs: 10 + i,
          error: i % 7 === 0 ? 'failed' : undefined,
          attrs: chatAttrs({
            'gen_ai.request.model': i % 2 ? 'gpt-4o' : 'gpt-4o-mini',
            'user.id': i % 5 === 0 ? undefined : `u${i % 3}`,
            'gen_ai.agent.name': i % 4 === 0 ? 'planner' : undefined,
            'llm_otel.status': i % 7 === 0 ? 'error' : 'ok',
            'llm_otel.cost': i % 2 ? 0.001 * i : undefined,
            'gen_ai.usage.input_tokens': i % 11 === 0 ? undefined : 10 + i,
            'gen_ai.usage.output_tokens': i,
          }),
        });
      }
    },
    { maxBatchSize: 64 },
  );
  try {
    const expected = t.db
      .prepare(`
      SELECT substr(started_at, 1, 13) || ':00:00.000Z' AS hour, coalesce(service_name, '') AS service_name,
        coalesce(provider, '') AS provider, coalesce(request_model, '') AS model, coalesce(user_id, '') AS user_id,
        coalesce(agent_name, '') AS agent_name, count(*) AS calls, sum(status <> 'ok') AS errors,
        coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(output_tokens), 0) AS output_tokens,
        round(sum(cost), 9) AS cost, round(sum(duration_ms), 6) AS duration_ms_sum, max(duration_ms) AS duration_ms_max
      FROM llm_calls GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6`)
      .all();
    const actual = t.db
      .prepare(`SELECT hour, service_name, provider, model, user_id, agent_name, calls, errors, input_tokens, output_tokens,
        round(cost, 9) AS cost, round(duration_ms_sum, 6) AS duration_ms_sum, duration_ms_max FROM llm_usage_hourly ORDER BY 1, 2, 3, 4, 5, 6`)
      .all();
    assert.equal(
      actual.reduce((s, r) => s + r.calls, 0),
      300,
    );
    assert.ok(
      actual.some((r) => r.cost === null),
      'a key with only unpriced calls keeps cost NULL',
    );
    assert.ok(actual.some((r) => r.user_id === '' && r.agent_name === ''));
    assert.deepEqual(actual, expected);
  } finally {
    t.done();
  }
});

test('the same span exported twice is stored and counted once', async () => {
  const s = scratch('dup');
  const w = new CallLogWriter({ path: `${s.dir}/d.db` });
  const { InMemorySpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const mem = new InMemorySpanExporter();
  const { tracer } = makeProvider({ processor: new SimpleSpanProcessor(mem) });
  emit(tracer, {});
  const span = mem.getFinishedSpans()[0];
  assert.equal(w.writeBatch([spanToItem(span)]), true);
  assert.equal(w.writeBatch([spanToItem(span)]), true);
  assert.equal(w.db.prepare('SELECT count(*) n FROM llm_calls').get().n, 1);
  assert.equal(w.db.prepare('SELECT count(*) n FROM llm_messages').get().n, 3);
  assert.equal(w.db.prepare('SELECT calls FROM llm_usage_hourly').get().calls, 1);
  w.close();
  s.cleanup();
});

test('sampling keeps a trace-consistent fraction of ok calls, every error and every run; the rollup counts all', async () => {
  const t = await withDb(
    'sample',
    (tracer) => {
      for (let i = 0; i < 400; i++) {
        const root = open(tracer, { name: 'invoke_agent a', attrs: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'a' } });
        emit(tracer, { parent: root, attrs: chatAttrs({ 'gen_ai.response.id': `r${i}a` }) });
        emit(tracer, { parent: root, attrs: chatAttrs({ 'gen_ai.response.id': `r${i}b` }) });
        if (i % 10 === 0) emit(tracer, { parent: root, error: 'x', attrs: chatAttrs({ 'llm_otel.status': 'error' }) });
        root.end(T0 + 5000);
      }
    },
    { sampleRate: 0.25 },
  );
  try {
    const perTrace = t.db.prepare("SELECT trace_id, count(*) n FROM llm_calls WHERE status = 'ok' GROUP BY trace_id").all();
    assert.ok(
      perTrace.every((r) => r.n === 2),
      'ok calls of a trace are kept or dropped together',
    );
    const kept = perTrace.length;
    assert.ok(kept > 60 && kept < 140, `about 25% of 400 traces kept, got ${kept}`);
    assert.equal(t.db.prepare("SELECT count(*) n FROM llm_calls WHERE status <> 'ok'").get().n, 40);
    assert.equal(t.db.prepare('SELECT count(*) n FROM llm_runs').get().n, 400);
    assert.equal(t.db.prepare('SELECT sum(calls) n FROM llm_usage_hourly').get().n, 840);
    assert.equal(t.db.prepare('SELECT sum(errors) n FROM llm_usage_hourly').get().n, 40);
    // Deterministic: another writer decides the same for the same trace ids.
    const w = new CallLogWriter({ path: null, sampleRate: 0.25 });
    const sample = t.db
      .prepare('SELECT DISTINCT trace_id FROM llm_runs')
      .all()
      .map((r) => r.trace_id);
    const keptSet = new Set(perTrace.map((r) => r.trace_id));
    for (const id of sample) assert.equal(w.keeps({ status: 'ok', trace_id: id }), keptSet.has(id));
  } finally {
    t.done();
  }
});

test('sampleRate 0 keeps errors only; JSONL gets one object per kept call, mode 0600', async () => {
  const s = scratch('jsonl');
  const jsonl = `${s.dir}/calls.jsonl`;
  const t = await withDb(
    'jsonl-db',
    (tracer) => {
      emit(tracer, { attrs: chatAttrs({ 'llm_otel.tags': ['x'], 'gen_ai.response.id': 'ok-1' }) });
      emit(tracer, {
        error: 'nope',
        attrs: chatAttrs({ 'llm_otel.status': 'error', 'gen_ai.response.id': 'err-1', 'llm_otel.metadata.k': 'v' }),
      });
      emit(tracer, { attrs: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 't' } });
    },
    { sampleRate: 0, jsonl },
  );
  try {
    assert.deepEqual(
      calls(t.db).map((r) => r.response_id),
      ['err-1'],
    );
    const lines = readFileSync(jsonl, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 1);
    const [obj] = lines;
    assert.equal(obj.response_id, 'err-1');
    assert.equal(obj.status, 'error');
    assert.deepEqual(obj.metadata, { k: 'v' });
    assert.deepEqual(obj.finish_reasons, ['stop']);
    assert.equal(obj.messages.length, 3);
    assert.deepEqual(
      obj.messages.map((m) => [m.direction, m.position, m.role, m.content]),
      [
        ['input', 0, 'system', 'Be brief.'],
        ['input', 1, 'user', 'Hi'],
        ['output', 0, 'assistant', 'Hello!'],
      ],
    );
    assert.equal(statSync(jsonl).mode & 0o777, 0o600);
  } finally {
    t.done();
    s.cleanup();
  }
});

test('hooks: price applies only without llm_otel.cost, estimateTokens fills token_estimate, failing hooks warn once', async () => {
  const seen = [];
  const t = await withDb(
    'hooks',
    (tracer) => {
      emit(tracer, { attrs: chatAttrs({ 'gen_ai.response.id': 'unpriced' }) });
      emit(tracer, { attrs: chatAttrs({ 'gen_ai.response.id': 'priced', 'llm_otel.cost': 9, 'llm_otel.currency': 'EUR' }) });
    },
    {
      price: (call, db) => {
        seen.push([call.response_id, db !== null]);
        return { cost: 0.5, currency: 'USD', priceId: 3 };
      },
      estimateTokens: (text, model) => text.length * 10 + (model === 'gpt-4o-mini-2024-07-18' ? 1 : 0),
    },
  );
  try {
    assert.deepEqual(seen, [['unpriced', true]]);
    assert.deepEqual(
      calls(t.db).map((r) => [r.response_id, r.cost, r.currency, r.price_id]),
      [
        ['unpriced', 0.5, 'USD', 3],
        ['priced', 9, 'EUR', null],
      ],
    );
    assert.deepEqual(
      msgs(t.db, 1).map((m) => m.token_estimate),
      [91, 21, 61],
    );
    // One hourly row per currency: USD and EUR are never summed together.
    assert.deepEqual(
      t.db
        .prepare('SELECT currency, cost FROM llm_usage_hourly ORDER BY currency')
        .all()
        .map((r) => [r.currency, r.cost]),
      [
        ['EUR', 9],
        ['USD', 0.5],
      ],
    );
  } finally {
    t.done();
  }

  const cap = capture();
  const t2 = await withDb(
    'hooks-throw',
    (tracer) => {
      emit(tracer, {});
      emit(tracer, {});
    },
    {
      warner: cap.warner,
      price: () => {
        throw new Error('no table');
      },
      estimateTokens: () => {
        throw new Error('no encoder');
      },
    },
  );
  try {
    assert.equal(calls(t2.db).length, 2);
    assert.equal(cap.lines.length, 2, cap.lines.join('\n'));
    assert.match(cap.lines.join('\n'), /pricing a call failed \(no table\)/);
    assert.match(cap.lines.join('\n'), /estimating tokens failed \(no encoder\)/);
  } finally {
    t2.done();
  }
});

test("estimateTokens: 'builtin' uses llm-otel's tokenizer on the writer thread", async () => {
  const t = await withDb(
    'builtin-tokens',
    (tracer) => {
      emit(tracer, {
        attrs: chatAttrs({
          'gen_ai.input.messages': JSON.stringify([
            { role: 'user', parts: [{ type: 'text', content: 'hello world, hello world, hello world' }] },
          ]),
        }),
      });
    },
    { estimateTokens: 'builtin' },
  );
  try {
    const est = msgs(t.db, 1).map((m) => m.token_estimate);
    assert.equal(est.length, 3);
    assert.ok(
      est.every((n) => Number.isInteger(n) && n > 0),
      JSON.stringify(est),
    );
    assert.ok(est[1] >= 6 && est[1] <= 12, `"hello world" ×3 is about 8 tokens, got ${est[1]}`);
  } finally {
    t.done();
  }
});

test('CallLogSpanProcessor writes through the writer thread and flushSync waits for it', async () => {
  const s = scratch('proc');
  const path = `${s.dir}/p.db`;
  const processor = new CallLogSpanProcessor({ path, flushIntervalMs: 60_000 });
  assert.equal(processor.sink.threaded, true);
  const { provider, tracer } = makeProvider({ processor });
  for (let i = 0; i < 1234; i++) emit(tracer, { attrs: chatAttrs({ 'gen_ai.response.id': `r${i}` }) });
  emit(tracer, { name: 'not genai', attrs: { foo: 1 } });
  assert.equal(processor.flushSync(), true);
  const db = new Database(path, { readonly: true });
  assert.equal(db.prepare('SELECT count(*) n FROM llm_calls').get().n, 1234);
  assert.equal(db.prepare('SELECT count(DISTINCT response_id) n FROM llm_calls').get().n, 1234);
  db.close();
  await provider.shutdown();
  await processor.shutdown(); // idempotent
  s.cleanup();
});

test('SpanExporter contract: callback SUCCESS, FAILED after shutdown, shutdown idempotent', async () => {
  const s = scratch('contract');
  const exporter = new SqliteCallLogExporter({ path: `${s.dir}/c.db`, worker: false });
  const { InMemorySpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const mem = new InMemorySpanExporter();
  const { tracer } = makeProvider({ processor: new SimpleSpanProcessor(mem) });
  emit(tracer, {});
  const results = [];
  exporter.export(mem.getFinishedSpans(), (r) => results.push(r.code));
  await exporter.forceFlush();
  await exporter.shutdown();
  await exporter.shutdown();
  exporter.export(mem.getFinishedSpans(), (r) => results.push(r.code));
  assert.deepEqual(results, [0, 1]);
  const db = new Database(`${s.dir}/c.db`, { readonly: true });
  assert.equal(db.prepare('SELECT count(*) n FROM llm_calls').get().n, 1);
  db.close();
  s.cleanup();
});
