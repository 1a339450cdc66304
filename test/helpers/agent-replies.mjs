// A scripted "model" for driving agent frameworks against the loopback OpenAI-wire server: the
// app's agent instructions (system prompt) carry directives, and each request is answered from
// them and from the conversation so far, in the Responses API or chat completions, streamed (SSE)
// or not. No recordings: any agent loop (tool call → tool result → answer, handoffs) plays out.
//
//   const server = await startOpenAIServer({ scripted: agentReplies });
//
// Directives in the instructions (Responses `instructions`, or the first system/developer message):
//   [[call:NAME ARGS_JSON]]  first ask for this function call (one per directive, in order), once
//                            its output is in the conversation go on to the next directive
//   [[reply:TEXT]]           the final answer: TEXT, then " | " and every tool output seen, in order
// Without directives the answer is "ok". Usage is fixed: 11 input, 7 output tokens.
// A request whose instructions hold no `[[` is left to the fixtures (returns null).

const USAGE_RESPONSES = {
  input_tokens: 11,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: 7,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 18,
};
const USAGE_CHAT = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };

let seq = 0;
const nextId = (p) => `${p}_${process.pid}_${++seq}`;

function textOf(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((c) => (typeof c === 'string' ? c : (c?.text ?? ''))).join('');
  return '';
}

/** Directives and the conversation's tool calls/outputs, from either API's request body. */
function readConversation(path, body) {
  let instructions = '';
  const calls = []; // { name, args }
  const outputs = []; // strings
  if (path === '/v1/responses') {
    instructions = typeof body.instructions === 'string' ? body.instructions : '';
    const input = Array.isArray(body.input) ? body.input : [];
    for (const item of input) {
      if (item?.role === 'system' || item?.role === 'developer') instructions += textOf(item.content);
      if (item?.type === 'function_call') calls.push({ name: item.name, args: item.arguments });
      if (item?.type === 'function_call_output') outputs.push(typeof item.output === 'string' ? item.output : JSON.stringify(item.output));
    }
  } else {
    for (const m of Array.isArray(body.messages) ? body.messages : []) {
      if (m?.role === 'system' || m?.role === 'developer') instructions += textOf(m.content);
      for (const tc of m?.tool_calls ?? []) calls.push({ name: tc.function?.name, args: tc.function?.arguments });
      if (m?.role === 'tool') outputs.push(textOf(m.content));
    }
  }
  return { instructions, calls, outputs };
}

function directives(instructions) {
  const wanted = [];
  let reply = 'ok';
  for (const m of instructions.matchAll(/\[\[(call|reply):([^\]]*)\]\]/g)) {
    if (m[1] === 'reply') reply = m[2];
    else {
      const [, name, args = '{}'] = /^(\S+)\s*(.*)$/s.exec(m[2].trim()) ?? [];
      wanted.push({ name, args: args || '{}' });
    }
  }
  return { wanted, reply };
}

/** What the model "says" next: a function call, or the final text. */
function decide(path, body) {
  const conv = readConversation(path, body);
  if (!conv.instructions.includes('[[')) return null;
  const { wanted, reply } = directives(conv.instructions);
  // The k-th directive is asked for once the conversation holds k calls of the directives' tools.
  const names = new Set(wanted.map((w) => w.name));
  const next = wanted[conv.calls.filter((c) => names.has(c.name)).length];
  if (next) return { call: { name: next.name, args: next.args, callId: nextId('call') } };
  return { text: [reply, ...conv.outputs].join(' | ') };
}

function responsesObject(model, decision, status = 'completed') {
  const output = [];
  if (decision.call) {
    output.push({
      type: 'function_call',
      id: nextId('fc'),
      call_id: decision.call.callId,
      name: decision.call.name,
      arguments: decision.call.args,
      status: 'completed',
    });
  } else if (status === 'completed') {
    output.push({
      type: 'message',
      id: nextId('msg'),
      role: 'assistant',
      status: 'completed',
      content: [{ type: 'output_text', text: decision.text, annotations: [] }],
    });
  }
  return {
    id: nextId('resp'),
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status,
    model,
    output,
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: [],
    usage: status === 'completed' ? USAGE_RESPONSES : null,
  };
}

const sse = (event, data) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

function responsesEvents(model, decision) {
  const final = responsesObject(model, decision);
  const started = { ...responsesObject(model, decision, 'in_progress'), id: final.id };
  const events = [sse('response.created', { type: 'response.created', response: started, sequence_number: 0 })];
  let n = 1;
  final.output.forEach((item, i) => {
    const empty = item.type === 'message' ? { ...item, status: 'in_progress', content: [] } : { ...item, arguments: '' };
    events.push(
      sse('response.output_item.added', { type: 'response.output_item.added', output_index: i, item: empty, sequence_number: n++ }),
    );
    if (item.type === 'message') {
      const text = item.content[0].text;
      for (const piece of text.match(/.{1,8}/gs) ?? []) {
        events.push(
          sse('response.output_text.delta', {
            type: 'response.output_text.delta',
            item_id: item.id,
            output_index: i,
            content_index: 0,
            delta: piece,
            logprobs: [],
            sequence_number: n++,
          }),
        );
      }
    } else {
      events.push(
        sse('response.function_call_arguments.delta', {
          type: 'response.function_call_arguments.delta',
          item_id: item.id,
          output_index: i,
          delta: item.arguments,
          sequence_number: n++,
        }),
      );
    }
    events.push(sse('response.output_item.done', { type: 'response.output_item.done', output_index: i, item, sequence_number: n++ }));
  });
  events.push(sse('response.completed', { type: 'response.completed', response: final, sequence_number: n++ }));
  return events;
}

function chatObject(model, decision) {
  const message = decision.call
    ? {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: decision.call.callId, type: 'function', function: { name: decision.call.name, arguments: decision.call.args } }],
      }
    : { role: 'assistant', content: decision.text };
  return {
    id: nextId('chatcmpl'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message, finish_reason: decision.call ? 'tool_calls' : 'stop', logprobs: null }],
    usage: USAGE_CHAT,
  };
}

function chatEvents(model, decision, includeUsage) {
  const id = nextId('chatcmpl');
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta, finish = null, extra = {}) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
  const events = [chunk({ role: 'assistant', content: '' })];
  if (decision.call) {
    const { callId, name, args } = decision.call;
    events.push(chunk({ tool_calls: [{ index: 0, id: callId, type: 'function', function: { name, arguments: '' } }] }));
    events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: args } }] }));
    events.push(chunk({}, 'tool_calls'));
  } else {
    for (const piece of decision.text.match(/.{1,8}/gs) ?? []) events.push(chunk({ content: piece }));
    events.push(chunk({}, 'stop'));
  }
  if (includeUsage)
    events.push(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: USAGE_CHAT })}\n\n`);
  events.push('data: [DONE]\n\n');
  return events;
}

/**
 * The server's `scripted` hook: `{ json }` or `{ sse: events }` for a request whose instructions
 * carry directives, else null (the fixtures answer).
 */
export function agentReplies({ method, path, body }) {
  if (method !== 'POST' || !body || typeof body !== 'object') return null;
  if (path !== '/v1/responses' && path !== '/v1/chat/completions') return null;
  const decision = decide(path, body);
  if (!decision) return null;
  const model = typeof body.model === 'string' ? body.model : 'gpt-4o-mini';
  if (path === '/v1/responses') {
    return body.stream ? { sse: responsesEvents(model, decision) } : { json: responsesObject(model, decision) };
  }
  return body.stream
    ? { sse: chatEvents(model, decision, body.stream_options?.include_usage === true) }
    : { json: chatObject(model, decision) };
}
