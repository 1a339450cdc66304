// A hostile or broken provider (issue #10): what it sends can cost llm-otel at most linear work in
// its bytes, is stored capped with a marker, and never changes what the app sees.
//
// Unit: the stream accumulators and summarizers with hostile chunks (indices 2e9, negative,
// fractional, strings; thousands of distinct indices), capped fields, the per-call content budget,
// invalid usage, parts of unknown types. Process level: an app on openai 4 and 6 against a
// loopback server serving those responses, with and without `--import llm-otel/register`: same
// output, bounded exit, and the call-log rows capped with markers.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll as after, beforeAll as before, describe, test } from 'vitest';
import { installApp } from './helpers/matrix.mjs';
import { startOpenAIServer } from './helpers/openai-server.mjs';
import { runApp } from './helpers/run-app.mjs';

const { chatAdapter } = await import('../dist/esm/src/adapters/chat.js');
const { completionsAdapter } = await import('../dist/esm/src/adapters/completions.js');
const { responsesAdapter } = await import('../dist/esm/src/adapters/responses.js');
const { callAttributes } = await import('../dist/esm/src/finish/finish.js');
const { tokenEstimator } = await import('../dist/esm/src/finish/estimate.js');
const tokens = await import('../dist/esm/src/tokens/index.js');
const { chatRequestContent, chatResponseOutput, toolDefinitions, capField, MAX_FIELD_CHARS, callContentBudget } = await import(
  '../dist/esm/src/content/index.js'
);
const { itemFromSpanData } = await import('../dist/esm/exporter/rows.js');
const { resetWarning, setWarnSink } = await import('../dist/esm/src/core/warn.js');

const warnings = [];
setWarnSink((m) => warnings.push(m));

const MARKER = /…\[truncated: (\d+) chars\]$/;
const plain = { redact: (s) => s, maxChars: 4096 };
const budgeted = () => ({ ...plain, budget: callContentBudget(plain.maxChars) });
const chunk = (choices, extra = {}) => ({
  id: 'chatcmpl-hostile',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'gpt-4o-mini',
  choices,
  ...extra,
});
const toolDelta = (index, id, name, args, choice = 0) => ({
  index: choice,
  delta: { tool_calls: [{ index, id, type: 'function', function: { name, arguments: args } }] },
});

/** Letters without a space: one pre-token, whose byte-pair encoding costs its length squared. */
const LONG_WORD = (() => {
  let seed = 7;
  let s = '';
  for (let i = 0; i < 300_000; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    s += 'abcdefghijklmnopqrstuvwxyz'[(seed >>> 16) % 26];
  }
  return s;
})();

/** Milliseconds `fn` takes. */
function timed(fn) {
  const t0 = performance.now();
  const value = fn();
  return { ms: performance.now() - t0, value };
}

function record(api, body, result, status = 'ok') {
  return {
    rec: 1,
    api,
    server: { provider: 'openai', address: '127.0.0.1', port: 1 },
    llm: {},
    traceId: '1'.repeat(32),
    spanId: '1'.repeat(16),
    started: 0,
    ended: 1,
    status,
    hasResult: true,
    attempts: 1,
    bodyJson: JSON.stringify(body),
    model: body.model,
    result,
  };
}
const env = (estimator) => ({ tracer: () => undefined, captureContent: true, content: plain, estimator });

// The chunks the process-level stream scenario serves too.
const INDEX_CHUNKS = [
  chunk([{ index: 0, delta: { role: 'assistant', content: 'Hi' }, finish_reason: null }]),
  chunk([toolDelta(2_000_000_000, 'call_big', 'lookup', '{"q":')]),
  chunk([{ index: 0, delta: { tool_calls: [{ index: 2_000_000_000, function: { arguments: '1}' } }] } }]),
  chunk([
    {
      index: 0,
      delta: {
        tool_calls: [
          { index: -1, id: 'call_neg', function: { name: 'neg', arguments: '{}' } },
          { index: 0.5, id: 'call_frac', function: { name: 'frac', arguments: '{}' } },
          { index: '7', id: 'call_str', function: { name: 'str', arguments: '{}' } },
          { index: 1e300, id: 'call_huge', function: { name: 'huge', arguments: '{}' } },
        ],
      },
    },
  ]),
  chunk([{ index: 2_000_000_000, delta: { role: 'assistant', content: 'other choice' }, finish_reason: 'stop' }]),
  chunk([{ index: 0, delta: {}, finish_reason: 'tool_calls' }]),
];

