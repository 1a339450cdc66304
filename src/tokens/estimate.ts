// Offline token estimates for calls whose provider reported no usage (streams without
// include_usage, OpenAI-compatible servers) and for per-message `token_estimate`.
//
// Chat overhead, measured against OpenAI's own prompt_tokens on the recorded fixtures:
// each message costs its text plus 4 (role and delimiters), a name 1 more, and the reply is
// primed with 3. Tool definitions are rendered the way OpenAI presents them to the model (a
// TypeScript `namespace functions`) and counted as text. Assistant tool calls cost their name,
// arguments and a fixed framing (more when several are made in parallel). Images are not sized: 85 tokens for detail "low", else 765
// (a 1024×1024 image at "high"/"auto").

import { CALL_BUDGET, MIN_SAMPLE } from './bounded.js';
import { encodingForModel, getEncoder } from './encoder.js';

const PER_MESSAGE = 4;
const PER_NAME = 1;
const REPLY_PRIMING = 3;
const PER_TOOL_CALL = 11;
/** Several tool calls in one message are wrapped in one `multi_tool_use.parallel` call. */
const PARALLEL_TOOL_CALLS = 6;
const IMAGE_LOW = 85;
const IMAGE_DEFAULT = 765;

/** A message in any of the shapes we see: Chat Completions, Responses input items, semconv parts. */
export interface EstimateMessage {
  role?: string | null;
  content?: unknown;
  name?: string | null;
  tool_calls?: unknown;
  tool_call_id?: string | null;
  /** semconv v1.41 message parts. */
  parts?: unknown;
  /** Responses API items: function_call / function_call_output. */
  type?: string;
  arguments?: unknown;
  output?: unknown;
  [k: string]: unknown;
}

type Counter = (text: string) => number;

/** Counts the texts of one estimate, sharing its tokenizer budget (CALL_BUDGET) between them. */
function counter(model?: string | null): Counter {
  const enc = getEncoder(encodingForModel(model));
  // Without the tokenizer (never expected): ~4 characters per token for English text.
  if (!enc) return (t) => Math.ceil(t.length / 4);
  let left = CALL_BUDGET;
  return (t) => {
    if (t === '') return 0;
    const limit = Math.max(left, MIN_SAMPLE);
    left = Math.max(0, left - Math.min(t.length, limit));
    return enc.count(t, limit);
  };
}

