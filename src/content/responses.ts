// Responses API request/response → semconv messages.
//
// - `instructions` → systemInstructions; system/developer items in `input` stay input messages.
// - Consecutive model-side items (assistant messages, reasoning, tool calls) form one assistant
//   message, like a Chat Completions assistant turn; each *_output item is its own `tool`
//   message (one tool_call_response each, so the call log keeps one tool_call_id per row).
// - Client-executed calls (function, custom, computer, local_shell, shell, apply_patch) are
//   `tool_call` parts; provider-executed built-in tools (web_search, file_search,
//   code_interpreter, image_generation, mcp) are semconv `server_tool_call` parts, followed by a
//   `server_tool_call_response` part when the item carries results.
// - A response's whole `output[]` is one assistant output message.

import { eachWithin, omissionMarker } from './budget.js';
import { base64Placeholder, cleanMime } from './media.js';
import { type ContentOptions, cleanField, cleanText, toText } from './options.js';
import {
  audioPart,
  type ChatContent,
  fileAttachmentPart,
  filePart,
  genericPart,
  type InputMessage,
  isObj,
  markOmittedMessages,
  mediaPart,
  type OutputMessage,
  omittedPart,
  type Part,
  reasoningPart,
  str,
  textPart,
  toolCallPart,
  toolResponsePart,
} from './parts.js';
import { sanitizeValue, toolArguments } from './sanitize.js';
import { toolDefinitions } from './tools.js';
import { capField } from './truncate.js';

/** Client-executed call item types → tool name when the item has none. */
const CLIENT_CALLS = new Map<unknown, string>([
  ['function_call', ''],
  ['custom_tool_call', ''],
  ['computer_call', 'computer'],
  ['local_shell_call', 'local_shell'],
  ['shell_call', 'shell'],
  ['apply_patch_call', 'apply_patch'],
]);
const CALL_OUTPUTS = new Set([
  'function_call_output',
  'custom_tool_call_output',
  'computer_call_output',
  'local_shell_call_output',
  'shell_call_output',
  'apply_patch_call_output',
]);
/** Items that come from the client side of the conversation, not the model. */
const USER_SIDE = new Set(['mcp_approval_response', 'item_reference']);

/** Message content: string or list of input_/output_ parts → parts. */
export function responsesContentParts(content: unknown, o: ContentOptions): Part[] {
  if (content == null) return [];
  if (!Array.isArray(content)) return [textPart(content, o)];
  const parts: Part[] = [];
  eachWithin(
    content,
    o.budget,
    (c) => {
      if (c == null) return;
      if (!isObj(c)) {
        parts.push(textPart(c, o));
        return;
      }
      switch (c.type) {
        case 'input_text':
        case 'output_text':
        case 'text':
        case 'summary_text':
          parts.push(textPart(c.text, o));
          break;
        case 'refusal':
          parts.push(textPart(c.refusal, o));
          break;
        case 'reasoning_text':
          parts.push(reasoningPart(c.text, o));
          break;
        case 'input_image': {
          const url = typeof c.image_url === 'string' ? c.image_url : isObj(c.image_url) ? c.image_url.url : undefined;
          if (typeof url === 'string') parts.push(mediaPart(url, 'image', o));
          else if (typeof c.file_id === 'string') parts.push(filePart(c.file_id, undefined, 'image', o));
          else parts.push(genericPart(c, o));
          break;
        }
        case 'input_file':
          parts.push(fileAttachmentPart(c, o));
          break;
        case 'input_audio':
          parts.push(audioPart(c.input_audio));
          break;
        default:
          parts.push(genericPart(c, o));
      }
    },
    (left) => {
      parts.push(omittedPart(left, 'parts'));
    },
  );
  return parts;
}

