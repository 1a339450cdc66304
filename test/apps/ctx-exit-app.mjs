// ESM app of test/36-context-exit.test.mjs: the process ends while runs are still open.
//   TEST_EXIT_MODE=exit     process.exit(0) inside withTool inside withAgent, after an LLM call
//   TEST_EXIT_MODE=signal   prints READY inside the open runs and waits; the test sends SIGTERM
//   TEST_EXIT_MODE=stalled  the agent awaits a promise that never settles (the loop runs dry)
// Environment: TEST_OPENAI_URL, TEST_EXIT_MODE.

import { withAgent, withLlmContext, withTool } from 'llm-otel';
import OpenAI from 'openai';

async function main() {
  const mode = process.env.TEST_EXIT_MODE;
  const client = new OpenAI({ baseURL: `${process.env.TEST_OPENAI_URL}/v1`, apiKey: 'sk-test-context', maxRetries: 0 });
  await withLlmContext({ sessionId: `exit-${mode}` }, () =>
    withAgent('main', async () => {
      await client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }] },
        { headers: { 'x-fixture': 'chat-completions-adds-genai-conventions' } },
      );
      await withTool('last-step', async () => {
        if (mode === 'exit') process.exit(0);
        if (mode === 'signal') {
          process.stdout.write('READY\n');
          await new Promise((r) => setTimeout(r, 20_000));
        }
        if (mode === 'stalled') await new Promise(() => {});
      });
    }),
  );
}

// node --test also runs every file under test/: nothing happens without the test's environment.
if (process.env.TEST_OPENAI_URL) await main();