function asString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/** Tokens of a plain text (no chat framing). */
export function estimateTextTokens(text: string | null | undefined, model?: string | null): number {
  if (typeof text !== 'string' || text === '') return 0;
  return counter(model)(text);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Tokens of a content value: string, or a list of content parts of any API. */
function contentTokens(content: unknown, count: Counter): number {
  if (typeof content === 'string') return count(content);
  if (!Array.isArray(content)) return content === null || content === undefined ? 0 : count(asString(content));
  let n = 0;
  for (const p of content) {
    if (typeof p === 'string') {
      n += count(p);
      continue;
    }
    if (!isObj(p)) continue;
    const type = typeof p.type === 'string' ? p.type : '';
    if (typeof p.text === 'string') n += count(p.text);
    else if (type === 'text' || type === 'reasoning') n += count(asString(p.content));
    else if (
      type === 'image_url' ||
      type === 'input_image' ||
      (type === 'blob' && String(p.modality) === 'image') ||
      (type === 'uri' && String(p.modality) === 'image')
    ) {
      const detail = isObj(p.image_url) ? p.image_url.detail : p.detail;
      n += detail === 'low' ? IMAGE_LOW : IMAGE_DEFAULT;
    } else if (type === 'tool_call') n += toolCallTokens(asString(p.name), p.arguments, count);
    else if (type === 'tool_call_response') n += count(asString(p.response));
    else if (typeof p.content === 'string') n += count(p.content);
  }
  return n;
}

function toolCallTokens(name: string, args: unknown, count: Counter): number {
  return count(name) + count(asString(args)) + PER_TOOL_CALL;
}

/** Tokens of one message including its framing (no reply priming). */
export function estimateMessageTokens(m: EstimateMessage, model?: string | null): number {
  return messageTokens(m, counter(model));
}

function messageTokens(m: EstimateMessage, count: Counter): number {
  // Responses API items that are not messages.
  if (m.type === 'function_call') return PER_MESSAGE + toolCallTokens(asString(m.name), m.arguments, count);
  if (m.type === 'function_call_output') return PER_MESSAGE + count(asString(m.output));
  let n = PER_MESSAGE;
  n += contentTokens(m.content, count);
  if (m.parts !== undefined) n += contentTokens(m.parts, count);
  if (typeof m.name === 'string' && m.name !== '') n += PER_NAME + count(m.name);
  if (Array.isArray(m.tool_calls)) {
    let calls = 0;
    for (const tc of m.tool_calls) {
      if (!isObj(tc)) continue;
      const fn = isObj(tc.function) ? tc.function : tc;
      n += toolCallTokens(asString(fn.name), fn.arguments, count);
      calls++;
    }
    if (calls > 1) n += PARALLEL_TOOL_CALLS;
  } else if (Array.isArray(m.parts) && m.parts.filter((p) => isObj(p) && p.type === 'tool_call').length > 1) {
    n += PARALLEL_TOOL_CALLS;
  }
  return n;
}

/** Tool definitions (Chat `{type, function: {...}}`, Responses/semconv `{type, name, ...}`). */
export interface ToolDefinitionLike {
  type?: string;
  function?: { name?: string; description?: string; parameters?: unknown };
  name?: string;
  description?: string;
  parameters?: unknown;
  [k: string]: unknown;
}

/**
 * Prompt tokens of a chat request: messages with their framing, tool definitions, reply priming.
 * `messages` may include the system prompt (Responses `instructions`: pass it as a system message).
 */
export function estimateChatTokens(
  messages: readonly EstimateMessage[] | null | undefined,
  tools?: readonly ToolDefinitionLike[] | null,
  model?: string | null,
): number {
  const count = counter(model);
  let n = REPLY_PRIMING;
  let hasSystem = false;
  for (const m of messages ?? []) {
    if (!isObj(m)) continue;
    if (m.role === 'system' || m.role === 'developer') hasSystem = true;
    n += messageTokens(m, count);
  }
  const defs = renderTools(tools ?? []);
  if (defs !== '') {
    // Definitions are appended to the system message, or form one of their own.
    n += count(defs) + (hasSystem ? -2 : PER_MESSAGE);
  }
  return n;
}

/** Output tokens of a completion: text plus tool calls (no chat framing). */
export function estimateOutputTokens(
  output: string | EstimateMessage | readonly EstimateMessage[] | null | undefined,
  model?: string | null,
): number {
  if (output === null || output === undefined) return 0;
  const count = counter(model);
  if (typeof output === 'string') return count(output);
  const list = Array.isArray(output) ? output : [output as EstimateMessage];
  let n = 0;
  for (const m of list) if (isObj(m)) n += messageTokens(m, count) - PER_MESSAGE;
  return Math.max(0, n);
}

// ── tool definitions as the model sees them ───────────────────────────────────────────────────

function renderTools(tools: readonly ToolDefinitionLike[]): string {
  const fns: string[] = [];
  for (const t of tools) {
    if (!isObj(t)) continue;
    const f = isObj(t.function) ? t.function : t;
    if (typeof f.name !== 'string') continue;
    const lines: string[] = [];
    if (typeof f.description === 'string' && f.description !== '') lines.push(`// ${f.description}`);
    const params = isObj(f.parameters) ? f.parameters : null;
    const props = params && isObj(params.properties) ? params.properties : null;
    if (props && Object.keys(props).length > 0) {
      lines.push(`type ${f.name} = (_: {`);
      lines.push(renderProps(params!, ''));
      lines.push('}) => any;');
    } else {
      lines.push(`type ${f.name} = () => any;`);
    }
    fns.push(lines.join('\n'));
  }
  if (fns.length === 0) return '';
  return `# Tools\n\n## functions\n\nnamespace functions {\n\n${fns.join('\n\n')}\n\n} // namespace functions`;
}

function renderProps(schema: Record<string, unknown>, indent: string): string {
  const props = isObj(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  const out: string[] = [];
  for (const [key, raw] of Object.entries(props)) {
    const p = isObj(raw) ? raw : {};
    if (typeof p.description === 'string' && p.description !== '') out.push(`${indent}// ${p.description}`);
    out.push(`${indent}${key}${required.has(key) ? '' : '?'}: ${renderType(p, indent)},`);
  }
  return out.join('\n');
}

function renderType(p: Record<string, unknown>, indent: string): string {
  if (Array.isArray(p.enum)) return p.enum.map((v) => JSON.stringify(v)).join(' | ');
  const type = Array.isArray(p.type) ? p.type.map(String) : [String(p.type ?? 'any')];
  return type
    .map((t) => {
      switch (t) {
        case 'integer':
          return 'number';
        case 'array':
          return `${isObj(p.items) ? renderType(p.items, indent) : 'any'}[]`;
        case 'object':
          return isObj(p.properties) ? `{\n${renderProps(p, indent + '  ')}\n${indent}}` : 'object';
        default:
          return t;
      }
    })
    .join(' | ');
}
