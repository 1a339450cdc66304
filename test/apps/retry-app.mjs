// Retried calls for test/18-retries: chat, chat stream, responses and responses stream, each answered
// 429 or 500 first by the loopback server. Copied into test/.matrix/vN/ so `openai` is major N.
// Usage: node retry-app.mjs [x509] [own-provider]   (x509: openai 7's X.509 workload identity,
// through test/helpers/x509-peer.mjs, TEST_X509 holding the credential options; own-provider: the
// app registers a tracer provider of its own, so llm-otel enters a context around each call)

import OpenAI from 'openai';

const x509 = process.argv.includes('x509');
if (process.argv.includes('own-provider')) {
  const { trace } = await import('@opentelemetry/api');
  const { BasicTracerProvider } = await import('@opentelemetry/sdk-trace-base');
  trace.setGlobalTracerProvider(new BasicTracerProvider());
}
let credential;
let client;
if (x509) {
  const { fromX509 } = await import('openai/auth/x509-transport');
  credential = fromX509({
    ...JSON.parse(process.env.TEST_X509),
    identityProviderId: 'idp_llmotel_test',
    serviceAccountId: 'sa_llmotel_test',
  });
  client = new OpenAI({ credential, maxRetries: 2 });
} else {
  client = new OpenAI({ baseURL: `${process.env.TEST_OPENAI_URL}/v1`, apiKey: 'sk-llmotel-retries-5c1d', maxRetries: 2 });
}
const opts = (fixture, scenario) => ({ headers: { 'x-fixture': fixture, 'x-scenario': scenario } });
const USER = [{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }];

const out = {};
const chat = await client.chat.completions.create(
  { model: 'gpt-4o-mini', messages: USER },
  opts('chat-completions-adds-genai-conventions', 'fail:429:2'),
);
out.chat = chat.choices[0].message.content;
const stream = await client.chat.completions.create(
  { model: 'gpt-4o-mini', messages: USER, stream: true },
  opts('streaming-chat-completions-adds-genai-conventions', 'fail:500:1'),
);
out.chatStream = '';
for await (const c of stream) out.chatStream += c.choices[0]?.delta?.content ?? '';
const resp = await client.responses.create(
  { model: 'gpt-4o-mini', input: 'Hello' },
  opts('responses-adds-genai-conventions', 'fail:429:2'),
);
out.responses = resp.id;
const rstream = await client.responses.create(
  { model: 'gpt-4o-mini', input: 'Hello', stream: true },
  opts('streaming-responses-adds-genai-conventions', 'fail:500:1'),
);
out.responsesStream = 0;
for await (const _ of rstream) out.responsesStream++;
await credential?.close();
console.log(JSON.stringify(out));
