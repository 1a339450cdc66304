// ESM app of test/33-context-modules.test.mjs: the package loaded BOTH as ESM (`import … from
// 'llm-otel'`) and as CJS (`createRequire(import.meta.url)('llm-otel')`) in one process — two
// copies of every module — and openai likewise. The context must be shared between the copies
// (keys via Symbol.for). Prints one JSON line per case.
//
// Environment: TEST_OPENAI_URL.

import { createRequire } from 'node:module';
import * as esm from 'llm-otel';
import OpenAIEsm from 'openai';

const require = createRequire(import.meta.url);
const cjs = require('llm-otel');
const OpenAICjs = require('openai');

const BOUVET = [{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }];
const FIXTURE = { headers: { 'x-fixture': 'chat-completions-adds-genai-conventions' } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const opts = { baseURL: `${process.env.TEST_OPENAI_URL}/v1`, apiKey: 'sk-test-context', maxRetries: 0 };
  const esmClient = new OpenAIEsm(opts);
  const cjsClient = new (OpenAICjs.OpenAI || OpenAICjs)(opts);
  const ask = (client) => client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET }, FIXTURE);
  const print = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

  print({ case: 'copies', distinct: esm.withAgent !== cjs.withAgent && esm.withLlmContext !== cjs.withLlmContext });

  // ESM withLlmContext → CJS withAgent → call with the ESM openai client.
  await esm.withLlmContext({ sessionId: 'mix-a', userId: 'mix-ua' }, async () => {
    await sleep(2);
    await cjs.withAgent('cjs-agent', async () => {
      await sleep(2);
      print({ case: 'a', seenByEsm: esm.getLlmContext(), seenByCjs: cjs.getLlmContext() });
      await ask(esmClient);
    });
  });

  // CJS withLlmContext → ESM withAgent → CJS withTool → call with the CJS openai client.
  await cjs.withLlmContext({ sessionId: 'mix-b', userId: 'mix-ub', tags: ['cjs'] }, () =>
    esm.withAgent('esm-agent', () =>
      cjs.withTool(
        'cjs-tool',
        async () => {
          await sleep(2);
          await ask(cjsClient);
        },
        { toolCallId: 'call_mix_b' },
      ),
    ),
  );

  // Nested scopes across copies merge: ESM outer, CJS inner, both clients.
  await esm.withLlmContext({ sessionId: 'mix-c', userId: 'mix-uc', tags: ['esm'], metadata: { outer: 'esm' } }, () =>
    cjs.withLlmContext({ userId: 'mix-uc2', tags: ['cjs'], metadata: { inner: 'cjs' } }, async () => {
      await Promise.all([ask(esmClient), ask(cjsClient)]);
    }),
  );
}

// node --test also runs every file under test/: nothing happens without the test's environment.
if (process.env.TEST_OPENAI_URL) await main();
