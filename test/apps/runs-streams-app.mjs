// ESM app of test/70-runs-streams.test.mjs: agent runs that hand back a stream whose producer makes
// the LLM calls and the tool run while the app reads it — an async generator, a Node Readable, a
// web ReadableStream —, one the app breaks out of, one that fails mid-stream, and one never read.
// Each case runs in its own session and prints one JSON line `{ case, … }` (the same with and
// without register).
//
// Environment: TEST_OPENAI_URL.

import { Readable } from 'node:stream';
import { withAgent, withLlmContext, withTool } from 'llm-otel';
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: `${process.env.TEST_OPENAI_URL}/v1`, apiKey: 'sk-test-streams', maxRetries: 0 });
const MESSAGES = [{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const print = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

const ask = async () => {
  const r = await client.chat.completions.create(
    { model: 'gpt-4o-mini', messages: MESSAGES },
    { headers: { 'x-fixture': 'chat-completions-adds-genai-conventions' } },
  );
  return r.choices[0].message.content;
};

/** The agent's work, produced step by step as the app reads: LLM call, tool, LLM call. */
async function* steps(session, { failInTool = false } = {}) {
  yield { step: 'llm', text: await ask() };
  await sleep(25);
  const tool = await withTool(
    `${session}-tool`,
    async () => {
      await sleep(1);
      if (failInTool) throw new Error('tool failed mid-stream');
      return 'sunny';
    },
    { toolCallId: `call_${session}` },
  );
  yield { step: 'tool', result: tool };
  await sleep(25);
  yield { step: 'llm', text: await ask() };
}

async function read(stream) {
  const out = [];
  for await (const ev of stream) out.push(ev.step);
  return out;
}

async function main() {
  await withLlmContext({ sessionId: 'generator' }, async () => {
    const stream = await withAgent('gen-agent', async () => steps('generator'));
    print({ case: 'generator', steps: await read(stream) });
  });

  await withLlmContext({ sessionId: 'node' }, async () => {
    const stream = withAgent('node-agent', () => Readable.from(steps('node')));
    print({ case: 'node', readable: stream instanceof Readable, steps: await read(stream) });
  });

  await withLlmContext({ sessionId: 'web' }, async () => {
    const stream = withAgent('web-agent', () => {
      const it = steps('web');
      return new ReadableStream({
        async pull(c) {
          const r = await it.next();
          if (r.done) c.close();
          else c.enqueue(r.value);
        },
      });
    });
    print({ case: 'web', web: stream instanceof ReadableStream, steps: await read(stream) });
  });

  await withLlmContext({ sessionId: 'break' }, async () => {
    const stream = withAgent('break-agent', () => steps('break'));
    const seen = [];
    for await (const ev of stream) {
      seen.push(ev.step);
      break;
    }
    print({ case: 'break', steps: seen });
  });

  await withLlmContext({ sessionId: 'error' }, async () => {
    const stream = withAgent('error-agent', () => steps('error', { failInTool: true }));
    let caught = null;
    try {
      await read(stream);
    } catch (e) {
      caught = e.message;
    }
    print({ case: 'error', caught });
  });

  // Returned and never read: the run stays open, ends as cancelled at exit, holds nothing.
  await withLlmContext({ sessionId: 'unread' }, async () => {
    const stream = withAgent('unread-agent', () => steps('unread'));
    print({ case: 'unread', type: Object.prototype.toString.call(stream) });
  });
}

await main();