/** 3 chunks × 2,000 tool calls, every one at its own index spread up to 2e9. */
function manyIndexChunks() {
  const out = [];
  for (let c = 0; c < 3; c++) {
    const calls = [];
    for (let i = 0; i < 2000; i++) {
      const n = c * 2000 + i;
      calls.push({ index: n * 333_333, id: `call_${n}`, type: 'function', function: { name: 'f', arguments: '{}' } });
    }
    out.push(chunk([{ index: 0, delta: { tool_calls: calls } }]));
  }
  out.push(chunk([{ index: 0, delta: {}, finish_reason: 'tool_calls' }]));
  return out;
}

describe('stream accumulators: provider indices cost linear work', () => {
  test('a tool call at index 2e9 (and negative, fractional, string, 1e300 indices) is accumulated in well under a second', () => {
    const acc = chatAdapter.accumulator();
    const { ms, value } = timed(() => {
      for (const c of INDEX_CHUNKS) acc.onChunk(c);
      return acc.result();
    });
    // Before: a sparse array of 2e9 slots walked by filter() (minutes of CPU on the app's thread).
    assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
    assert.deepEqual(
      value.choices.map((c) => c.index),
      [0, 2_000_000_000],
    );
    const calls = value.choices[0].message.tool_calls;
    // In index order; a call without a numeric index comes after the ones seen before it.
    assert.deepEqual(
      calls.map((t) => [t.id, t.function.name, t.function.arguments]),
      [
        ['call_neg', 'neg', '{}'],
        ['call_frac', 'frac', '{}'],
        ['call_big', 'lookup', '{"q":1}'],
        ['call_str', 'str', '{}'],
        ['call_huge', 'huge', '{}'],
      ],
    );
    assert.equal(value.choices[0].finish_reason, 'tool_calls');
    assert.equal(value.choices[1].message.content, 'other choice');
  });

  test('thousands of distinct indices: at most 1024 tool calls are kept, with one warning, in linear time', () => {
    warnings.length = 0;
    const acc = chatAdapter.accumulator();
    const { ms, value } = timed(() => {
      for (const c of manyIndexChunks()) acc.onChunk(c);
      return acc.result();
    });
    assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
    const calls = value.choices[0].message.tool_calls;
    assert.equal(calls.length, 1024);
    assert.equal(calls[1023].id, 'call_1023');
    assert.equal(warnings.filter((w) => /more than 1024 distinct tool calls/.test(w)).length, 1, warnings.join('\n'));
  });

  test('choice indices key a map in chat and legacy completions streams (2e9, and a flood of distinct ones)', () => {
    for (const adapter of [chatAdapter, completionsAdapter]) {
      const acc = adapter.accumulator();
      const { ms, value } = timed(() => {
        acc.onChunk({ id: 'x', choices: [{ index: 2_000_000_000, text: 'a', delta: { content: 'a' }, finish_reason: 'stop' }] });
        const flood = [];
        for (let i = 0; i < 5000; i++) flood.push({ index: -i * 7919, text: 'b', delta: { content: 'b' } });
        acc.onChunk({ id: 'x', choices: flood });
        return acc.result();
      });
      assert.ok(ms < 1000, `${adapter.api}: took ${ms.toFixed(0)} ms`);
      assert.equal(value.choices.length, 1024, adapter.api);
      assert.equal(value.choices.at(-1).index, 2_000_000_000, adapter.api);
    }
  });

  test('a Responses stream cut short keeps its reasoning: summary and raw parts in order, at most 1024, one warning', () => {
    warnings.length = 0;
    const acc = responsesAdapter.accumulator();
    const delta = (summary, index, text) =>
      acc.onChunk({
        type: summary ? 'response.reasoning_summary_text.delta' : 'response.reasoning_text.delta',
        item_id: 'rs_1',
        output_index: 0,
        [summary ? 'summary_index' : 'content_index']: index,
        delta: text,
      });
    delta(true, 0, 'Look');
    delta(true, 0, 'ing up.');
    delta(true, 1, 'Found it.');
    delta(false, 0, 'raw thought');
    assert.deepEqual(acc.result().output, [
      {
        type: 'reasoning',
        summary: [
          { type: 'summary_text', text: 'Looking up.' },
          { type: 'summary_text', text: 'Found it.' },
        ],
        content: [{ type: 'reasoning_text', text: 'raw thought' }],
      },
    ]);
    // A flood of distinct parts (indices alternating, 2e9, negative): bounded, with one warning
    // (the stream-entries warning is once per process: the tool-call test above may have used it).
    resetWarning('provider:stream-entries');
    for (let i = 0; i < 5000; i++) delta(true, i % 2 ? 2e9 : -i, 'x');
    const [item] = acc.result().output;
    assert.equal(item.summary.length + item.content.length, 1024);
    assert.equal(warnings.filter((w) => /more than 1024 distinct reasoning parts/.test(w)).length, 1, warnings.join('\n'));
  });

  test('Responses events with absurd output_index / content_index / sequence_number are harmless', () => {
    const acc = responsesAdapter.accumulator();
    const { ms, value } = timed(() => {
      acc.onChunk({
        type: 'response.created',
        sequence_number: -1,
        response: { id: 'resp_1', model: 'gpt-4o-mini', status: 'in_progress', output: [] },
      });
      for (const [i, idx] of [2e9, -5, 0.5, '3', 1e300].entries()) {
        acc.onChunk({
          type: 'response.output_text.delta',
          output_index: idx,
          content_index: idx,
          sequence_number: 2e9 - i,
          item_id: 'msg',
          delta: `t${i}`,
        });
      }
      acc.onChunk({ type: 'response.output_item.added', output_index: 2e9, item: { type: 'message', role: 'assistant', content: [] } });
      return acc.result();
    });
    assert.ok(ms < 1000);
    assert.equal(value.output[0].content[0].text, 't0t1t2t3t4');
  });
});