function reasoningParts(item: Record<string, any>, o: ContentOptions): Part[] {
  const parts: Part[] = [];
  const omit = (left: number) => {
    parts.push(omittedPart(left, 'parts'));
  };
  if (Array.isArray(item.summary)) {
    eachWithin(
      item.summary,
      o.budget,
      (s) => {
        const t = isObj(s) ? s.text : s;
        if (typeof t === 'string' && t) parts.push(reasoningPart(t, o));
      },
      omit,
    );
  }
  // Raw reasoning text (open-weight models) only when there is no summary.
  if (parts.length === 0 && Array.isArray(item.content)) {
    eachWithin(
      item.content,
      o.budget,
      (c) => {
        if (isObj(c) && typeof c.text === 'string' && c.text) parts.push(reasoningPart(c.text, o));
      },
      omit,
    );
  }
  return parts;
}

function clientCallPart(item: Record<string, any>, o: ContentOptions): Part {
  const id = str(item.call_id) ?? str(item.id);
  switch (item.type) {
    case 'function_call':
      return toolCallPart(id, item.name, item.arguments, o);
    case 'custom_tool_call':
      return toolCallPart(id, item.name, item.input, o, false);
    case 'apply_patch_call':
      return toolCallPart(id, 'apply_patch', item.operation, o);
    case 'computer_call':
      return toolCallPart(id, 'computer', item.action ?? item.actions, o);
    default:
      return toolCallPart(id, str(item.name) ?? CLIENT_CALLS.get(item.type) ?? '', item.action, o);
  }
}

/** Output of a client call: text stays text, content lists become parts, objects are sanitized. */
function callOutputValue(output: unknown, o: ContentOptions): unknown {
  if (typeof output === 'string') return cleanText(output, o);
  if (
    Array.isArray(output) &&
    output.length > 0 &&
    output.every((x) => isObj(x) && typeof x.type === 'string' && /^(?:input|output)_/.test(x.type))
  ) {
    return responsesContentParts(output, o);
  }
  return sanitizeValue(output, o);
}

function serverCall(
  item: Record<string, any>,
  name: string,
  o: ContentOptions,
  call: Record<string, unknown>,
  response?: Record<string, unknown>,
): Part[] {
  const raw = str(item.id);
  const id = raw === undefined ? undefined : cleanField(raw, o);
  name = cleanField(name, o);
  const p: Part = { type: 'server_tool_call' };
  if (id !== undefined) p.id = id;
  p.name = name;
  p.server_tool_call = call;
  if (!response) return [p];
  const r: Part = { type: 'server_tool_call_response' };
  if (id !== undefined) r.id = id;
  r.server_tool_call_response = response;
  return [p, r];
}

