// The app of bench/yardstick.bench.mjs: a plain CommonJS script using the real `openai` SDK, as a user
// would write it. It makes N awaited calls one after another and then ends by itself (no
// process.exit: whatever an instrumentation does when the event loop runs dry is part of the run).
// With YARDSTICK_HOLD=1 it keeps its event loop open after its calls until its stdin closes: under
// valgrind a background thread needs far longer than the bounded waits at exit allow, so the
// benchmark lets the app end only once its spans and rows have arrived.
//
//   YARDSTICK_BASE_URL=http://127.0.0.1:PORT/v1 node [preload] bench/lib/yardstick-app.cjs chat|stream N
'use strict';
const OpenAI = require('openai');

const [mode, nArg] = process.argv.slice(2);
const n = Number(nArg);
if (!['chat', 'stream'].includes(mode) || !Number.isInteger(n) || n < 0) {
  console.error('usage: yardstick-app.cjs chat|stream N');
  process.exit(2);
}
const client = new OpenAI({ baseURL: process.env.YARDSTICK_BASE_URL, apiKey: 'sk-bench', maxRetries: 0 });
// The request the loopback peer has a recorded answer for (bench/lib/loopback-peers.mjs).
const messages = [{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }];

async function chat() {
  const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
  if (r.choices[0].message.content !== 'Atlantic Ocean.') throw new Error('unexpected response');
}

async function stream() {
  const s = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } });
  let chunks = 0;
  for await (const chunk of s) {
    void chunk;
    chunks += 1;
  }
  if (chunks !== 7) throw new Error(`unexpected chunk count ${chunks}`);
}

(async () => {
  const one = mode === 'chat' ? chat : stream;
  for (let i = 0; i < n; i++) await one();
  console.log(`calls done: ${n}`);
  if (process.env.YARDSTICK_HOLD === '1') {
    process.stdin.resume();
    process.stdin.on('end', () => process.stdin.pause());
  }
})();
