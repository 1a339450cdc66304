// The model's tool calls, read from the SDK's response / generation span data (filled when the SDK
// traces with data, its default), so that the function and handoff spans that answer them can carry
// `gen_ai.tool.call.id`. The SDK's function span data has the tool's name and arguments, not the
// call id: a call is matched by name and arguments, in the order the model asked for them.

export interface ToolCallSeen {
  id: string;
  name: string;
  args: string;
}

const MAX_CALLS_PER_RESPONSE = 128;

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function pushChatToolCalls(out: ToolCallSeen[], message: any): void {
  const calls = message?.tool_calls;
  if (!Array.isArray(calls)) return;
  for (const tc of calls.slice(0, MAX_CALLS_PER_RESPONSE)) {
    const id = str(tc?.id);
    const name = str(tc?.function?.name);
    if (id && name) out.push({ id, name, args: str(tc?.function?.arguments) ?? '' });
  }
}

/**
 * Tool calls in a `response` span's `_response` (Responses API: `function_call` items) or a
 * `generation` span's `output` (chat completions: the completion, or its message).
 */
export function toolCallsOf(spanData: any): ToolCallSeen[] {
  const out: ToolCallSeen[] = [];
  try {
    if (spanData?.type === 'response') {
      const items = spanData._response?.output;
      if (!Array.isArray(items)) return out;
      for (const it of items.slice(0, MAX_CALLS_PER_RESPONSE)) {
        if (it?.type !== 'function_call') continue;
        const id = str(it.call_id);
        const name = str(it.name);
        if (id && name) out.push({ id, name, args: str(it.arguments) ?? '' });
      }
    } else if (spanData?.type === 'generation') {
      const output = spanData.output;
      if (!Array.isArray(output)) return out;
      for (const o of output.slice(0, MAX_CALLS_PER_RESPONSE)) {
        if (Array.isArray(o?.choices)) for (const c of o.choices.slice(0, 8)) pushChatToolCalls(out, c?.message);
        else pushChatToolCalls(out, o);
      }
    }
  } catch {
    /* span data is the SDK's: unexpected shapes mean no ids, never an error */
  }
  return out;
}

/**
 * Takes the pending call that `name` / `args` answers: same name and arguments, else the first of
 * that name. Handoffs (whose tool name the span does not carry) pass `name` undefined and `exclude`,
 * the agent's function tool names: the first call that is not one of them.
 */
export function takeToolCall(
  pending: ToolCallSeen[],
  name: string | undefined,
  args: string | undefined,
  exclude?: ReadonlySet<string>,
): ToolCallSeen | undefined {
  let i = -1;
  if (name !== undefined) {
    if (args !== undefined && args !== '') i = pending.findIndex((c) => c.name === name && c.args === args);
    if (i < 0) i = pending.findIndex((c) => c.name === name);
  } else {
    i = pending.findIndex((c) => !exclude?.has(c.name));
  }
  return i < 0 ? undefined : pending.splice(i, 1)[0];
}
