'use strict';
// Shared body of ctx-agents-app.mjs / ctx-agents-app.cjs (test/30-context.test.mjs): N concurrent
// sessions, each running the agent "planner" with the llm-otel API handed in by the entry file (so
// the ESM and the CJS copy of the package are each exercised by their own entry).
//
// Per session i (sessionId `sess-i`, userId `user-i`), inside withLlmContext → withAgent('planner'):
//   plan     chat call                                     → under the agent
//   later    i odd: a stream created now, consumed after the tool ran (after more awaits);
//            i even: a Responses API call after the tool      → under the agent
//   search   withTool('search', { toolCallId: `call_i` }) making its own call (o4-mini; streamed
//            and consumed after a delay when i % 3 == 0)   → under the tool
//   fanout-a / fanout-b   Promise.all of a chat call and an embeddings call → under the agent
//   emitter  a module-level EventEmitter listener (registered outside any context) that makes a
//            call, emitted from a timer inside the agent  → under the agent
//   failing  i % 10 == 0: a call answered 500 (no retries), caught → under the agent, status error
//   final    chat call                                     → under the agent
// Each call runs in withLlmContext({ metadata: { step } }) so the test can tell the steps apart.
// Random small delays (seeded) between and inside steps. Prints one JSON line per session and a
// final `{"done":…}` line.
//
// Environment: TEST_OPENAI_URL, TEST_SESSIONS (default 50), TEST_SEED (default 1).

const { EventEmitter } = require('node:events');

const BOUVET = [{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }];
const fixture = (name, scenario) => ({ headers: { 'x-fixture': name, ...(scenario ? { 'x-scenario': scenario } : {}) } });

function rng(seed) {
  // mulberry32: small, deterministic per seed (a failing order can be replayed with TEST_SEED).
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function drain(stream) {
  let text = '';
  for await (const chunk of stream) {
    for (const c of chunk.choices || []) text += c.delta?.content || '';
  }
  return text;
}

async function runAgents({ OpenAI, llm }) {
  const { withLlmContext, withAgent, withTool } = llm;
  const sessions = Number(process.env.TEST_SESSIONS || 50);
  const random = rng(Number(process.env.TEST_SEED || 1));
  const jitter = () => sleep(Math.floor(random() * 12));
  const client = new OpenAI({ baseURL: `${process.env.TEST_OPENAI_URL}/v1`, apiKey: 'sk-test-context', maxRetries: 0 });
  const step = (name, fn) => withLlmContext({ metadata: { step: name } }, fn);

  // Registered at load time, outside any llm context: the call takes the context of whoever emits.
  const bus = new EventEmitter();
  bus.on('ask', (reply) => {
    reply(
      step('emitter', () =>
        client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET }, fixture('chat-completions-adds-genai-conventions')),
      ),
    );
  });

  async function session(i) {
    await jitter();
    return withAgent('planner', async () => {
      const out = { session: `sess-${i}` };
      await jitter();
      const plan = await step('plan', () =>
        client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET }, fixture('chat-completions-adds-genai-conventions')),
      );
      out.plan = plan.choices[0].message.content;

      let later;
      if (i % 2 === 1) {
        later = await step('later', () =>
          client.chat.completions.create(
            { model: 'gpt-4o-mini', messages: BOUVET, stream: true, stream_options: { include_usage: true } },
            fixture('streaming-chat-completions-records-usage'),
          ),
        );
      }

      out.search = await withTool(
        'search',
        async () => {
          await jitter();
          if (i % 3 === 0) {
            const s = await step('search', () =>
              client.chat.completions.create(
                { model: 'gpt-4o-mini', messages: BOUVET, stream: true, stream_options: { include_usage: true } },
                fixture('streaming-chat-completions-records-usage'),
              ),
            );
            await jitter();
            return drain(s);
          }
          const r = await step('search', () =>
            client.chat.completions.create({ model: 'o4-mini', messages: BOUVET }, fixture('chat-completions-cached-reasoning')),
          );
          return r.choices[0].message.content;
        },
        { toolCallId: `call_${i}` },
      );

      await jitter();
      if (later) {
        out.later = await drain(later);
      } else {
        const r = await step('later', () =>
          client.responses.create({ model: 'gpt-4o-mini', input: BOUVET[0].content }, fixture('responses-adds-genai-conventions')),
        );
        out.later = r.output_text;
      }

      const [a, b] = await Promise.all([
        (async () => {
          await jitter();
          return step('fanout-a', () =>
            client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET }, fixture('chat-completions-adds-genai-conventions')),
          );
        })(),
        (async () => {
          await jitter();
          return step('fanout-b', () =>
            client.embeddings.create(
              { model: 'text-embedding-3-small', input: 'Bouvet Island' },
              fixture('embeddings-adds-genai-conventions'),
            ),
          );
        })(),
      ]);
      out.fanout = [a.choices[0].message.content, b.data.length];

      const fromEmitter = await new Promise((resolve) => {
        setTimeout(() => bus.emit('ask', resolve), Math.floor(random() * 8));
      });
      out.emitter = fromEmitter.choices[0].message.content;

      if (i % 10 === 0) {
        try {
          await step('failing', () =>
            client.chat.completions.create(
              { model: 'gpt-4o-mini', messages: BOUVET },
              fixture('chat-completions-adds-genai-conventions', 'error:500'),
            ),
          );
          out.failing = 'no error';
        } catch (e) {
          out.failing = e.constructor.name;
        }
      }

      await jitter();
      const fin = await step('final', () =>
        client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET }, fixture('chat-completions-adds-genai-conventions')),
      );
      out.final = fin.choices[0].message.content;
      return out;
    });
  }

  const results = await Promise.all(
    Array.from({ length: sessions }, (_, i) => withLlmContext({ sessionId: `sess-${i}`, userId: `user-${i}` }, () => session(i))),
  );
  for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
  process.stdout.write(`${JSON.stringify({ done: results.length })}\n`);
}

module.exports = { runAgents };