/** Provider-executed built-in tool items → server_tool_call (+ response); undefined if unknown. */
function serverToolParts(item: Record<string, any>, o: ContentOptions): Part[] | undefined {
  switch (item.type) {
    case 'web_search_call': {
      const action = isObj(item.action) ? { ...item.action } : item.action;
      const sources = isObj(action) ? action.sources : undefined;
      if (isObj(action)) delete action.sources;
      const call: Record<string, unknown> = { type: 'web_search' };
      if (action !== undefined) call.action = sanitizeValue(action, o);
      return serverCall(
        item,
        'web_search',
        o,
        call,
        Array.isArray(sources) ? { type: 'web_search', sources: sanitizeValue(sources, o) } : undefined,
      );
    }
    case 'file_search_call': {
      const call: Record<string, unknown> = { type: 'file_search' };
      if (item.queries !== undefined) call.queries = sanitizeValue(item.queries, o);
      return serverCall(
        item,
        'file_search',
        o,
        call,
        Array.isArray(item.results) ? { type: 'file_search', results: sanitizeValue(item.results, o) } : undefined,
      );
    }
    case 'code_interpreter_call': {
      const call: Record<string, unknown> = { type: 'code_interpreter' };
      if (typeof item.code === 'string') call.code = cleanText(item.code, o);
      if (typeof item.container_id === 'string') call.container_id = cleanField(item.container_id, o);
      return serverCall(
        item,
        'code_interpreter',
        o,
        call,
        Array.isArray(item.outputs) ? { type: 'code_interpreter', outputs: sanitizeValue(item.outputs, o) } : undefined,
      );
    }
    case 'image_generation_call': {
      const call: Record<string, unknown> = { type: 'image_generation' };
      if (typeof item.revised_prompt === 'string') call.revised_prompt = cleanText(item.revised_prompt, o);
      // `result` is the generated image as base64: never recorded, only its size.
      const mime = cleanMime(`image/${typeof item.output_format === 'string' ? item.output_format : 'png'}`);
      return serverCall(
        item,
        'image_generation',
        o,
        call,
        typeof item.result === 'string' ? { type: 'image_generation', result: base64Placeholder(item.result, mime) } : undefined,
      );
    }
    case 'mcp_call': {
      const call: Record<string, unknown> = { type: 'mcp' };
      if (typeof item.server_label === 'string') call.server_label = cleanField(item.server_label, o);
      if (typeof item.name === 'string') call.name = cleanField(item.name, o);
      if (item.arguments !== undefined) call.arguments = toolArguments(item.arguments, o);
      let response: Record<string, unknown> | undefined;
      if (item.output != null || item.error != null) {
        response = { type: 'mcp' };
        if (item.output != null)
          response.output = typeof item.output === 'string' ? cleanText(item.output, o) : sanitizeValue(item.output, o);
        if (item.error != null) response.error = sanitizeValue(item.error, o);
      }
      return serverCall(item, str(item.name) ?? 'mcp', o, call, response);
    }
    case 'mcp_list_tools': {
      const call: Record<string, unknown> = { type: 'mcp_list_tools' };
      if (typeof item.server_label === 'string') call.server_label = cleanField(item.server_label, o);
      let response: Record<string, unknown> | undefined;
      if (Array.isArray(item.tools) || item.error != null) {
        response = { type: 'mcp_list_tools' };
        if (Array.isArray(item.tools)) {
          const tools: unknown[] = (response.tools = []);
          eachWithin(
            item.tools,
            o.budget,
            (t) => {
              if (!isObj(t)) return;
              const d: Record<string, unknown> = { name: typeof t.name === 'string' ? cleanField(t.name, o) : '' };
              if (typeof t.description === 'string') d.description = cleanText(t.description, o);
              tools.push(d);
            },
            (left) => {
              tools.push(omissionMarker(left, 'tools'));
            },
          );
        }
        if (item.error != null) response.error = sanitizeValue(item.error, o);
      }
      return serverCall(item, 'mcp_list_tools', o, call, response);
    }
    default:
      return undefined;
  }
}

/** Parts for one model-side item (message, reasoning, tool calls, anything else). */
function modelItemParts(item: Record<string, any>, o: ContentOptions): Part[] {
  const type = item.type;
  if (type === 'message' || (type === undefined && item.role !== undefined)) return responsesContentParts(item.content, o);
  if (type === 'reasoning') return reasoningParts(item, o);
  if (CLIENT_CALLS.has(type)) return [clientCallPart(item, o)];
  return serverToolParts(item, o) ?? [genericPart(item, o)];
}

function isMessageItem(item: Record<string, any>): boolean {
  return (item.type === undefined || item.type === 'message') && typeof item.role === 'string';
}

function instructionParts(instructions: unknown, o: ContentOptions): Part[] | undefined {
  if (typeof instructions === 'string') return [textPart(instructions, o)];
  if (!Array.isArray(instructions)) return undefined;
  // A response object echoes instructions as a list of message items.
  const parts: Part[] = [];
  eachWithin(
    instructions,
    o.budget,
    (it) => {
      if (isObj(it) && it.content !== undefined) parts.push(...responsesContentParts(it.content, o));
      else if (typeof it === 'string') parts.push(textPart(it, o));
    },
    (left) => {
      parts.push(omittedPart(left, 'parts'));
    },
  );
  return parts.length ? parts : undefined;
}

