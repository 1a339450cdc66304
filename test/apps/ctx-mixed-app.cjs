'use strict';
// CJS app of test/33-context-modules.test.mjs: the package required as CJS AND imported as ESM
// (`await import('llm-otel')`) in one process, under `--require llm-otel/register` (the CJS copy
// started the pipeline). The ESM copy's scopes and runs must reach the same sinks and share the
// context with the CJS copy. Prints one JSON line per case. Environment: TEST_OPENAI_URL.

const cjs = require('llm-otel');
const OpenAI = require('openai');

const BOUVET = [{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }];
const FIXTURE = { headers: { 'x-fixture': 'chat-completions-adds-genai-conventions' } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const esm = await import('llm-otel');
  const client = new (OpenAI.OpenAI || OpenAI)({ baseURL: `${process.env.TEST_OPENAI_URL}/v1`, apiKey: 'sk-test-context', maxRetries: 0 });
  const ask = () => client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET }, FIXTURE);
  const print = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
  print({ case: 'copies', distinct: esm.withAgent !== cjs.withAgent });

  // CJS withLlmContext → ESM withWorkflow → CJS withAgent → ESM withTool → call.
  await cjs.withLlmContext({ sessionId: 'cmix-a', userId: 'cmix-ua' }, () =>
    esm.withWorkflow('esm-flow', () =>
      cjs.withAgent('cjs-agent', async () => {
        await sleep(2);
        await ask();
        await esm.withTool(
          'esm-tool',
          async () => {
            await sleep(2);
            await ask();
          },
          { toolCallId: 'call_cmix' },
        );
        print({ case: 'a', seenByEsm: esm.getLlmContext(), seenByCjs: cjs.getLlmContext() });
      }),
    ),
  );
}

// node --test also runs every file under test/: nothing happens without the test's environment.
if (process.env.TEST_OPENAI_URL) {
  main().catch((e) => {
    process.stderr.write(`${e.stack}\n`);
    process.exitCode = 1;
  });
}