describe('capped fields', () => {
  test('capField keeps 256 chars and a marker with the original length, and is idempotent', () => {
    const long = 'x'.repeat(10 * 2 ** 20);
    const c = capField(long);
    assert.equal(c, 'x'.repeat(MAX_FIELD_CHARS) + `…[truncated: ${long.length} chars]`);
    assert.equal(capField(c), c, 'capping a capped value changes nothing');
    assert.equal(capField('gpt-4o-mini'), 'gpt-4o-mini');
  });

  test('a response with a 10 MB id, 1 MB model and finish reason, and a 12 KB request id is recorded capped', () => {
    const M = 2 ** 20;
    const result = {
      id: `chatcmpl-${'i'.repeat(10 * M)}`,
      model: `gpt-${'m'.repeat(M)}`,
      system_fingerprint: `fp_${'f'.repeat(M)}`,
      service_tier: 's'.repeat(M),
      choices: [
        {
          index: 0,
          finish_reason: 'r'.repeat(M),
          message: {
            role: 'assistant',
            content: 'ok',
            tool_calls: [{ id: `call_${'c'.repeat(M)}`, type: 'function', function: { name: 'n'.repeat(M), arguments: '{}' } }],
          },
        },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 2 },
    };
    const rec = record(
      'chat.completions',
      { model: `m${'o'.repeat(M)}`, messages: [{ role: 'user', content: 'hi', name: 'u'.repeat(M) }] },
      result,
    );
    rec.requestId = `req_${'q'.repeat(12_000)}`;
    rec.error = { errorType: 'E'.repeat(M), message: 'x' };
    const { attrs } = callAttributes(rec, env());
    for (const key of [
      'gen_ai.response.id',
      'gen_ai.response.model',
      'gen_ai.request.model',
      'openai.response.system_fingerprint',
      'openai.response.service_tier',
      'llm_otel.request_id',
      'error.type',
    ]) {
      const v = attrs[key];
      assert.ok(v.length <= MAX_FIELD_CHARS + 36, `${key}: ${v.length} chars`);
      assert.match(v, MARKER, key);
    }
    assert.match(attrs['gen_ai.response.id'], new RegExp(`truncated: ${result.id.length} chars`));
    assert.ok(attrs['gen_ai.response.finish_reasons'][0].length <= MAX_FIELD_CHARS + 36);
    const out = JSON.parse(attrs['gen_ai.output.messages']);
    const call = out[0].parts.find((p) => p.type === 'tool_call');
    assert.match(call.id, MARKER);
    assert.match(call.name, MARKER);
    assert.match(JSON.parse(attrs['gen_ai.input.messages'])[0].name, MARKER);
    const total = Object.values(attrs).reduce((n, v) => n + String(v).length, 0);
    assert.ok(total < 16_000, `${total} chars of attributes`);
  });
});

