'use strict';
// Scenario bodies shared by openai-app.mjs (ESM) and openai-app.cjs (CJS). The entry files load
// `openai` in their own module format and pass the module in; this file never loads openai itself.
//
// Each scenario runs inside a context carrying a deterministic *remote* parent span context (as if a
// `traceparent` had arrived with an incoming request): trace id = sha256('scenario:<name>')[0..32],
// span id = the next 16 hex digits. With llm-otel loaded the inference spans are its children, so a
// test can tell which span belongs to which scenario; without it (no context manager) it is a no-op,
// so the app behaves the same. Each scenario prints ONE deterministic JSON line: the results an app
// would care about, never timings.
//
// Environment: TEST_OPENAI_URL (loopback server root), TEST_API_KEY, TEST_CLOSED_PORT.

const crypto = require('node:crypto');
const api = require('@opentelemetry/api');

const URL_ROOT = process.env.TEST_OPENAI_URL;
const API_KEY = process.env.TEST_API_KEY || 'sk-test-not-a-real-key';
const BOUVET = 'Answer in up to 3 words: Which ocean contains Bouvet Island?';
const USER_BOUVET = [{ role: 'user', content: BOUVET }];
const OCEAN_SCHEMA = {
  type: 'object',
  properties: { ocean: { type: 'string' }, confidence: { type: 'number' } },
  required: ['ocean', 'confidence'],
  additionalProperties: false,
};
const WEATHER = {
  system: 'You are a helpful assistant providing weather updates.',
  user: 'What is the weather in New York City and London?',
  parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'], additionalProperties: false },
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fixture = (name, scenario) => ({ headers: { 'x-fixture': name, ...(scenario ? { 'x-scenario': scenario } : {}) } });

function errorInfo(err) {
  return { error: err?.constructor ? err.constructor.name : typeof err, status: err && err.status !== undefined ? err.status : null };
}

function chatText(stream) {
  // Collects content per choice index from chat chunks (guarding the usage-only final chunk).
  return (async () => {
    const parts = [];
    let usage = null;
    for await (const chunk of stream) {
      for (const c of chunk.choices || []) parts[c.index] = (parts[c.index] || '') + (c.delta?.content || '');
      if (chunk.usage) usage = chunk.usage.total_tokens;
    }
    return { content: parts, usage };
  })();
}

function makeScenarios(mod) {
  const OpenAI = mod.OpenAI || mod.default || mod;
  const AzureOpenAI = mod.AzureOpenAI;
  const client = new OpenAI({ baseURL: `${URL_ROOT}/v1`, apiKey: API_KEY });
  // openai 4 keeps the chat helpers under `beta`.
  const chatHelpers = () => (client.chat.completions.parse ? client.chat.completions : client.beta.chat.completions);

  return {
    // ---- basic API families ----
    async chat() {
      const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: USER_BOUVET });
      return {
        id: r.id,
        model: r.model,
        content: r.choices[0].message.content,
        finish: r.choices[0].finish_reason,
        total: r.usage.total_tokens,
      };
    },
    async 'chat-options'() {
      const r = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: USER_BOUVET,
        frequency_penalty: 0,
        max_tokens: 100,
        presence_penalty: 0,
        temperature: 1,
        top_p: 1,
        stop: 'foo',
        seed: 100,
        response_format: { type: 'text' },
      });
      return { id: r.id, content: r.choices[0].message.content };
    },
    async 'chat-n2'() {
      const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: USER_BOUVET, n: 2 });
      return { id: r.id, content: r.choices.map((c) => c.message.content), finish: r.choices.map((c) => c.finish_reason) };
    },
    async 'chat-tools'() {
      const r = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [
          { role: 'system', content: WEATHER.system },
          { role: 'user', content: WEATHER.user },
        ],
        tools: [{ type: 'function', function: { name: 'get_weather', strict: true, parameters: WEATHER.parameters } }],
      });
      return { id: r.id, calls: r.choices[0].message.tool_calls.map((t) => [t.id, t.function.name, t.function.arguments]) };
    },
    async 'chat-cached-reasoning'() {
      const r = await client.chat.completions.create({
        model: 'o4-mini',
        messages: [
          { role: 'developer', content: 'Be brief.' },
          { role: 'user', content: 'Which ocean contains Bouvet Island?' },
        ],
        reasoning_effort: 'low',
        max_completion_tokens: 500,
        service_tier: 'flex',
      });
      return { id: r.id, content: r.choices[0].message.content, usage: r.usage };
    },
    async 'chat-stream'() {
      const s = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: USER_BOUVET, stream: true });
      return chatText(s);
    },
    async 'chat-stream-usage'() {
      const s = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: USER_BOUVET,
        stream: true,
        stream_options: { include_usage: true },
      });
      return chatText(s);
    },
    async 'chat-stream-n2'() {
      const s = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: USER_BOUVET, n: 2, stream: true });
      return chatText(s);
    },
    async 'chat-stream-tools'() {
      const s = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [
          { role: 'system', content: WEATHER.system },
          { role: 'user', content: WEATHER.user },
        ],
        tools: [{ type: 'function', function: { name: 'get_weather', strict: true, parameters: WEATHER.parameters } }],
        stream: true,
      });
      const calls = [];
      for await (const chunk of s) {
        for (const tc of chunk.choices[0]?.delta.tool_calls || []) {
          calls[tc.index] = calls[tc.index] || { id: '', name: '', arguments: '' };
          if (tc.id) calls[tc.index].id = tc.id;
          if (tc.function?.name) calls[tc.index].name += tc.function.name;
          if (tc.function?.arguments) calls[tc.index].arguments += tc.function.arguments;
        }
      }
      return { calls };
    },
    // A compatible server sending a chunk without `choices` (regression fixture).
    async 'chat-stream-no-choices'() {
      const s = await client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: USER_BOUVET, stream: true },
        fixture('streaming-chat-completions-copes-with-chunks-missing-a-choices-array'),
      );
      return chatText(s);
    },
    async responses() {
      const r = await client.responses.create({ model: 'gpt-4o-mini', input: BOUVET });
      return { id: r.id, text: r.output_text, total: r.usage.total_tokens };
    },
    async 'responses-stream'() {
      const s = await client.responses.create({ model: 'gpt-4o-mini', input: BOUVET, stream: true });
      const types = [];
      let text = '';
      for await (const ev of s) {
        types.push(ev.type);
        if (ev.type === 'response.output_text.delta') text += ev.delta;
      }
      return { text, types };
    },
    async 'responses-stream-cached'() {
      const s = await client.responses.create({
        model: 'o4-mini',
        input: 'Which ocean contains Bouvet Island?',
        instructions: 'Be brief.',
        reasoning: { effort: 'low' },
        max_output_tokens: 500,
        stream: true,
      });
      let text = '';
      let usage = null;
      for await (const ev of s) {
        if (ev.type === 'response.output_text.delta') text += ev.delta;
        if (ev.type === 'response.completed') usage = ev.response.usage;
      }
      return { text, usage };
    },
    async embeddings() {
      const r = await client.embeddings.create({
        model: 'text-embedding-3-small',
        input: ['One fish', 'two fish', 'red fish', 'blue fish'],
        encoding_format: 'float',
      });
      return { count: r.data.length, dims: r.data[0].embedding.length, first: r.data[0].embedding[0], total: r.usage.total_tokens };
    },
    async completions() {
      const r = await client.completions.create({
        model: 'gpt-3.5-turbo-instruct',
        prompt: 'Say this is a test',
        max_tokens: 7,
        temperature: 0,
      });
      return { id: r.id, text: r.choices[0].text, finish: r.choices[0].finish_reason, total: r.usage.total_tokens };
    },

    // ---- SDK helpers (each must produce exactly one span per HTTP call) ----
    async 'chat-parse'() {
      const r = await chatHelpers().parse({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Which ocean contains Bouvet Island? Answer as JSON.' }],
        response_format: { type: 'json_schema', json_schema: { name: 'ocean_answer', strict: true, schema: OCEAN_SCHEMA } },
      });
      return { id: r.id, parsed: r.choices[0].message.parsed, result: r };
    },
    async 'chat-stream-helper'() {
      const runner = chatHelpers().stream({ model: 'gpt-4o-mini', messages: USER_BOUVET, stream_options: { include_usage: true } });
      let deltas = '';
      runner.on('content', (delta) => {
        deltas += delta;
      });
      const final = await runner.finalChatCompletion();
      return { deltas, id: final.id, content: final.choices[0].message.content, total: final.usage ? final.usage.total_tokens : null };
    },
    async 'chat-run-tools'() {
      const runner = chatHelpers().runTools(
        {
          model: 'gpt-4o-mini',
          messages: [
            { role: 'system', content: WEATHER.system },
            { role: 'user', content: WEATHER.user },
          ],
          tools: [
            {
              type: 'function',
              function: {
                name: 'get_weather',
                strict: true,
                parameters: WEATHER.parameters,
                parse: JSON.parse,
                function: ({ location }) => (location === 'London' ? '15 degrees and raining' : '25 degrees and sunny'),
              },
            },
          ],
        },
        fixture('chat-completions-records-tool-calls'),
      );
      const content = await runner.finalContent();
      return { content, messages: runner.messages.length };
    },
    async 'responses-parse'() {
      const r = await client.responses.parse({
        model: 'gpt-4o-mini',
        input: 'Which ocean contains Bouvet Island? Answer as JSON.',
        text: { format: { type: 'json_schema', name: 'ocean_answer', strict: true, schema: OCEAN_SCHEMA } },
      });
      return { id: r.id, parsed: r.output_parsed, result: r };
    },
    async 'responses-stream-helper'() {
      const s = client.responses.stream({ model: 'gpt-4o-mini', input: BOUVET }, fixture('streaming-responses-records-usage'));
      let deltas = '';
      s.on('response.output_text.delta', (ev) => {
        deltas += ev.delta;
      });
      const final = await s.finalResponse();
      return { deltas, id: final.id, text: final.output_text };
    },
    async 'with-response'() {
      const { data, response, request_id } = await client.chat.completions
        .create({ model: 'gpt-4o-mini', messages: USER_BOUVET })
        .withResponse();
      return { id: data.id, status: response.status, request_id, header: response.headers.get('x-request-id') };
    },
    async 'as-response'() {
      const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: USER_BOUVET }).asResponse();
      const body = await res.json();
      return { status: res.status, id: body.id, content: body.choices[0].message.content };
    },
    async 'stream-tee'() {
      const s = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: USER_BOUVET,
        stream: true,
        stream_options: { include_usage: true },
      });
      const [a, b] = s.tee();
      const ra = await chatText(a);
      const rb = await chatText(b);
      return { a: ra, b: rb };
    },
    async 'stream-readable'() {
      const s = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: USER_BOUVET,
        stream: true,
        stream_options: { include_usage: true },
      });
      const reader = s.toReadableStream().getReader();
      const dec = new TextDecoder();
      let text = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += dec.decode(value, { stream: true });
      }
      const chunks = text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      return { chunks: chunks.length, content: chunks.map((c) => c.choices[0]?.delta.content || '').join('') };
    },
    async azure() {
      const az = new AzureOpenAI({ endpoint: URL_ROOT, apiKey: API_KEY, apiVersion: '2024-10-21', deployment: 'gpt-4o-mini' });
      const r = await az.chat.completions.create({ model: 'gpt-4o-mini', messages: USER_BOUVET });
      return { id: r.id, content: r.choices[0].message.content };
    },

    // ---- failures ----
    async 'retry-429'() {
      const r = await client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: USER_BOUVET },
        { headers: { 'x-scenario': 'fail:429:2' } },
      );
      return { id: r.id };
    },
    async 'retry-500'() {
      const r = await client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: USER_BOUVET },
        { headers: { 'x-scenario': 'fail:500:1' } },
      );
      return { id: r.id };
    },
    async timeout() {
      await client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: USER_BOUVET },
        { timeout: 250, maxRetries: 0, headers: { 'x-scenario': 'delay:5000' } },
      );
      return { unexpected: 'no timeout' };
    },
    async abort() {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 100);
      await client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: USER_BOUVET },
        { signal: ac.signal, headers: { 'x-scenario': 'delay:5000' } },
      );
      return { unexpected: 'no abort' };
    },
    async 'bad-request'() {
      await client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: USER_BOUVET, temperature: 7 },
        { headers: { 'x-fixture': 'chat-completions-adds-genai-conventions', 'x-scenario': 'error:400' } },
      );
      return { unexpected: 'no error' };
    },
    async refused() {
      const c = new OpenAI({ baseURL: `http://127.0.0.1:${process.env.TEST_CLOSED_PORT}/v1`, apiKey: API_KEY, maxRetries: 0 });
      await c.chat.completions.create({ model: 'gpt-4o-mini', messages: USER_BOUVET });
      return { unexpected: 'connected' };
    },

    // ---- streams ended every way ----
    async 'stream-break'() {
      const s = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: USER_BOUVET,
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      for await (const chunk of s) {
        text += chunk.choices[0]?.delta.content || '';
        if (text.length > 0) break;
      }
      return { text };
    },
    async 'stream-abort'() {
      const s = await client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: USER_BOUVET, stream: true, stream_options: { include_usage: true } },
        { headers: { 'x-scenario': 'event-delay:20' } },
      );
      // Chunks already buffered when abort() is called may still be yielded (timing-dependent):
      // print only what is deterministic.
      let n = 0;
      for await (const chunk of s) {
        void chunk;
        if (n < 2) n += 1;
        if (n === 2 && !s.controller.signal.aborted) s.controller.abort();
      }
      return { chunks: n, aborted: s.controller.signal.aborted };
    },
    async 'stream-throw'() {
      const s = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: USER_BOUVET,
        stream: true,
        stream_options: { include_usage: true },
      });
      let n = 0;
      try {
        for await (const chunk of s) {
          n += 1;
          void chunk;
          if (n === 2) throw new RangeError('app gave up');
        }
      } catch (e) {
        return { chunks: n, caught: e.message };
      }
      return { chunks: n };
    },
    async 'stream-drop'() {
      const s = await client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: USER_BOUVET, stream: true, stream_options: { include_usage: true } },
        { headers: { 'x-scenario': 'drop-after:3' } },
      );
      let text = '';
      try {
        for await (const chunk of s) text += chunk.choices[0]?.delta.content || '';
      } catch (e) {
        return { text, ...errorInfo(e) };
      }
      return { text, unexpected: 'stream completed' };
    },
    async 'stream-hang'() {
      const s = await client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: USER_BOUVET, stream: true, stream_options: { include_usage: true } },
        { headers: { 'x-scenario': 'hang-after:3' } },
      );
      let text = '';
      let n = 0;
      for await (const chunk of s) {
        n += 1;
        text += chunk.choices[0]?.delta.content || '';
        // The server stalls after 3 events: give up on it the way an app with a deadline would.
        if (n === 3) setTimeout(() => s.controller.abort(), 100);
      }
      return { text, chunks: n };
    },
    async 'stream-never-iterated'() {
      const s = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: USER_BOUVET,
        stream: true,
        stream_options: { include_usage: true },
      });
      return { created: typeof s[Symbol.asyncIterator] === 'function' };
    },

    // ---- content capture: system prompt, tools (used with LLM_OTEL_CAPTURE_CONTENT) ----
    async 'chat-system'() {
      const r = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [
          { role: 'system', content: 'You are an assistant which just answers every query with tomato' },
          { role: 'user', content: 'Say something' },
        ],
      });
      return { id: r.id, content: r.choices[0].message.content };
    },
    // A user pasting secrets into a prompt: with capture=all the content is sent, masked.
    async 'chat-secret-in-prompt'() {
      const r = await client.chat.completions.create(
        {
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: `My key is ${API_KEY}, write to jane.doe@example.com. ${BOUVET}` }],
        },
        fixture('chat-completions-adds-genai-conventions'),
      );
      return { id: r.id };
    },
    async 'responses-instructions'() {
      const r = await client.responses.create({
        model: 'gpt-4o-mini',
        input: 'Which ocean contains Bouvet Island?',
        instructions: 'Answer in up to 3 words.',
      });
      return { id: r.id, text: r.output_text };
    },
    // Which copy of openai this app really loaded (the matrix must not silently test one major).
    async version() {
      let dir = require('node:path').dirname(require.resolve('openai'));
      while (!require('node:fs').existsSync(require('node:path').join(dir, 'package.json'))) dir = require('node:path').dirname(dir);
      return {
        version: require(require('node:path').join(dir, 'package.json')).version,
        dir: require('node:path').relative(process.cwd(), dir),
      };
    },
  };
}

/** Runs the named scenarios in order, each in its own app span, printing one JSON line each. */
async function runScenarios(mod, names) {
  const scenarios = makeScenarios(mod);
  for (const name of names) {
    const fn = scenarios[name];
    if (!fn) throw new Error(`unknown scenario ${name}`);
    const h = crypto.createHash('sha256').update(`scenario:${name}`).digest('hex');
    const parent = api.trace.setSpanContext(api.context.active(), {
      traceId: h.slice(0, 32),
      spanId: h.slice(32, 48),
      // TEST_UNSAMPLED: the remote parent decided not to sample (head sampling upstream).
      traceFlags: process.env.TEST_UNSAMPLED ? api.TraceFlags.NONE : api.TraceFlags.SAMPLED,
      isRemote: true,
    });
    const line = await api.context.with(parent, async () => {
      try {
        return { scenario: name, ...(await fn()) };
      } catch (e) {
        return { scenario: name, ...errorInfo(e) };
      }
    });
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  if (process.env.TEST_WAIT_FOR_SIGNAL) {
    // Signal tests: stay alive until the test sends SIGTERM/SIGINT (the default action ends us).
    process.stdout.write('READY\n');
    setInterval(() => {}, 1000);
  }
}

module.exports = { runScenarios, sleep };
