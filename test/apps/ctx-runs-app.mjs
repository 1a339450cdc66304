// ESM app of test/34-context-runs.test.mjs: the semantics of withLlmContext / withAgent / withTool /
// withWorkflow in a real process (openai 6, --import). Each case runs in its own session id and
// prints one JSON line `{ case, … }` with what the app observed (returned values, caught errors).
//
// Environment: TEST_OPENAI_URL.

import { getLlmContext, withAgent, withLlmContext, withTool, withWorkflow } from 'llm-otel';
import OpenAI from 'openai';

const BOUVET = [{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }];
const CHAT = 'chat-completions-adds-genai-conventions';
const fixture = (name, scenario) => ({ headers: { 'x-fixture': name, ...(scenario ? { 'x-scenario': scenario } : {}) } });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const print = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

class BoomError extends Error {
  constructor(message) {
    super(message);
    this.name = 'BoomError';
    this.code = 'E_BOOM';
  }
}

async function main() {
  const client = new OpenAI({ baseURL: `${process.env.TEST_OPENAI_URL}/v1`, apiKey: 'sk-test-context', maxRetries: 0 });
  const ask = (step, scenario) =>
    withLlmContext({ metadata: { step } }, () =>
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET }, fixture(CHAT, scenario)),
    );

  // ---- nested scopes merge: inner wins per key, tags united, metadata merged, nothing leaks out ----
  {
    const seen = {};
    await withLlmContext(
      {
        sessionId: 'nest',
        userId: 'u-outer',
        agentName: 'outer-agent',
        conversationId: 'conv-outer',
        tags: ['a', 'b'],
        metadata: { tenant: 't1', plan: 'free' },
      },
      async () => {
        seen.outer = getLlmContext();
        await ask('outer-before');
        await withLlmContext({ userId: 'u-inner', tags: ['b', 'c'], metadata: { plan: 'pro', region: 'eu' } }, async () => {
          await sleep(1);
          seen.inner = getLlmContext();
          await ask('inner');
          // Empty or missing values never erase outer ones.
          await withLlmContext({ sessionId: undefined, userId: '', conversationId: 'conv-inner', tags: [] }, async () => {
            seen.innermost = getLlmContext();
            await ask('innermost');
          });
        });
        // Sibling scopes running concurrently do not see each other.
        await Promise.all(
          ['x', 'y'].map((s) =>
            withLlmContext({ userId: `u-${s}`, tags: [s] }, async () => {
              await sleep(s === 'x' ? 5 : 1);
              await ask(`sibling-${s}`);
            }),
          ),
        );
        seen.after = getLlmContext();
        await ask('outer-after');
      },
    );
    seen.outside = getLlmContext();
    print({ case: 'nest', seen });
  }

  // ---- agent names: withAgent sets agentName beneath; RunOptions merge into the context ----
  await withLlmContext({ sessionId: 'names', agentName: 'ctx-agent' }, async () => {
    await ask('ctx-only');
    await withWorkflow('wf', () => ask('in-workflow'));
    await withAgent('outer-a', async () => {
      await ask('in-outer');
      await withAgent('inner-a', () => ask('in-inner'));
      await withTool('opt-tool', () => ask('in-tool'), { userId: 'opt-user', tags: ['tool-tag'] });
      await ask('back-in-outer');
    });
  });
  print({ case: 'names' });

  // ---- errors are rethrown unchanged; the run is marked ----
  await withLlmContext({ sessionId: 'errors', userId: 'u-err' }, async () => {
    const out = { case: 'errors' };
    const boom = new BoomError('agent exploded for bob@example.com');
    try {
      await withAgent('boom-agent', async () => {
        await ask('before-boom');
        await sleep(1);
        throw boom;
      });
      out.async = 'no error';
    } catch (e) {
      out.async = { same: e === boom, message: e.message, code: e.code, name: e.name };
    }
    const sync = new BoomError('sync tool failed');
    let returned;
    try {
      returned = withTool('sync-fail', () => {
        throw sync;
      });
      out.sync = { returned: typeof returned };
    } catch (e) {
      out.sync = { same: e === sync, thrownSynchronously: true };
    }
    try {
      await withWorkflow('string-throw', async () => {
        throw 'plain string';
      }); // eslint-disable-line no-throw-literal
    } catch (e) {
      out.nonError = { same: e === 'plain string' };
    }
    try {
      await withTool('llm-fail', () =>
        client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET }, fixture(CHAT, 'error:400')),
      );
    } catch (e) {
      out.llm = { isBadRequest: e instanceof OpenAI.BadRequestError, status: e.status };
    }
    const inner = new BoomError('inner tool failed');
    try {
      await withAgent('wrapping-agent', () =>
        withTool('inner-fail', async () => {
          await sleep(1);
          throw inner;
        }),
      );
    } catch (e) {
      out.nested = { same: e === inner };
    }
    const ctxErr = new BoomError('scope failed');
    try {
      withLlmContext({ userId: 'x' }, () => {
        throw ctxErr;
      });
    } catch (e) {
      out.ctxSync = { same: e === ctxErr };
    }
    try {
      await withLlmContext({ userId: 'x' }, async () => {
        throw ctxErr;
      });
    } catch (e) {
      out.ctxAsync = { same: e === ctxErr };
    }
    print(out);
  });

  // ---- return values: sync stays sync, async stays async, SDK objects are handed back as they are ----
  await withLlmContext({ sessionId: 'returns' }, async () => {
    const out = { case: 'returns' };
    const obj = { a: 1 };
    const n = withAgent('sync-agent', () => 42);
    out.syncAgent = { value: n, isPromise: n instanceof Promise };
    out.syncTool = withTool('sync-tool', () => obj) === obj;
    out.syncWorkflow = withWorkflow('sync-wf', () => undefined) === undefined;
    out.syncScope = withLlmContext({ userId: 'r' }, () => 'x');
    out.badAttrs = withLlmContext(null, () => 'still runs');
    const p = withAgent('async-agent', async () => {
      await sleep(1);
      return 'v';
    });
    out.asyncAgent = { isPromise: p instanceof Promise, value: await p };
    // An APIPromise returned through a run keeps .asResponse() / .withResponse() usable.
    const ap = withTool('api-promise', () => client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET }, fixture(CHAT)));
    const res = await ap.asResponse();
    out.asResponse = { status: res.status, id: (await res.json()).id };
    const { data, response } = await withTool('with-response', () =>
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET }, fixture(CHAT)),
    ).withResponse();
    out.withResponse = { id: data.id, status: response.status };
    // A stream returned by a run and consumed after the run ended.
    const stream = await withTool('stream-tool', () =>
      client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: BOUVET, stream: true, stream_options: { include_usage: true } },
        fixture('streaming-chat-completions-records-usage'),
      ),
    );
    await sleep(5);
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    out.stream = text;
    print(out);
  });

  // ---- a tool run's toolCallId joins the call whose output requested it ----
  await withLlmContext({ sessionId: 'weather', userId: 'u-weather' }, () =>
    withAgent('weather-agent', async () => {
      const messages = [
        { role: 'system', content: 'You are a helpful assistant providing weather updates.' },
        { role: 'user', content: 'What is the weather in New York City and London?' },
      ];
      const tools = [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            strict: true,
            parameters: {
              type: 'object',
              properties: { location: { type: 'string' } },
              required: ['location'],
              additionalProperties: false,
            },
          },
        },
      ];
      const first = await client.chat.completions.create(
        { model: 'gpt-4o-mini', messages, tools },
        fixture('chat-completions-records-tool-calls'),
      );
      const msg = first.choices[0].message;
      messages.push(msg);
      const ids = [];
      for (const tc of msg.tool_calls) {
        ids.push(tc.id);
        const content = await withTool(
          tc.function.name,
          async () => {
            await sleep(1);
            return `Sunny in ${JSON.parse(tc.function.arguments).location}`;
          },
          { toolCallId: tc.id },
        );
        messages.push({ role: 'tool', tool_call_id: tc.id, content });
      }
      const second = await client.chat.completions.create(
        { model: 'gpt-4o-mini', messages, tools },
        fixture('chat-completions-records-tool-calls'),
      );
      print({ case: 'weather', ids, firstId: first.id, secondId: second.id });
    }),
  );

  // ---- a workflow's totals count calls through nested runs ----
  await withLlmContext({ sessionId: 'pipeline' }, () =>
    withWorkflow('pipeline', () =>
      withAgent('step-agent', async () => {
        await ask('wf-1');
        await withTool('wf-tool', () => ask('wf-2'));
        try {
          await ask('wf-3', 'error:500');
        } catch {
          /* counted as an error */
        }
      }),
    ),
  );
  print({ case: 'pipeline' });
}

// node --test also runs every file under test/: nothing happens without the test's environment.
if (process.env.TEST_OPENAI_URL) await main();