describe('the per-call content budget', () => {
  const properties = {};
  for (let i = 0; i < 20_000; i++) properties[`property_number_${i}`] = { type: 'string', description: `field ${i}` };
  const tools = Array.from({ length: 20 }, (_, t) => ({
    type: 'function',
    function: { name: `tool_${t}`, description: 'a tool', parameters: { type: 'object', properties } },
  }));

  test('20 tools × 20,000-property schemas become a bounded tool definitions attribute with markers', () => {
    const unbounded = JSON.stringify(toolDefinitions(tools, plain)).length;
    assert.ok(unbounded > 20e6, `without a budget: ${unbounded} chars`);
    const { ms, value } = timed(() => JSON.stringify(toolDefinitions(tools, budgeted())));
    const limit = callContentBudget(plain.maxChars).left;
    assert.ok(value.length < 2 * limit, `${value.length} chars with a budget of ${limit}`);
    assert.match(value, /…\[truncated: \d+ more keys\]/);
    assert.match(value, /…\[truncated: \d+ more tools\]/);
    assert.ok(ms < 5000, `took ${ms.toFixed(0)} ms`);
  });

  test('the budget also bounds a request of 100,000 messages and a response of 100,000 choices, marking what is left out', () => {
    const messages = Array.from({ length: 100_000 }, (_, i) => ({
      role: i % 2 ? 'assistant' : 'user',
      content: `message ${i} `.repeat(10),
    }));
    const input = JSON.stringify(chatRequestContent({ messages }, budgeted()).inputMessages);
    assert.ok(input.length < 2 * 2 ** 20, `${input.length} chars`);
    assert.match(input, /…\[truncated: \d+ more messages\]/);
    const choices = Array.from({ length: 100_000 }, (_, i) => ({
      index: i,
      finish_reason: 'stop',
      message: { role: 'assistant', content: `answer ${i} `.repeat(10) },
    }));
    const output = JSON.stringify(chatResponseOutput(choices, budgeted()));
    assert.ok(output.length < 2 * 2 ** 20, `${output.length} chars`);
    assert.match(output, /…\[truncated: \d+ more messages\]/);
  });

  test('a call record finished from such a request stays bounded (every content attribute)', () => {
    const rec = record(
      'chat.completions',
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], tools },
      {
        id: 'c',
        model: 'gpt-4o-mini',
        choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'ok' } }],
        usage: { prompt_tokens: 1, completion_tokens: 1 },
      },
    );
    const { attrs } = callAttributes(rec, env());
    const total = Object.values(attrs).reduce((n, v) => n + String(v).length, 0);
    assert.ok(total < 4 * 2 ** 20, `${total} chars of attributes`);
  });

  test('deeply nested JSON in tool arguments is cut at a fixed depth without a stack overflow', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const out = chatResponseOutput(
      [
        {
          index: 0,
          finish_reason: 'tool_calls',
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: deep } }],
          },
        },
      ],
      budgeted(),
    );
    assert.ok(JSON.stringify(out).length < 1000);
  });
});

