// The sample app `llm-otel demo` runs as a child process under `node --import llm-otel/register`:
// an ordinary openai-SDK app that knows nothing about tracing except the llm-otel context API.
// Usage: node --import <llm-otel/register> app.cjs.js <baseURL> [<openai-from>]
// It shows: sessions and users, an agent with a tool, a stream (with and without usage), a retried
// rate limit, a failing call, embeddings.

import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type OpenAIClass from 'openai';
import { errorMessage } from '../../core/warn.js';
import { withAgent, withLlmContext, withTool } from '../../index.js';

const [, , baseURL, openaiFrom] = process.argv;
// `openai` is required by name, as any app does, but from where the CLI chose (src/cli/demo/sdk.ts):
// the user's project when it has one, else llm-otel's own.
const sdkRequire = openaiFrom ? createRequire(openaiFrom) : require;
const sdk = sdkRequire('openai') as { default?: typeof OpenAIClass; OpenAI?: typeof OpenAIClass };
const OpenAI = (sdk.default ?? sdk.OpenAI ?? sdk) as typeof OpenAIClass;
const client = new OpenAI({ apiKey: 'demo-key-not-needed', baseURL, maxRetries: 2 });

/** `using openai 4.104.0 from /project/node_modules/openai`: the SDK this process really loaded. */
function sdkLine(): string {
  const where = dirname(sdkRequire.resolve('openai'));
  try {
    return `using openai ${(sdkRequire('openai/version') as { VERSION: string }).VERSION} from ${where}`;
  } catch {
    return `using openai from ${where}`;
  }
}

const tools = [
  {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      description: 'Current weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string', description: 'City name' } }, required: ['city'] },
    },
  },
];

const WEATHER: Record<string, string> = { Paris: '18°C and cloudy', London: '14°C and raining', Tokyo: '22°C and sunny' };

function say(line: string): void {
  process.stdout.write(line + '\n');
}

async function tripPlanner(question: string): Promise<string | null> {
  return withAgent('trip-planner', async () => {
    const messages: OpenAIClass.Chat.ChatCompletionMessageParam[] = [
      { role: 'system', content: 'You are a concise travel assistant. Use tools for live data.' },
      { role: 'user', content: question },
    ];
    const first = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, tools });
    const msg = first.choices[0]!.message;
    const call = msg.tool_calls?.[0];
    if (call?.type !== 'function') return msg.content;
    const { city } = JSON.parse(call.function.arguments) as { city: string };
    const weather = await withTool('get_weather', async () => WEATHER[city] ?? '20°C and clear', { toolCallId: call.id });
    say(`  tool get_weather(${city}) → ${weather}`);
    messages.push(msg, { role: 'tool', tool_call_id: call.id, content: weather });
    const second = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, tools });
    return second.choices[0]!.message.content;
  });
}

async function streamed(prompt: string, includeUsage: boolean): Promise<string> {
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    stream: true,
    messages: [{ role: 'user', content: prompt }],
    ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  return text;
}

async function main(): Promise<void> {
  say(sdkLine());
  await withLlmContext({ sessionId: 'demo-session-1', userId: 'alice', tags: ['demo'] }, async () => {
    say('session demo-session-1 (user alice)');
    const answer = await tripPlanner('What should I wear in Paris today?');
    say(`  agent trip-planner answered: ${answer}`);
    const haiku = await streamed('Write a haiku about observability.', true);
    say(`  streamed a haiku (${haiku.split('\n').length} lines, usage reported by the server)`);
    await streamed('Say hello in five words.', false);
    say('  streamed without include_usage (tokens estimated offline)');
    // The demo server answers this one with 429 first; the SDK retries by itself.
    const flaky = await client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Are you there?' }] },
      { headers: { 'x-demo-fail': '429-once' } },
    );
    say(`  answered after a 429 and one retry: ${flaky.choices[0]!.message.content?.slice(0, 40)}…`);
  });
  await withLlmContext({ sessionId: 'demo-session-2', userId: 'bob' }, async () => {
    say('session demo-session-2 (user bob)');
    const emb = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['llm-otel', 'OpenTelemetry GenAI'] });
    say(`  embedded ${emb.data.length} texts`);
    try {
      await client.chat.completions.create({ model: 'demo-missing', messages: [{ role: 'user', content: 'Hello?' }] });
    } catch (e) {
      say(`  a failing call, as expected: ${(e as Error).constructor.name} ${(e as { status?: number }).status ?? ''}`);
    }
    const big = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Summarise the plot of Hamlet in one sentence.' }],
    });
    say(`  gpt-4o: ${big.choices[0]!.message.content?.slice(0, 50)}…`);
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`demo app failed: ${errorMessage(e) ?? String(e)}\n`);
  process.exitCode = 1;
});
