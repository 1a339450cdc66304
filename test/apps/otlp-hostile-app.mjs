// ESM app for test/57: TEST_CALLS chat calls (TEST_PAUSE_MS apart), then TEST_LINGER_MS of other
// work (so exports run while it is alive), then it ends with exit code TEST_EXIT_CODE. Its stdout
// is deterministic; llm-otel must change neither it nor the exit code.
import OpenAI from 'openai';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const client = new OpenAI({ baseURL: `${process.env.TEST_OPENAI_URL}/v1`, apiKey: process.env.TEST_API_KEY || 'sk-test' });
const calls = Number(process.env.TEST_CALLS || 1);
for (let i = 0; i < calls; i++) {
  if (i > 0) await sleep(Number(process.env.TEST_PAUSE_MS || 0));
  const r = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }],
  });
  process.stdout.write(`${i}: ${r.choices[0].message.content}\n`);
}
await sleep(Number(process.env.TEST_LINGER_MS || 0));
process.stdout.write('done\n');
process.exitCode = Number(process.env.TEST_EXIT_CODE || 0);