describe('usage the provider reports', () => {
  const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'How many tokens is this?' }] };
  const response = (usage) => ({
    id: 'c',
    model: 'gpt-4o-mini',
    choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'About seven.' } }],
    usage,
  });

  for (const [label, usage] of [
    ['negative', { prompt_tokens: -5, completion_tokens: 7 }],
    ['absurd (1e21)', { prompt_tokens: 1e21, completion_tokens: 7 }],
    ['fractional', { prompt_tokens: 5.5, completion_tokens: 7 }],
    ['a string', { prompt_tokens: '5', completion_tokens: 7 }],
    ['a negative cached count', { prompt_tokens: 5, completion_tokens: 7, prompt_tokens_details: { cached_tokens: -1 } }],
  ]) {
    test(`${label} token counts are not recorded as provider usage: estimated instead, or none`, () => {
      warnings.length = 0;
      const { attrs } = callAttributes(record('chat.completions', body, response(usage)), env(tokenEstimator));
      assert.equal(attrs['llm_otel.usage_source'], 'estimated');
      assert.ok(
        attrs['gen_ai.usage.input_tokens'] > 0 && attrs['gen_ai.usage.input_tokens'] < 100,
        String(attrs['gen_ai.usage.input_tokens']),
      );
      assert.equal(attrs['gen_ai.usage.cache_read.input_tokens'], undefined);
      const none = callAttributes(record('chat.completions', body, response(usage)), env()).attrs;
      assert.equal(none['llm_otel.usage_source'], 'none');
      assert.equal(none['gen_ai.usage.input_tokens'], undefined);
    });
  }

  test('valid counts (0 included) are still the provider usage, and a Responses usage is checked the same way', () => {
    const { attrs } = callAttributes(
      record(
        'chat.completions',
        body,
        response({ prompt_tokens: 0, completion_tokens: 7, completion_tokens_details: { reasoning_tokens: null } }),
      ),
      env(tokenEstimator),
    );
    assert.equal(attrs['llm_otel.usage_source'], 'provider');
    assert.equal(attrs['gen_ai.usage.input_tokens'], 0);
    assert.equal(
      responsesAdapter.summarize({ id: 'r', status: 'completed', output: [], usage: { input_tokens: -1, output_tokens: 2 } }).usage,
      undefined,
    );
    assert.deepEqual(
      responsesAdapter.summarize({ id: 'r', status: 'completed', output: [], usage: { input_tokens: 1, output_tokens: 2 } }).usage,
      { inputTokens: 1, outputTokens: 2 },
    );
  });
});

describe('token estimates of generated text', () => {
  test('a 300,000-letter word from the provider is estimated in linear time, within 1 % of counting it whole', () => {
    const { ms, value } = timed(() => tokenEstimator.output(LONG_WORD, 'gpt-4o-mini'));
    // Before: byte-pair encoding of one 300,000-char pre-token (about a minute per 200,000 chars).
    assert.ok(ms < 5000, `took ${ms.toFixed(0)} ms`);
    const piece = LONG_WORD.slice(0, 20_000);
    const whole = tokenEstimator.output(piece, 'gpt-4o-mini');
    const { estimateTextTokens } = tokens;
    const exact = estimateTextTokens(piece, 'gpt-4o-mini');
    assert.ok(Math.abs(whole - exact) / exact < 0.01, `${whole} vs ${exact}`);
    assert.ok(Math.abs(value / (15 * whole) - 1) < 0.05, `${value} tokens for 15× the text of ${whole}`);
  });

  test('ordinary prose is counted exactly as before', () => {
    const prose = 'The quick brown fox jumps over the lazy dog. '.repeat(5000);
    assert.equal(tokenEstimator.output(prose, 'gpt-4o-mini'), tokens.estimateTextTokens(prose, 'gpt-4o-mini'));
  });
});

