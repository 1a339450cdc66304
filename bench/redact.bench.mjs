// Micro benchmark of content redaction (and cleanText) on a typical ~2 KB prompt, with and without
// secrets. Prints ns per call; not run in CI.   node scripts/build.mjs && node bench/redact.bench.mjs
import { chatRequestContent, cleanText, createRedactor } from '../dist/esm/src/content/index.js';

const PARA =
  'You are a helpful assistant for an online bookshop. The customer ordered 3 books in 2025 ' +
  'and paid 42.50 EUR; order #88213 was shipped on 2025-11-02T10:15:00Z via standard delivery, ' +
  'which usually takes 3-5 business days. Answer politely, summarise the order status, and suggest ' +
  "two related titles. Keep the answer under 120 words, use the customer's first name (Anna), and " +
  'mention that returns are free within 30 days. The catalogue API returned 17 results in 0.25 s; ' +
  'ignore out-of-stock items (status=404) and prefer paperbacks priced below 15.99. ';
const clean2k = PARA.repeat(Math.ceil(2048 / PARA.length)).slice(0, 2048);
const SECRETS =
  ' Contact anna.schmidt@example.de or +44 20 7946 0958 / 138-1234-5678; card 4111 1111 1111 1111; ' +
  'key sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z; Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk. ';
const secret2k = (SECRETS + clean2k).slice(0, 2048);
const big = clean2k.repeat(200); // ~400 KB pasted document

const redact = createRedactor({ mode: 'default' });
const o = { redact, maxChars: 4096 };
const chatBody = {
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: clean2k.slice(0, 600) },
    { role: 'user', content: clean2k },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        {
          id: 'call_1',
          type: 'function',
          function: { name: 'lookup_order', arguments: '{"order_id":"88213","email":"anna.schmidt@example.de"}' },
        },
      ],
    },
    { role: 'tool', tool_call_id: 'call_1', content: '{"status":"shipped","eta_days":3}' },
  ],
};

function bench(name, fn, targetMs = 400) {
  for (let i = 0; i < 2000; i++) fn(); // warm up (JIT)
  let n = 0;
  const t0 = process.hrtime.bigint();
  let t = t0;
  const limit = BigInt(targetMs) * 1_000_000n;
  while (t - t0 < limit) {
    for (let i = 0; i < 200; i++) fn();
    n += 200;
    t = process.hrtime.bigint();
  }
  const ns = Number(t - t0) / n;
  console.log(`${name.padEnd(44)} ${ns.toFixed(0).padStart(9)} ns/call  (${n} calls)`);
}

let sink = 0;
bench('redact 2 KB, no secrets', () => {
  sink += redact(clean2k).length;
});
bench('redact 2 KB, with secrets', () => {
  sink += redact(secret2k).length;
});
bench('cleanText 2 KB, no secrets (max 4096)', () => {
  sink += cleanText(clean2k, o).length;
});
bench('cleanText 400 KB document (max 4096)', () => {
  sink += cleanText(big, o).length;
});
bench('chatRequestContent 4 messages (~2.7 KB)', () => {
  sink += chatRequestContent(chatBody, o).inputMessages.length;
});
bench('chatRequestContent + JSON.stringify', () => {
  sink += JSON.stringify(chatRequestContent(chatBody, o).inputMessages).length;
});
if (sink === 42) console.log('');
console.log(`(redacted sample: ${JSON.stringify(redact(SECRETS))})`);
