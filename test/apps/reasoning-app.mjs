// Reasoning models through the openai SDK, for test/19-reasoning: chat with DeepSeek's
// `reasoning_content` and OpenRouter's `reasoning`, and Responses reasoning summaries, each
// streamed and not (fixtures in test/fixtures/openai-synthetic/). Copied into test/.matrix/vN/.
// Prints what the app received, one JSON line.

import OpenAI from 'openai';

const client = new OpenAI({ baseURL: `${process.env.TEST_OPENAI_URL}/v1`, apiKey: 'sk-llmotel-reasoning-9e4f' });
const USER = [{ role: 'user', content: 'Which ocean contains Bouvet Island? Reply to ana.lima@example.org.' }];
const INPUT = 'Which ocean contains Bouvet Island? Reply to ana.lima@example.org.';
const fixture = (name) => ({ headers: { 'x-fixture': name } });
const out = {};

const ds = await client.chat.completions.create(
  { model: 'deepseek-reasoner', messages: USER },
  fixture('chat-completions-reasoning-content'),
);
out.deepseek = [ds.choices[0].message.reasoning_content, ds.choices[0].message.content];

const dsStream = await client.chat.completions.create(
  { model: 'deepseek-reasoner', messages: USER, stream: true, stream_options: { include_usage: true } },
  fixture('streaming-chat-completions-reasoning-content'),
);
out.deepseekStream = ['', ''];
for await (const c of dsStream) {
  out.deepseekStream[0] += c.choices[0]?.delta?.reasoning_content ?? '';
  out.deepseekStream[1] += c.choices[0]?.delta?.content ?? '';
}

const or = await client.chat.completions.create({ model: 'qwen/qwen3-32b', messages: USER }, fixture('chat-completions-reasoning-field'));
out.openrouter = [or.choices[0].message.reasoning, or.choices[0].message.content];

const orStream = await client.chat.completions.create(
  { model: 'qwen/qwen3-32b', messages: USER, stream: true },
  fixture('streaming-chat-completions-reasoning-field'),
);
out.openrouterStream = ['', ''];
for await (const c of orStream) {
  out.openrouterStream[0] += c.choices[0]?.delta?.reasoning ?? '';
  out.openrouterStream[1] += c.choices[0]?.delta?.content ?? '';
}

const reasoning = { effort: 'medium', summary: 'detailed' };
const resp = await client.responses.create({ model: 'o4-mini', input: INPUT, reasoning }, fixture('responses-reasoning-summary'));
out.responses = [resp.output[0].summary.map((s) => s.text), resp.output_text];

const respStream = await client.responses.create(
  { model: 'o4-mini', input: INPUT, reasoning, stream: true },
  fixture('streaming-responses-reasoning-summary'),
);
out.responsesStream = [[], ''];
for await (const ev of respStream) {
  if (ev.type === 'response.reasoning_summary_text.done') out.responsesStream[0].push(ev.text);
  if (ev.type === 'response.output_text.delta') out.responsesStream[1] += ev.delta;
}

// Cut short while reasoning (the server drops the connection): what arrived is kept.
const cut = async (name, create, fixture, scenario, read) => {
  const seen = [];
  try {
    const s = await create({ headers: { 'x-fixture': fixture, 'x-scenario': scenario } });
    for await (const ev of s) read(ev, seen);
  } catch {
    /* the dropped connection */
  }
  out[name] = [seen, ''];
};
await cut(
  'deepseekCut',
  (o) =>
    client.chat.completions.create(
      { model: 'deepseek-reasoner', messages: USER, stream: true, stream_options: { include_usage: true } },
      o,
    ),
  'streaming-chat-completions-reasoning-content',
  'drop-after:4',
  (c, seen) => {
    seen[0] = (seen[0] ?? '') + (c.choices[0]?.delta?.reasoning_content ?? '');
  },
);
await cut(
  'responsesCut',
  (o) => client.responses.create({ model: 'o4-mini', input: INPUT, reasoning, stream: true }, o),
  'streaming-responses-reasoning-summary',
  'drop-after:10',
  (ev, seen) => {
    if (ev.type === 'response.reasoning_summary_part.added') seen.push('');
    if (ev.type === 'response.reasoning_summary_text.delta') seen[seen.length - 1] += ev.delta;
  },
);

console.log(JSON.stringify(out));