describe('parts of unknown types', () => {
  test('are recorded by type in gen_ai.*.messages and as [type] in llm_messages', () => {
    const body = {
      model: 'gpt-4o-mini',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Look:' },
            { type: 'something_new', payload: 'p' },
          ],
        },
      ],
    };
    const result = {
      id: 'c',
      model: 'gpt-4o-mini',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: [{ type: 'something_newer', data: 'd' }] } }],
      usage: { prompt_tokens: 1, completion_tokens: 1 },
    };
    const { attrs } = callAttributes(record('chat.completions', body, result), env());
    assert.deepEqual(JSON.parse(attrs['gen_ai.input.messages'])[0].parts[1], { type: 'something_new', payload: 'p' });
    assert.deepEqual(JSON.parse(attrs['gen_ai.output.messages'])[0].parts[0], { type: 'something_newer', data: 'd' });
    const item = itemFromSpanData({
      name: 'chat',
      traceId: '1'.repeat(32),
      spanId: '1'.repeat(16),
      parentSpanId: null,
      serviceName: null,
      attributes: attrs,
      statusCode: 0,
      statusMessage: null,
      startMs: 0,
      endMs: 1,
      durationMs: 1,
    });
    assert.deepEqual(
      item.messages.map((m) => [m.direction, m.content]),
      [
        ['input', 'Look:\n[something_new]'],
        ['output', '[something_newer]'],
      ],
    );
  });

  test('in the Responses API too: an unknown input part and an unknown output item', () => {
    const body = {
      model: 'gpt-4o-mini',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'Look:' },
            { type: 'input_hologram', id: 'h1' },
          ],
        },
      ],
    };
    const result = {
      id: 'r',
      model: 'gpt-4o-mini',
      status: 'completed',
      output: [{ type: 'hologram_call', id: 'hc_1', status: 'completed' }],
      usage: { input_tokens: 1, output_tokens: 1 },
    };
    const { attrs } = callAttributes(record('responses', body, result), env());
    assert.deepEqual(JSON.parse(attrs['gen_ai.input.messages'])[0].parts[1], { type: 'input_hologram', id: 'h1' });
    assert.equal(JSON.parse(attrs['gen_ai.output.messages'])[0].parts[0].type, 'hologram_call');
    const item = itemFromSpanData({
      name: 'chat',
      traceId: '1'.repeat(32),
      spanId: '1'.repeat(16),
      parentSpanId: null,
      serviceName: null,
      attributes: attrs,
      statusCode: 0,
      statusMessage: null,
      startMs: 0,
      endMs: 1,
      durationMs: 1,
    });
    assert.deepEqual(
      item.messages.map((m) => [m.direction, m.content]),
      [
        ['input', 'Look:\n[input_hologram]'],
        ['output', '[hologram_call]'],
      ],
    );
  });
});

// ── process level ────────────────────────────────────────────────────────────────────────────────

const sse = (events) => `${events.map((e) => `data: ${JSON.stringify(e)}`).join('\n\n')}\n\ndata: [DONE]\n\n`;
const completion = (message, usage = { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 }, extra = {}) => ({
  id: 'chatcmpl-hostile',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', refusal: null, ...message }, logprobs: null, finish_reason: 'stop' }],
  usage,
  ...extra,
});
const M = 2 ** 20;
const HUGE = {
  id: `chatcmpl-${'i'.repeat(10 * M)}`,
  model: `gpt-4o-mini-${'m'.repeat(M)}`,
  requestId: `req_${'q'.repeat(12_000)}`,
};

