// App of test/67-fleet-end-to-end: a day of varied traffic through the real openai SDK under
// llm-otel/register in fleet mode — sessions, users, agents and tools (a tool call answered with its
// tool_call_id), a stream, HTTP 429/500 errors, a timeout, priced and unpriced models, an email in
// the content — against the loopback OpenAI-wire server (its `respond` answers with the request's
// model; `x-scenario` requests replay a fixture or fail as scripted).
//
//   node --import llm-otel/register fleet-e2e-app.mjs --part a|b|old [--wait-file F]
// Environment: TEST_OPENAI_URL (…/v1). Prints one JSON line { part, calls, failed, errors (status or name) }.
// --wait-file F: after the calls, create F.made, then wait (at most 60 s) until F exists (the test
// lets the process go once PostgreSQL holds everything in the spool).

import { existsSync, writeFileSync } from 'node:fs';
import { withAgent, withLlmContext, withTool, withWorkflow } from 'llm-otel';
import OpenAI from 'openai';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? dflt : args[i + 1];
};
const part = opt('part', 'a');
const waitFile = opt('wait-file', null);

const client = new OpenAI({ baseURL: process.env.TEST_OPENAI_URL, apiKey: 'sk-test-e2e', maxRetries: 0 });
const CHAT = 'chat-completions-adds-genai-conventions';
const scripted = (scenario) => ({ headers: { 'x-fixture': CHAT, 'x-scenario': scenario } });
const TOOLS = [
  {
    type: 'function',
    function: { name: 'lookup_order', parameters: { type: 'object', properties: { order: { type: 'string' } }, required: ['order'] } },
  },
];

let calls = 0;
let failed = 0;
const errors = [];
async function ask(model, content, { stream = false, opts, ...rest } = {}) {
  calls++;
  try {
    if (stream) {
      const s = await client.chat.completions.create(
        { model, messages: [{ role: 'user', content }], stream: true, stream_options: { include_usage: true }, ...rest },
        opts,
      );
      let text = '';
      for await (const chunk of s) text += chunk.choices[0]?.delta?.content ?? '';
      return text;
    }
    const r = await client.chat.completions.create({ model, messages: [{ role: 'user', content }], ...rest }, opts);
    return r.choices[0]?.message;
  } catch (e) {
    failed++;
    errors.push(e.status ?? e.constructor.name);
    return null;
  }
}

/** An agent that asks for a tool, runs it under withTool (with the call's id), and answers. */
async function agentTurn(agent, model, question) {
  return withAgent(agent, async () => {
    calls++;
    const messages = [{ role: 'user', content: question }];
    const first = await client.chat.completions.create({ model, messages, tools: TOOLS });
    const call = first.choices[0].message.tool_calls?.[0];
    const result = await withTool('lookup_order', async () => ({ order: JSON.parse(call.function.arguments).order, state: 'shipped' }), {
      toolCallId: call.id,
    });
    calls++;
    const second = await client.chat.completions.create({
      model,
      messages: [...messages, first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: JSON.stringify(result) }],
      tools: TOOLS,
    });
    return second.choices[0].message.content;
  });
}

const parts = {
  async a() {
    await withLlmContext(
      { sessionId: 'e2e-s1', userId: 'alice', tags: ['e2e', 'web'], metadata: { tenant: 't1', plan: 'pro' } },
      async () => {
        await ask('gpt-4o-mini', 'Hi, I am alice@example.com — where is my order?');
        await agentTurn('support-bot', 'gpt-4o-mini', 'Where is order A-17?');
        await ask('gpt-4o', 'Tell me a story in three chunks', { stream: true });
        await ask('acme-large', 'Price me in euros', { temperature: 0.2, max_tokens: 64 });
      },
    );
    await withLlmContext({ sessionId: 'e2e-s2', userId: 'bob', agentName: 'triage' }, async () => {
      await ask('gpt-4o-mini', 'rate limited?', { opts: scripted('error:429') });
      await ask('acme-local-7b', 'an unpriced local model');
      await ask('gpt-4o-mini', 'too slow', { opts: { ...scripted('delay:400'), timeout: 100 } });
    });
  },
  async b() {
    await withLlmContext(
      { sessionId: 'e2e-s3', userId: 'carol', tags: ['e2e', 'batch'], metadata: { region: 'eu', tenant: 't2' } },
      async () => {
        await withWorkflow('nightly', async () => {
          await agentTurn('planner', 'gpt-4o', 'Check order B-2');
          await ask('gpt-4o', 'server error?', { opts: scripted('error:500') });
          await withTool('broken_tool', async () => {
            throw new Error('tool failed: order service down');
          }).catch(() => {});
        });
        await ask('gpt-4o-mini', 'Summarise for carol@example.org', { stream: true });
      },
    );
    await withLlmContext({ sessionId: 'e2e-s2', userId: 'bob', agentName: 'triage' }, async () => {
      await ask('acme-local-7b', 'bob again, same session from another process');
    });
  },
  async old() {
    // Run under a shifted clock (the test's preload): calls dated in the past.
    await withLlmContext({ sessionId: `e2e-old-${opt('label', 'x')}`, userId: 'dave' }, async () => {
      await ask('gpt-4o-mini', 'an old question');
      await agentTurn('archivist', 'gpt-4o-mini', 'Find order C-3');
      await ask('acme-large', 'old euros', { stream: true });
    });
  },
};

await parts[part]();
process.stdout.write(`${JSON.stringify({ part, calls, failed, errors })}\n`);
if (waitFile) {
  writeFileSync(`${waitFile}.made`, ''); // the calls are made (and in the spool)
  const until = Date.now() + 60_000;
  while (!existsSync(waitFile) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
}
