// A scripted model for agent tests, for startOpenAIServer({ respond: agentScript() }): on the chat
// completions and the Responses API, a request that offers tools and has not had its tool turns yet gets a tool call
// (the tool named in the last user message, else the first offered), with arguments made from the
// tool's JSON schema; after that, a final answer that quotes the tool results. Streamed requests
// (`stream: true`) get the same as chat.completion.chunk SSE events (usage last when asked for).
// Everything is derived from the request, so the same request always gets the same answer (and
// the same tool call id) — an app's output can be compared with and without llm-otel. Responses
// streams are the API's event sequence (created … output_item.done, completed with usage).
//
//   const server = await startOpenAIServer({ respond: agentScript() });
//
// Per request, header `x-agent-tool-turns: N` (default 1): how many tool-call turns before the
// final answer. Requests to other paths are left to the server's fixtures (the script returns null).

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

// ---- the Responses API: the same script over `input` items and function_call / function_call_output ----

/** What the model does next for a Responses request: { toolCall } or { content }. */
export function nextResponsesStep(body, { toolTurns = 1 } = {}) {
  const items = typeof body?.input === 'string' ? [{ role: 'user', content: body.input }] : Array.isArray(body?.input) ? body.input : [];
  let lastUser = -1;
  items.forEach((it, i) => {
    if (it?.role === 'user') lastUser = i;
  });
  const since = items.slice(lastUser + 1);
  const turns = since.filter((it) => it?.type === 'function_call').length;
  const tools = (Array.isArray(body?.tools) ? body.tools : []).filter((t) => t?.type === 'function' && t.name);
  if (tools.length && turns < toolTurns) {
    const said = text(items[lastUser]?.content);
    const tool = tools.find((t) => said.includes(t.name)) ?? tools[0];
    const args = sample(tool.parameters ?? { type: 'object' }, tool.name);
    return { toolCall: { id: `call_${hash([items, turns]).slice(0, 20)}`, name: tool.name, arguments: JSON.stringify(args) } };
  }
  const results = since.filter((it) => it?.type === 'function_call_output').map((it) => text(it.output));
  return { content: results.length ? `Final answer from ${results.length} tool result(s): ${results.join('; ')}` : 'Final answer.' };
}

function responsesItem(body, step) {
  const h = hash(body).slice(0, 24);
  return step.toolCall
    ? {
        type: 'function_call',
        id: `fc_${h}`,
        call_id: step.toolCall.id,
        name: step.toolCall.name,
        arguments: step.toolCall.arguments,
        status: 'completed',
      }
    : {
        type: 'message',
        id: `msg_${h}`,
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text: step.content, annotations: [], logprobs: [] }],
      };
}

function responsesBody(body, step, status, output) {
  const items = Array.isArray(body?.input) ? body.input.length : 1;
  const input = 10 * items;
  const out = step.toolCall ? 12 : 8;
  return {
    id: `resp_${hash(body).slice(0, 24)}`,
    object: 'response',
    created_at: 1_700_000_000,
    status,
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    model: typeof body.model === 'string' ? body.model : 'gpt-4o-mini',
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: Array.isArray(body.tools) ? body.tools : [],
    top_p: 1,
    truncation: 'disabled',
    usage:
      status === 'completed'
        ? {
            input_tokens: input,
            input_tokens_details: { cached_tokens: 0 },
            output_tokens: out,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: input + out,
          }
        : null,
    metadata: {},
  };
}

function responsesSse(body, step) {
  const item = responsesItem(body, step);
  const events = [];
  const push = (type, data) => events.push({ type, sequence_number: events.length, ...data });
  push('response.created', { response: responsesBody(body, step, 'in_progress', []) });
  push('response.in_progress', { response: responsesBody(body, step, 'in_progress', []) });
  const at = { output_index: 0, item_id: item.id };
  if (step.toolCall) {
    push('response.output_item.added', { output_index: 0, item: { ...item, arguments: '', status: 'in_progress' } });
    const half = Math.ceil(item.arguments.length / 2);
    for (const delta of [item.arguments.slice(0, half), item.arguments.slice(half)])
      push('response.function_call_arguments.delta', { ...at, delta });
    push('response.function_call_arguments.done', { ...at, arguments: item.arguments });
  } else {
    const textPart = item.content[0].text;
    push('response.output_item.added', { output_index: 0, item: { ...item, content: [], status: 'in_progress' } });
    push('response.content_part.added', { ...at, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
    for (const delta of textPart.split(/(?<= )/)) push('response.output_text.delta', { ...at, content_index: 0, delta, logprobs: [] });
    push('response.output_text.done', { ...at, content_index: 0, text: textPart, logprobs: [] });
    push('response.content_part.done', { ...at, content_index: 0, part: item.content[0] });
  }
  push('response.output_item.done', { output_index: 0, item });
  push('response.completed', { response: responsesBody(body, step, 'completed', [item]) });
  return events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
}

/** The `respond` function for startOpenAIServer: chat completions and Responses requests. */
export function agentScript() {
  return ({ method, path, headers, body }) => {
    if (method !== 'POST' || !body || typeof body !== 'object') return null;
    const turns = Number(headers['x-agent-tool-turns'] ?? 1);
    const toolTurns = Number.isInteger(turns) && turns >= 0 ? turns : 1;
    if (path === '/v1/chat/completions') {
      const step = nextChatStep(body, { toolTurns });
      return body.stream ? { sse: chatSse(body, step) } : { json: chatJson(body, step) };
    }
    if (path === '/v1/responses') {
      const step = nextResponsesStep(body, { toolTurns });
      return body.stream
        ? { sse: responsesSse(body, step) }
        : { json: responsesBody(body, step, 'completed', [responsesItem(body, step)]) };
    }
    return null;
  };
}