function writeFixtures(dir) {
  const fixture = (name, response, rawHeaders = {}) =>
    writeFileSync(
      join(dir, `${name}.json`),
      JSON.stringify([{ method: 'POST', path: '/v1/chat/completions', body: null, status: 200, rawHeaders, response }]),
    );
  fixture('hostile-stream-index', sse(INDEX_CHUNKS));
  fixture('hostile-stream-many', sse(manyIndexChunks()));
  fixture(
    'hostile-huge-fields',
    {
      ...completion({
        content: 'ok',
        tool_calls: [{ id: `call_${'c'.repeat(M)}`, type: 'function', function: { name: 'n'.repeat(M), arguments: '{}' } }],
      }),
      id: HUGE.id,
      model: HUGE.model,
      system_fingerprint: `fp_${'f'.repeat(M)}`,
      service_tier: 's'.repeat(M),
    },
    { 'x-request-id': HUGE.requestId },
  );
  fixture('hostile-usage-negative', completion({ content: 'About seven.' }, { prompt_tokens: -5, completion_tokens: 7, total_tokens: 2 }));
  fixture('hostile-usage-huge', completion({ content: 'About seven.' }, { prompt_tokens: 1e21, completion_tokens: 7, total_tokens: 1e21 }));
  fixture('hostile-unknown-part', completion({ content: [{ type: 'something_newer', data: 'd' }] }));
  fixture('hostile-schemas', completion({ content: 'Fine.' }));
  // One 300,000-letter "word" in a stream without usage: estimated from its text.
  fixture(
    'hostile-stream-long-word',
    sse([
      chunk([{ index: 0, delta: { role: 'assistant', content: LONG_WORD }, finish_reason: null }]),
      chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]),
    ]),
  );
  // JSON.parse takes any depth, JSON.stringify and structured clone do not.
  // Served as raw bytes (a recording's hex form): JSON.stringify cannot write it.
  const [head, tail] = JSON.stringify(completion({ content: 'deep', extra: 'DEEP' })).split('"DEEP"');
  fixture('hostile-deep-json', [Buffer.from(head + '['.repeat(100_000) + ']'.repeat(100_000) + tail).toString('hex')], {
    'content-type': 'application/json',
  });
}

const SCENARIOS = [
  'stream-index',
  'stream-many',
  'huge-fields',
  'bad-usage-negative',
  'bad-usage-huge',
  'unknown-part',
  'stream-long-word',
  'deep-json',
];
const MAJORS = [4, 6];

