// A scripted model for agent tests, for startOpenAIServer({ respond: agentScript() }): on the chat
// completions API, a request that offers tools and has not had its tool turns yet gets a tool call
// (the tool named in the last user message, else the first offered), with arguments made from the
// tool's JSON schema; after that, a final answer that quotes the tool results. Streamed requests
// (`stream: true`) get the same as chat.completion.chunk SSE events (usage last when asked for).
// Everything is derived from the request, so the same request always gets the same answer (and
// the same tool call id) — an app's output can be compared with and without llm-otel.
//
//   const server = await startOpenAIServer({ respond: agentScript() });
//
// Per request, header `x-agent-tool-turns: N` (default 1): how many tool-call turns before the
// final answer. Requests to other APIs are left to the server's fixtures (the script returns null).

import { createHash } from 'node:crypto';

const hash = (v) => createHash('sha256').update(JSON.stringify(v)).digest('hex');

/** A value of the given JSON schema (deterministic; strings name their property). */
function sample(schema, name) {
  if (!schema || typeof schema !== 'object') return `${name}-1`;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  switch (Array.isArray(schema.type) ? schema.type[0] : schema.type) {
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [sample(schema.items, name)];
    case 'object': {
      const out = {};
      for (const [k, v] of Object.entries(schema.properties ?? {})) out[k] = sample(v, k);
      return out;
    }
    default:
      return `${name}-1`;
  }
}

const text = (content) =>
  typeof content === 'string'
    ? content
    : Array.isArray(content)
      ? content.map((p) => (typeof p === 'string' ? p : (p?.text ?? ''))).join('')
      : '';

/** What the model does next for a chat completions request: { toolCall } or { content }. */
export function nextChatStep(body, { toolTurns = 1 } = {}) {
  const messages = Array.isArray(body?.messages) ? body.messages : [];
  let lastUser = -1;
  messages.forEach((m, i) => {
    if (m?.role === 'user') lastUser = i;
  });
  const since = messages.slice(lastUser + 1);
  const turns = since.filter((m) => m?.role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length).length;
  const tools = (Array.isArray(body?.tools) ? body.tools : []).filter((t) => t?.type === 'function' && t.function?.name);
  if (tools.length && turns < toolTurns) {
    const said = text(messages[lastUser]?.content);
    const tool = tools.find((t) => said.includes(t.function.name)) ?? tools[0];
    const args = sample(tool.function.parameters ?? { type: 'object' }, tool.function.name);
    return {
      toolCall: { id: `call_${hash([messages, turns]).slice(0, 20)}`, name: tool.function.name, arguments: JSON.stringify(args) },
    };
  }
  const results = since.filter((m) => m?.role === 'tool').map((m) => text(m.content));
  return { content: results.length ? `Final answer from ${results.length} tool result(s): ${results.join('; ')}` : 'Final answer.' };
}

function usageOf(body, step) {
  const prompt = 10 * (Array.isArray(body?.messages) ? body.messages.length : 1);
  const completion = step.toolCall ? 12 : 8;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function chatJson(body, step) {
  const message = step.toolCall
    ? {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: step.toolCall.id, type: 'function', function: { name: step.toolCall.name, arguments: step.toolCall.arguments } },
        ],
      }
    : { role: 'assistant', content: step.content };
  return {
    id: `chatcmpl-${hash(body).slice(0, 24)}`,
    object: 'chat.completion',
    created: 1_700_000_000,
    model: typeof body.model === 'string' ? body.model : 'gpt-4o-mini',
    choices: [{ index: 0, message, logprobs: null, finish_reason: step.toolCall ? 'tool_calls' : 'stop' }],
    usage: usageOf(body, step),
  };
}

function chatSse(body, step) {
  const base = {
    id: `chatcmpl-${hash(body).slice(0, 24)}`,
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: typeof body.model === 'string' ? body.model : 'gpt-4o-mini',
  };
  const withUsage = body.stream_options?.include_usage === true;
  const chunk = (delta, finish = null) => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(withUsage ? { usage: null } : {}),
  });
  const events = [];
  if (step.toolCall) {
    const { id, name, arguments: args } = step.toolCall;
    events.push(
      chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id, type: 'function', function: { name, arguments: '' } }] }),
    );
    const half = Math.ceil(args.length / 2);
    for (const part of [args.slice(0, half), args.slice(half)])
      events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: part } }] }));
    events.push(chunk({}, 'tool_calls'));
  } else {
    events.push(chunk({ role: 'assistant', content: '' }));
    for (const word of step.content.split(/(?<= )/)) events.push(chunk({ content: word }));
    events.push(chunk({}, 'stop'));
  }
  if (withUsage) events.push({ ...base, choices: [], usage: usageOf(body, step) });
  return [...events.map((e) => `data: ${JSON.stringify(e)}\n\n`), 'data: [DONE]\n\n'];
}

/** The `respond` function for startOpenAIServer. */
export function agentScript() {
  return ({ method, path, headers, body }) => {
    if (method !== 'POST' || path !== '/v1/chat/completions' || !body || typeof body !== 'object') return null;
    const turns = Number(headers['x-agent-tool-turns'] ?? 1);
    const step = nextChatStep(body, { toolTurns: Number.isInteger(turns) && turns >= 0 ? turns : 1 });
    return body.stream ? { sse: chatSse(body, step) } : { json: chatJson(body, step) };
  };
}
