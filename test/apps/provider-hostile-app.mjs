// An app talking to a hostile OpenAI-compatible server (test/56): it prints what the SDK gave it,
// one JSON line per scenario, so a run with llm-otel can be compared with a run without.
// Usage: node provider-hostile-app.mjs <scenario> [<scenario> …]
// Environment: TEST_OPENAI_URL (loopback server root). The `schemas` scenario also reports the
// process's memory on stderr at exit (`rss {...}`), after llm-otel's exit drain has run.

import { createHash } from 'node:crypto';
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: `${process.env.TEST_OPENAI_URL}/v1`, apiKey: 'sk-hostile-test-0000', maxRetries: 0 });
const fixture = (name) => ({ headers: { 'x-fixture': name } });
const digest = (v) => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);
const ask = [{ role: 'user', content: 'Hello?' }];

async function streamed(name) {
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: ask, stream: true }, fixture(name));
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return { chunks: chunks.length, digest: digest(chunks) };
}

const scenarios = {
  'stream-index': () => streamed('hostile-stream-index'),
  'stream-many': () => streamed('hostile-stream-many'),
  async 'huge-fields'() {
    const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: ask }, fixture('hostile-huge-fields'));
    return { id: r.id.length, model: r.model.length, digest: digest(r) };
  },
  async 'bad-usage-negative'() {
    const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: ask }, fixture('hostile-usage-negative'));
    return { usage: r.usage, text: r.choices[0].message.content };
  },
  async 'bad-usage-huge'() {
    const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: ask }, fixture('hostile-usage-huge'));
    return { usage: r.usage, text: r.choices[0].message.content };
  },
  async 'unknown-part'() {
    const messages = [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look:' },
          { type: 'something_new', payload: 'p' },
        ],
      },
    ];
    const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages }, fixture('hostile-unknown-part'));
    return { content: r.choices[0].message.content };
  },
  'stream-long-word': () => streamed('hostile-stream-long-word'),
  async 'deep-json'() {
    const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: ask }, fixture('hostile-deep-json'));
    let depth = 0;
    for (let v = r.choices[0].message.extra; Array.isArray(v); v = v[0]) depth++;
    return { content: r.choices[0].message.content, depth };
  },
  async schemas() {
    // 20 tools × 20,000-property parameter schemas: a ~41 MB request.
    const properties = {};
    for (let i = 0; i < 20_000; i++) properties[`property_number_${i}`] = { type: 'string', description: `field ${i}` };
    const tools = Array.from({ length: 20 }, (_, t) => ({
      type: 'function',
      function: { name: `tool_${t}`, description: 'a tool', parameters: { type: 'object', properties } },
    }));
    const before = process.memoryUsage().rss;
    process.on('exit', () => {
      // After llm-otel's own exit drain (its handler was registered first): the writer thread's
      // work on this call is done, and maxRSS covers every thread of the process.
      const maxRss = process.resourceUsage().maxRSS * 1024;
      process.stderr.write(`rss ${JSON.stringify({ before, maxRss, growth: maxRss - before })}\n`);
    });
    const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: ask, tools }, fixture('hostile-schemas'));
    return { text: r.choices[0].message.content, bytes: JSON.stringify(tools).length };
  },
};

for (const name of process.argv.slice(2)) {
  let out;
  try {
    out = await scenarios[name]();
  } catch (e) {
    out = { error: e?.constructor?.name, message: String(e?.message).slice(0, 200) };
  }
  process.stdout.write(`${JSON.stringify({ scenario: name, ...out })}\n`);
}
