// Chat Completions request/response → semconv messages.
//
// System and developer messages stay in inputMessages with their role, in order: semconv says
// instructions that are part of the chat history SHOULD be recorded in gen_ai.input.messages
// (gen_ai.system_instructions is for APIs with a separate instructions field, like Responses),
// and the call log keeps `system` vs `developer` per row. So chat never sets systemInstructions.

import { eachWithin } from './budget.js';
import { type ContentOptions, cleanField, toText } from './options.js';
import {
  audioPart,
  type ChatContent,
  fileAttachmentPart,
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
  unknownPartText,
} from './parts.js';
import { toolDefinitions } from './tools.js';
import { capField } from './truncate.js';

/** Message `content` (string, array of parts, or null) → parts. */
export function chatContentParts(content: unknown, o: ContentOptions): Part[] {
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
        case 'text':
          parts.push(textPart(c.text, o));
          break;
        case 'refusal':
          parts.push(textPart(c.refusal, o));
          break;
        case 'image_url': {
          const url = typeof c.image_url === 'string' ? c.image_url : isObj(c.image_url) ? c.image_url.url : undefined;
          parts.push(mediaPart(url, 'image', o));
          break;
        }
        case 'input_audio':
          parts.push(audioPart(c.input_audio));
          break;
        case 'file':
          parts.push(fileAttachmentPart(isObj(c.file) ? c.file : {}, o));
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

/** Text of a content value that the API treats as one string (tool results). */
function contentString(content: unknown): unknown {
  if (!Array.isArray(content)) return content;
  const texts: string[] = [];
  for (const c of content) {
    if (typeof c === 'string') texts.push(c);
    else if (isObj(c) && typeof c.text === 'string') texts.push(c.text);
    // A part of a kind we do not know still shows that it was there.
    else if (isObj(c) && typeof c.type === 'string') texts.push(unknownPartText(c.type));
  }
  return texts.join('\n');
}

function toolCallParts(m: Record<string, any>, o: ContentOptions): Part[] {
  const parts: Part[] = [];
  if (Array.isArray(m.tool_calls)) {
    eachWithin(
      m.tool_calls,
      o.budget,
      (tc) => {
        if (!isObj(tc)) return;
        if (isObj(tc.function)) parts.push(toolCallPart(tc.id, tc.function.name, tc.function.arguments, o));
        else if (isObj(tc.custom)) parts.push(toolCallPart(tc.id, tc.custom.name, tc.custom.input, o, false));
        else parts.push(genericPart(tc, o));
      },
      (left) => {
        parts.push(omittedPart(left, 'tool calls'));
      },
    );
  }
  if (isObj(m.function_call)) parts.push(toolCallPart(undefined, m.function_call.name, m.function_call.arguments, o));
  return parts;
}

function hasToolCalls(m: Record<string, any>): boolean {
  return (Array.isArray(m.tool_calls) && m.tool_calls.length > 0) || isObj(m.function_call);
}

function chatInputMessage(m: unknown, o: ContentOptions): InputMessage | undefined {
  if (!isObj(m)) return undefined;
  const role = cleanField(str(m.role) ?? 'user', o);
  if (role === 'tool') {
    return { role: 'tool', parts: [toolResponsePart(m.tool_call_id, contentString(m.content), o)] };
  }
  if (role === 'function') {
    // Legacy function result: the API names the function instead of a call id.
    const msg: InputMessage = { role: 'tool', parts: [toolResponsePart(undefined, contentString(m.content), o)] };
    if (typeof m.name === 'string') msg.name = cleanField(m.name, o);
    return msg;
  }
  const parts: Part[] = [];
  if (role === 'assistant') {
    if (!(m.content === '' && hasToolCalls(m))) parts.push(...chatContentParts(m.content, o));
    if (typeof m.refusal === 'string' && m.refusal) parts.push(textPart(m.refusal, o));
    if (isObj(m.audio) && typeof m.audio.id === 'string') parts.push({ type: 'audio', id: cleanField(m.audio.id, o) });
    parts.push(...toolCallParts(m, o));
  } else {
    parts.push(...chatContentParts(m.content, o));
  }
  const msg: InputMessage = { role, parts };
  if (typeof m.name === 'string') msg.name = cleanField(m.name, o);
  return msg;
}

/** Chat Completions request body → input messages and tool definitions. */
export function chatRequestContent(body: any, o: ContentOptions): ChatContent {
  const inputMessages: InputMessage[] = [];
  const out: ChatContent = { inputMessages };
  try {
    const msgs = isObj(body) && Array.isArray(body.messages) ? body.messages : [];
    eachWithin(
      msgs,
      o.budget,
      (m) => {
        try {
          const im = chatInputMessage(m, o);
          if (im) inputMessages.push(im);
        } catch {
          /* one unreadable message must not lose the others */
        }
      },
      (left) => {
        markOmittedMessages(inputMessages, left);
      },
    );
    const tools = toolDefinitions(isObj(body) ? (Array.isArray(body.tools) ? body.tools : body.functions) : undefined, o);
    if (tools) out.toolDefinitions = tools;
  } catch {
    /* never throw into the app */
  }
  return out;
}

/** semconv finish_reason: OpenAI's `tool_calls`/`function_call` are `tool_call`; null → ''. */
export function chatFinishReason(reason: unknown): string {
  if (reason == null) return '';
  const r = typeof reason === 'string' ? reason : toText(reason);
  return r === 'tool_calls' || r === 'function_call' ? 'tool_call' : capField(r);
}

function chatOutputMessage(choice: unknown, o: ContentOptions): OutputMessage {
  const c = isObj(choice) ? choice : {};
  // `delta` lets a caller pass an accumulated stream choice as is.
  const m = isObj(c.message) ? c.message : isObj(c.delta) ? c.delta : {};
  const parts: Part[] = [];
  // Reasoning first, as generated (DeepSeek `reasoning_content`, else OpenRouter/vLLM `reasoning`).
  const reasoning = typeof m.reasoning_content === 'string' && m.reasoning_content ? m.reasoning_content : m.reasoning;
  if (typeof reasoning === 'string' && reasoning) parts.push(reasoningPart(reasoning, o));
  if (!(m.content === '' && hasToolCalls(m))) parts.push(...chatContentParts(m.content, o));
  if (typeof m.refusal === 'string' && m.refusal) parts.push(textPart(m.refusal, o));
  if (isObj(m.audio)) {
    if (typeof m.audio.transcript === 'string') parts.push(textPart(m.audio.transcript, o));
    if (typeof m.audio.data === 'string' && m.audio.data) parts.push(audioPart({ data: m.audio.data }));
  }
  parts.push(...toolCallParts(m, o));
  return { role: cleanField(str(m.role) ?? 'assistant', o), parts, finish_reason: cleanField(chatFinishReason(c.finish_reason), o) };
}

/** ChatCompletion `choices` → one output message per choice. */
export function chatResponseOutput(choices: any[], o: ContentOptions): OutputMessage[] {
  const out: OutputMessage[] = [];
  if (!Array.isArray(choices)) return out;
  eachWithin(
    choices,
    o.budget,
    (ch) => {
      try {
        out.push(chatOutputMessage(ch, o));
      } catch {
        /* skip an unreadable choice */
      }
    },
    (left) => {
      markOmittedMessages(out, left, true);
    },
  );
  return out;
}