describe('process level: an app on openai 4 and 6 against a hostile server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llm-otel-hostile-'));
  let server;
  const runs = {}; // `${major}/${mode}` → result
  const apps = {};

  before(async () => {
    writeFixtures(dir);
    server = await startOpenAIServer({ fixtureDirs: [dir] });
    for (const major of MAJORS) apps[major] = installApp(major, 'provider-hostile-app.mjs');
    const run = (major, mode, scenarios) =>
      runApp(apps[major], {
        preload: mode === 'plain' ? null : 'import',
        args: scenarios,
        timeoutMs: 120_000,
        env: { TEST_OPENAI_URL: server.url, LLM_OTEL_DB: join(dir, `${major}-${scenarios[0]}.db`), OTEL_TRACES_EXPORTER: 'none' },
      });
    for (const major of MAJORS) {
      for (const mode of ['plain', 'llm-otel']) runs[`${major}/${mode}`] = await run(major, mode, SCENARIOS);
      // Alone in its process, one at a time: its memory is measured (the server keeps no bodies).
      for (const mode of ['plain', 'llm-otel']) {
        runs[`${major}/${mode}/schemas`] = await run(major, mode, ['schemas']);
        server.reset();
      }
    }
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const major of MAJORS) {
    test(`openai ${major}: the app's output and exit are those of a run without llm-otel, and bounded`, () => {
      for (const suffix of ['', '/schemas']) {
        const plainRun = runs[`${major}/plain${suffix}`];
        const withRun = runs[`${major}/llm-otel${suffix}`];
        assert.equal(withRun.timedOut, false, `llm-otel${suffix} timed out: ${withRun.stderr.slice(-2000)}`);
        assert.equal(plainRun.code, 0, plainRun.stderr);
        assert.equal(withRun.code, 0, withRun.stderr);
        assert.equal(withRun.stdout, plainRun.stdout);
        // Generous: the whole process, with openai's import and a 41 MB request, on a shared machine.
        assert.ok(withRun.durationMs < 30_000, `llm-otel${suffix}: ${withRun.durationMs.toFixed(0)} ms`);
      }
      assert.equal(runs[`${major}/plain`].stdout.trim().split('\n').length, SCENARIOS.length);
      assert.doesNotMatch(runs[`${major}/plain`].stdout, /"error"/);
    });

    test(`openai ${major}: the call log holds every call with capped fields and markers`, () => {
      const db = new Database(join(dir, `${major}-${SCENARIOS[0]}.db`), { readonly: true });
      try {
        const calls = db.prepare('SELECT * FROM llm_calls ORDER BY id').all();
        assert.equal(calls.length, SCENARIOS.length);
        const messages = (id) => db.prepare('SELECT * FROM llm_messages WHERE call_id = ? ORDER BY direction, position').all(id);
        const [index, many, huge, negative, absurd, unknown, longWord, deep] = calls;

        const out = messages(index.id).filter((m) => m.direction === 'output');
        assert.equal(out.length, 2);
        assert.deepEqual(
          JSON.parse(out[0].tool_calls).map((t) => t.name),
          ['neg', 'frac', 'lookup', 'str', 'huge'],
        );
        assert.equal(out[1].content, 'other choice');
        assert.equal(JSON.parse(index.finish_reasons).length, 2);

        assert.equal(JSON.parse(messages(many.id).find((m) => m.direction === 'output').tool_calls).length, 1024);

        for (const [column, original] of [
          ['response_id', HUGE.id],
          ['response_model', HUGE.model],
          ['request_id', HUGE.requestId],
        ]) {
          assert.ok(huge[column].length <= MAX_FIELD_CHARS + 36, `${column}: ${huge[column].length}`);
          assert.ok(huge[column].endsWith(`…[truncated: ${original.length} chars]`), column);
        }
        assert.ok(JSON.parse(huge.finish_reasons)[0].length <= MAX_FIELD_CHARS + 36);
        const rowChars =
          Object.values(huge).reduce((n, v) => n + String(v).length, 0) +
          messages(huge.id).reduce((n, m) => n + Object.values(m).reduce((k, v) => k + String(v).length, 0), 0);
        assert.ok(rowChars < 16_000, `${rowChars} chars in the call's rows`);

        for (const bad of [negative, absurd]) {
          assert.equal(bad.usage_source, 'estimated');
          assert.ok(bad.input_tokens > 0 && bad.input_tokens < 100, String(bad.input_tokens));
          assert.ok(bad.cost === null || (bad.cost > 0 && bad.cost < 0.01), String(bad.cost));
        }
        assert.match(runs[`${major}/llm-otel`].stderr, /token usage that is not a count/);

        assert.deepEqual(
          messages(unknown.id).map((m) => [m.direction, m.content]),
          [
            ['input', 'Look:\n[something_new]'],
            ['output', '[something_newer]'],
          ],
        );

        assert.equal(longWord.usage_source, 'estimated');
        assert.ok(longWord.output_tokens > 100_000 && longWord.output_tokens < 200_000, String(longWord.output_tokens));

        assert.equal(deep.status, 'ok');
        assert.equal(deep.response_id, 'chatcmpl-hostile');
        assert.equal(messages(deep.id).find((m) => m.direction === 'output').content, 'deep');
      } finally {
        db.close();
      }
    });

    test(`openai ${major}: a 41 MB tools request is recorded bounded, with markers (memory reported)`, (t) => {
      const db = new Database(join(dir, `${major}-schemas.db`), { readonly: true });
      try {
        const [call] = db.prepare('SELECT * FROM llm_calls').all();
        assert.ok(call, 'the call is in the log');
        const attrs = JSON.parse(call.attributes);
        const defs = attrs['gen_ai.tool.definitions'];
        assert.ok(call.attributes.length < 4 * 2 ** 20, `attributes: ${call.attributes.length} chars`);
        assert.match(defs, /…\[truncated: \d+ more keys\]/);
      } finally {
        db.close();
      }
      const rss = (run) => JSON.parse(/rss (\{.*\})/.exec(run.stderr)[1]);
      const plainRss = rss(runs[`${major}/plain/schemas`]);
      const withRss = rss(runs[`${major}/llm-otel/schemas`]);
      const added = withRss.growth - plainRss.growth;
      console.log(
        `openai ${major}: peak RSS growth over the call ${(plainRss.growth / M).toFixed(0)} MB without llm-otel, ${(withRss.growth / M).toFixed(0)} MB with (+${(added / M).toFixed(0)} MB)`,
      );
      assert.ok(added < 300 * M, `llm-otel added ${(added / M).toFixed(0)} MB of peak RSS`);
    });
  }
});
