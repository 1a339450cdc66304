// Four calls whose spans the fleet gateway's tail-sampling policies must tell apart (test/66):
// one that ends `ok` (priced: gpt-4o-mini has a built-in price), one `error` (HTTP 500), one
// `timeout`, one `cancelled` (aborted by the app). Prints one line per call.
// Env: TEST_OPENAI_BASE_URL (the loopback OpenAI-wire server's /v1 URL).

import OpenAI from 'openai';

const client = new OpenAI({ baseURL: process.env.TEST_OPENAI_BASE_URL, apiKey: 'sk-test', maxRetries: 0 });
const body = {
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }],
};
const fixture = 'chat-completions-adds-genai-conventions';

async function call(name, options) {
  try {
    await client.chat.completions.create(body, { ...options, headers: { 'x-fixture': fixture, ...options.headers } });
    console.log(`${name}: returned`);
  } catch (e) {
    console.log(`${name}: threw ${e.constructor.name}`);
  }
}

await call('ok', {});
await call('error', { headers: { 'x-scenario': 'error:500' } });
await call('timeout', { timeout: 200, headers: { 'x-scenario': 'delay:5000' } });
const ac = new AbortController();
setTimeout(() => ac.abort(), 100);
await call('cancelled', { signal: ac.signal, headers: { 'x-scenario': 'delay:5000' } });