/** Responses request body → system instructions, input messages and tool definitions. */
export function responsesRequestContent(body: any, o: ContentOptions): ChatContent {
  const inputMessages: InputMessage[] = [];
  const out: ChatContent = { inputMessages };
  try {
    if (!isObj(body)) return out;
    const sys = instructionParts(body.instructions, o) ?? [];
    // A stored prompt template acts as instructions; its variables are user data like any input.
    if (isObj(body.prompt)) sys.push(genericPart({ ...body.prompt, type: 'prompt_template' }, o));
    if (sys.length) out.systemInstructions = sys;
    const input = body.input;
    if (typeof input === 'string') {
      inputMessages.push({ role: 'user', parts: [textPart(input, o)] });
    } else if (Array.isArray(input)) {
      let assistant: InputMessage | undefined; // the open model-side turn, merged into
      eachWithin(
        input,
        o.budget,
        (item) => {
          try {
            if (typeof item === 'string') {
              assistant = undefined;
              inputMessages.push({ role: 'user', parts: [textPart(item, o)] });
              return;
            }
            if (!isObj(item)) return;
            if (isMessageItem(item) && item.role !== 'assistant') {
              assistant = undefined;
              inputMessages.push({ role: cleanField(item.role, o), parts: responsesContentParts(item.content, o) });
            } else if (typeof item.type === 'string' && CALL_OUTPUTS.has(item.type)) {
              assistant = undefined;
              inputMessages.push({
                role: 'tool',
                parts: [toolResponsePart(str(item.call_id) ?? str(item.id), callOutputValue(item.output, o), o)],
              });
            } else if (typeof item.type === 'string' && USER_SIDE.has(item.type)) {
              assistant = undefined;
              inputMessages.push({ role: 'user', parts: [genericPart(item, o)] });
            } else {
              const parts = modelItemParts(item, o);
              if (!assistant) {
                assistant = { role: 'assistant', parts: [] };
                inputMessages.push(assistant);
              }
              assistant.parts.push(...parts);
            }
          } catch {
            /* skip an unreadable item */
          }
        },
        (left) => {
          markOmittedMessages(inputMessages, left);
        },
      );
    }
    const tools = toolDefinitions(body.tools, o);
    if (tools) out.toolDefinitions = tools;
  } catch {
    /* never throw into the app */
  }
  return out;
}

/**
 * finish_reason of a Response (the API has none): incomplete → its `incomplete_details.reason`
 * (`max_output_tokens`, `content_filter`), failed → `error`, a client-executed tool call waiting
 * for the app → `tool_call`, completed → `stop`, anything else (in progress, cut short) → ''.
 */
export function responsesFinishReason(response: any): string {
  try {
    if (!isObj(response)) return '';
    if (response.status === 'incomplete') {
      const reason = isObj(response.incomplete_details) ? response.incomplete_details.reason : undefined;
      return reason == null ? 'incomplete' : capField(typeof reason === 'string' ? reason : toText(reason));
    }
    if (response.status === 'failed') return 'error';
    if (Array.isArray(response.output)) {
      for (const item of response.output) if (isObj(item) && CLIENT_CALLS.has(item.type)) return 'tool_call';
    }
    return response.status === 'completed' ? 'stop' : '';
  } catch {
    return '';
  }
}

/** Response object → one assistant output message holding every output item's parts. */
export function responsesResponseOutput(response: any, o: ContentOptions): OutputMessage[] {
  try {
    if (!isObj(response) || !Array.isArray(response.output)) return [];
    const parts: Part[] = [];
    eachWithin(
      response.output,
      o.budget,
      (item) => {
        if (!isObj(item)) return;
        try {
          parts.push(...modelItemParts(item, o));
        } catch {
          /* skip an unreadable item */
        }
      },
      (left) => {
        parts.push(omittedPart(left, 'output items'));
      },
    );
    return [{ role: 'assistant', parts, finish_reason: cleanField(responsesFinishReason(response), o) }];
  } catch {
    return [];
  }
}
