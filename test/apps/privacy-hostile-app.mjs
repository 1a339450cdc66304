// App of test/54-privacy-hostile.test.mjs (openai 6, --import llm-otel/register): a hostile user's
// context values (circular, 100k-deep, Proxy and throwing-getter metadata, odd tags and ids),
// personal data in the context, and a provider/proxy that echoes the client's own API key (a
// 32-hex key with no known shape) in an error, a response and a request id. Prints one JSON line
// per case with what the app itself saw, so the test can prove the app's results are unchanged.
//
// Environment: TEST_OPENAI_URL (the test's echo server), TEST_KEY (the client's API key).

import { withAgent, withLlmContext, withTool } from 'llm-otel';
import OpenAI from 'openai';

const print = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const KEY = process.env.TEST_KEY;
const client = new OpenAI({ baseURL: `${process.env.TEST_OPENAI_URL}/v1`, apiKey: KEY, maxRetries: 0 });
const ask = (opts = {}) =>
  client.chat.completions.create(
    { model: 'gpt-4o-mini', messages: [{ role: 'user', content: opts.prompt ?? 'Which ocean contains Bouvet Island?' }] },
    { headers: opts.headers ?? {} },
  );

function hostileContexts() {
  const circular = { a: 1 };
  circular.self = circular;
  let deep = {};
  for (let i = 0; i < 100_000; i++) deep = { d: deep };
  const throwing = new Proxy(
    {},
    {
      get() {
        throw new Error('proxy get');
      },
      ownKeys() {
        throw new Error('proxy ownKeys');
      },
      getOwnPropertyDescriptor() {
        throw new Error('proxy descriptor');
      },
    },
  );
  const getter = { ok: 'fine' };
  Object.defineProperty(getter, 'bad', {
    enumerable: true,
    get() {
      throw new Error('getter');
    },
  });
  const badString = {
    toString() {
      throw new Error('toString');
    },
  };
  const sessionGetter = {};
  Object.defineProperty(sessionGetter, 'sessionId', {
    enumerable: true,
    get() {
      throw new Error('sessionId getter');
    },
  });
  Object.defineProperty(sessionGetter, 'userId', { enumerable: true, value: 'u-getter' });
  return {
    circular: { metadata: { c: circular, plain: 'kept' } },
    deep: { metadata: { deep } },
    proxyMetadata: { metadata: throwing },
    proxyValue: { metadata: { p: throwing, n: 1 } },
    getter: { metadata: getter },
    bigint: { metadata: { big: 10n ** 30n, [Symbol('hidden')]: 'symbol key', sym: Symbol('v'), fn: () => 1 } },
    tags: { tags: [1, { a: 1 }, null, Symbol('s'), badString, 'ok', true, 10n] },
    objectIds: { userId: { id: 7 }, conversationId: new URL('https://example.com/c/9') },
    hugeSession: { userId: 'x'.repeat(1_000_000) },
    throwingSessionGetter: sessionGetter,
  };
}

async function main() {
  // ---- hostile context values: each call is recorded, the app's result is untouched ----
  for (const [name, ctx] of Object.entries(hostileContexts())) {
    // The getter case is its own context object (its session id getter throws).
    const r = await withLlmContext(name === 'throwingSessionGetter' ? ctx : { sessionId: `hostile-${name}`, ...ctx }, () => ask());
    print({ case: name, content: r.choices[0].message.content });
  }

  // ---- personal data in the context: calls and runs ----
  const personal = {
    sessionId: 'sess/bob@example.com',
    userId: 'bob@example.com',
    conversationId: 'conv +44 20 7946 0958',
    tags: ['card 4111 1111 1111 1111', 'plain-tag'],
    metadata: { phone: '+44 20 7946 0958', note: 'mail anna@example.de', token: 'sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z', n: 5 },
  };
  const answer = await withLlmContext(personal, () => withAgent('support', () => withTool('lookup', () => ask())));
  print({ case: 'personal', content: answer.choices[0].message.content });

  // ---- the client's own key, echoed back ----
  try {
    await ask({ headers: { 'x-echo': 'error' } });
    print({ case: 'echo-error', error: null });
  } catch (e) {
    // The app itself sees the provider's message as it was (the key included).
    print({ case: 'echo-error', error: e.constructor.name, sawKey: e.message.includes(KEY) });
  }
  const echoed = await withLlmContext({ sessionId: 'echo-ok', metadata: { pasted: `key ${KEY}` } }, () =>
    ask({ headers: { 'x-echo': 'ok' }, prompt: `my key is ${KEY}, keep it safe` }),
  );
  print({ case: 'echo-ok', sawKey: echoed.choices[0].message.content.includes(KEY) });
  try {
    await withLlmContext({ sessionId: 'echo-run' }, () => withAgent('echo-agent', () => ask({ headers: { 'x-echo': 'error' } })));
  } catch (e) {
    print({ case: 'echo-run', error: e.constructor.name });
  }
  print({ done: true });
}

await main();
