// Token estimates against OpenAI's own counts: every recorded request in
// test/fixtures/openai-recordings that carries a real `usage` (prompt_tokens / completion_tokens)
// must be estimated within 10%. Also: the tokenizer is loaded lazily, in both builds.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { test } from 'vitest';
import { DIST, ROOT } from './4x-helpers/calllog.mjs';

const T = await import(join(DIST, 'src', 'tokens', 'index.js'));
const FIXTURES = join(ROOT, 'test', 'fixtures', 'openai-recordings');

/** Real (recorded, not hand-written) interactions with usage: chat JSON, chat SSE with usage, embeddings. */
function recorded() {
  const out = [];
  for (const f of readdirSync(FIXTURES).filter((n) => n.endsWith('.json'))) {
    for (const it of JSON.parse(readFileSync(join(FIXTURES, f), 'utf8'))) {
      let usage = null;
      let response = null;
      if (Array.isArray(it.response) && it.response.length > 0) {
        response = JSON.parse(gunzipSync(Buffer.from(it.response.join(''), 'hex')).toString('utf8'));
        usage = response.usage;
      } else if (typeof it.response === 'string') {
        for (const line of it.response.split('\n')) {
          if (!line.startsWith('data: {')) continue;
          const d = JSON.parse(line.slice(6));
          if (d.usage && it.path.endsWith('/chat/completions')) usage = d.usage;
        }
      }
      if (usage && (it.path.endsWith('/chat/completions') || it.path.endsWith('/embeddings')))
        out.push({ file: f, body: it.body, usage, response });
    }
  }
  return out;
}

const within = (est, real, what) => {
  const err = Math.abs(est - real) / real;
  assert.ok(err <= 0.1, `${what}: estimated ${est}, OpenAI counted ${real} (${(err * 100).toFixed(1)}% off)`);
};

test('prompt estimates are within 10% of OpenAI prompt_tokens on every recorded request', () => {
  const cases = recorded();
  assert.ok(cases.length >= 6, `only ${cases.length} recorded cases found`);
  let withTools = 0;
  let withToolMessages = 0;
  for (const c of cases) {
    const b = c.body;
    const est = c.file.includes('embeddings')
      ? (Array.isArray(b.input) ? b.input : [b.input]).reduce((n, s) => n + T.estimateTextTokens(s, b.model), 0)
      : T.estimateChatTokens(b.messages, b.tools, b.model);
    within(est, c.usage.prompt_tokens, c.file);
    if (b.tools) withTools++;
    if (b.messages?.some((m) => m.role === 'tool')) withToolMessages++;
  }
  assert.ok(withTools >= 1 && withToolMessages >= 1, 'the fixtures must include tool definitions and tool results');
});

test('completion estimates are within 10% of OpenAI completion_tokens (text and tool calls)', () => {
  let n = 0;
  for (const c of recorded()) {
    if (!c.response?.choices) continue;
    const est = c.response.choices.reduce((t, ch) => t + T.estimateOutputTokens(ch.message, c.body.model), 0);
    within(est, c.usage.completion_tokens, c.file);
    n++;
  }
  assert.ok(n >= 4);
});

test('semconv-shaped messages (what the call log stores) estimate like the OpenAI request', () => {
  const tc = recorded().find((c) => c.body.messages?.some((m) => m.role === 'tool'));
  const semconv = tc.body.messages.map((m) => {
    const parts = [];
    if (typeof m.content === 'string')
      parts.push(
        m.role === 'tool' ? { type: 'tool_call_response', id: m.tool_call_id, response: m.content } : { type: 'text', content: m.content },
      );
    for (const call of m.tool_calls ?? [])
      parts.push({ type: 'tool_call', id: call.id, name: call.function.name, arguments: call.function.arguments });
    return { role: m.role, parts };
  });
  const tools = tc.body.tools.map((t) => ({
    type: 'function',
    name: t.function.name,
    description: t.function.description,
    parameters: t.function.parameters,
  }));
  assert.equal(T.estimateChatTokens(semconv, tools, tc.body.model), T.estimateChatTokens(tc.body.messages, tc.body.tools, tc.body.model));
});

test('details: encodings per model, empty input, special-token text, images, Responses items', () => {
  assert.equal(T.encodingForModel('gpt-4o-mini'), 'o200k_base');
  assert.equal(T.encodingForModel('openai/gpt-5'), 'o200k_base');
  assert.equal(T.encodingForModel('gpt-4-0613'), 'cl100k_base');
  assert.equal(T.encodingForModel('gpt-3.5-turbo'), 'cl100k_base');
  assert.equal(T.encodingForModel('deepseek-chat'), 'o200k_base');
  assert.equal(T.estimateTextTokens('', 'gpt-4o'), 0);
  assert.equal(T.estimateTextTokens(null), 0);
  assert.ok(T.estimateTextTokens('<|endoftext|> is text here', 'gpt-4o') > 3, 'special tokens in user text are counted, not refused');
  // the model picks the encoding: o200k packs Chinese far tighter than cl100k
  const zh = '今天天气很好，我们去公园散步吧。';
  assert.ok(T.estimateTextTokens(zh, 'gpt-4') > T.estimateTextTokens(zh, 'gpt-4o'));
  // 4 per message + 3 priming + content
  assert.equal(T.estimateChatTokens([], null, 'gpt-4o'), 3);
  const low = T.estimateChatTokens(
    [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'low' } }] }],
    null,
    'gpt-4o',
  );
  assert.equal(low, 3 + 4 + 85);
  const items = T.estimateChatTokens(
    [
      { role: 'user', content: [{ type: 'input_text', text: 'What is 2+2?' }] },
      { type: 'function_call', name: 'calc', arguments: '{"expr":"2+2"}', call_id: 'c1' },
      { type: 'function_call_output', call_id: 'c1', output: '4' },
    ],
    [{ type: 'function', name: 'calc', parameters: { type: 'object', properties: { expr: { type: 'string' } }, required: ['expr'] } }],
    'gpt-4o',
  );
  assert.ok(items > 30 && items < 90, `Responses items estimate ${items}`);
});

test('the tokenizer loads lazily: importing llm-otel loads no encoding; both builds estimate the same', () => {
  const script = `
    const t0 = performance.now();
    const api = await import(${JSON.stringify(join(DIST, 'src', 'index.js'))});
    const tok = await import(${JSON.stringify(join(DIST, 'src', 'tokens', 'index.js'))});
    const loadedAtImport = tok.isEncoderLoaded('o200k_base') || tok.isEncoderLoaded('cl100k_base');
    const esm = tok.estimateChatTokens([{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }], null, 'gpt-4o-mini');
    const { createRequire } = await import('node:module');
    const cjs = createRequire(${JSON.stringify(join(ROOT, 'package.json'))})(${JSON.stringify(join(ROOT, 'dist', 'cjs', 'src', 'tokens', 'index.js'))});
    const viaCjs = cjs.estimateChatTokens([{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }], null, 'gpt-4o-mini');
    console.log(JSON.stringify({ loadedAtImport, loadedAfter: tok.isEncoderLoaded('o200k_base'), esm, viaCjs, api: typeof api.withAgent }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.equal(out.loadedAtImport, false);
  assert.equal(out.loadedAfter, true);
  assert.equal(out.esm, 22); // OpenAI counted 22 prompt tokens for this request
  assert.equal(out.viaCjs, 22);
});
