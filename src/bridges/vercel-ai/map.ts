// What an AI SDK model-call span (`ai.*.doGenerate`, `ai.*.doStream`, `ai.*.doEmbed`) says, as the
// request and response our adapters read: the OpenAI wire JSON the provider sent and received when
// the SDK hands it back (its `request.body` / `response.body`), otherwise built from the span's
// `ai.*` attributes in the Chat Completions (or Responses) shape. So content policy, redaction,
// token estimates, pricing and rows are the same code as for the `openai` package's calls.

import type { ApiAdapter } from '../../adapters/types.js';

type Attrs = Record<string, unknown>;
type Api = ApiAdapter['api'];

/** gen_ai.provider.name from the AI SDK's provider id (`openai.responses`, `anthropic.messages` …). */
const PROVIDERS: Record<string, string> = {
  openai: 'openai',
  azure: 'azure.ai.openai',
  anthropic: 'anthropic',
  google: 'gcp.gemini',
  'google.vertex': 'gcp.vertex_ai',
  vertex: 'gcp.vertex_ai',
  mistral: 'mistral_ai',
  groq: 'groq',
  xai: 'x_ai',
  deepseek: 'deepseek',
  perplexity: 'perplexity',
  cohere: 'cohere',
  'amazon-bedrock': 'aws.bedrock',
  bedrock: 'aws.bedrock',
};

export function providerName(aiProvider: string | undefined): string {
  if (!aiProvider) return 'openai';
  const p = aiProvider.toLowerCase();
  const dot = p.lastIndexOf('.');
  const head = dot > 0 ? p.slice(0, dot) : p;
  return PROVIDERS[head] ?? PROVIDERS[head.split('.')[0]] ?? head;
}

/** Which API family a model call is, from its span name and provider id. */
export function apiOf(spanName: string, aiProvider: string | undefined): Api {
  if (spanName.endsWith('.doEmbed')) return 'embeddings';
  if (aiProvider?.endsWith('.responses')) return 'responses';
  if (aiProvider?.endsWith('.completion')) return 'completions';
  return 'chat.completions';
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const obj = (v: unknown): Record<string, any> | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, any>) : undefined;

function parse(v: unknown): unknown {
  if (typeof v !== 'string') return undefined;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}

/** The wire request the SDK returned, when it is the shape `api`'s adapter reads. */
export function wireRequest(api: Api, result: unknown): Record<string, any> | undefined {
  const r = obj(result);
  // doGenerate returns the model's result; doStream's span callback wraps it in `result`.
  const body = obj(obj(r?.request)?.body) ?? obj(obj(obj(r?.result)?.request)?.body);
  if (!body) return undefined;
  if (api === 'chat.completions' && Array.isArray(body.messages)) return body;
  if (api === 'responses' && (Array.isArray(body.input) || typeof body.input === 'string')) return body;
  if (api === 'completions' && body.prompt !== undefined) return body;
  return undefined;
}

/** The wire response the SDK returned (non-streamed calls), when it is `api`'s shape. */
export function wireResponse(api: Api, result: unknown): Record<string, any> | undefined {
  const body = obj(obj(obj(result)?.response)?.body);
  if (!body) return undefined;
  if (api === 'chat.completions' && Array.isArray(body.choices)) return body;
  if (api === 'responses' && Array.isArray(body.output)) return body;
  if (api === 'completions' && Array.isArray(body.choices)) return body;
  // Never the vectors (they are not recorded): the model and the usage.
  if (api === 'embeddings' && obj(body.usage)) return { object: body.object, model: body.model, usage: body.usage };
  return undefined;
}

/** The `x-request-id` of a successful call (the SDK returns the response headers as a record). */
export function requestIdOf(result: unknown): string | undefined {
  const h = obj(obj(obj(result)?.response)?.headers) ?? obj(obj(obj(obj(result)?.result)?.response)?.headers);
  return str(h?.['x-request-id']);
}

// ── requests built from attributes ───────────────────────────────────────────────────────────────

function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return '';
  }
}

/** A tool result as the text a Chat Completions `tool` message carries. */
function toolOutputText(output: unknown): string {
  const o = obj(output);
  if (!o) return textOf(output);
  if (o.type === 'text' || o.type === 'error-text') return textOf(o.value);
  if (o.type === 'json' || o.type === 'error-json') return textOf(o.value);
  if (o.type === 'execution-denied') return `[execution denied${o.reason ? `: ${o.reason}` : ''}]`;
  return textOf(o.value ?? o);
}

function userPart(p: Record<string, any>): Record<string, any> | undefined {
  if (p.type === 'text') return { type: 'text', text: textOf(p.text) };
  if (p.type === 'file' || p.type === 'image') {
    const media = str(p.mediaType) ?? str(p.mimeType) ?? '';
    const data = p.data ?? p.image;
    const url =
      typeof data === 'string' && /^(https?|data):/.test(data)
        ? data
        : `data:${media || 'application/octet-stream'};base64,${textOf(data)}`;
    if (media.startsWith('image/') || p.type === 'image') return { type: 'image_url', image_url: { url } };
    return { type: 'file', file: { filename: str(p.filename) ?? 'file', file_data: url } };
  }
  return undefined;
}

/** The AI SDK's provider-neutral prompt (`ai.prompt.messages`) as Chat Completions messages. */
export function chatMessages(prompt: unknown): Record<string, any>[] {
  const out: Record<string, any>[] = [];
  if (!Array.isArray(prompt)) return out;
  for (const m of prompt) {
    const role = m?.role;
    const content = m?.content;
    if (role === 'system') out.push({ role: 'system', content: textOf(content) });
    else if (role === 'user') {
      if (typeof content === 'string') out.push({ role: 'user', content });
      else if (Array.isArray(content)) out.push({ role: 'user', content: content.map((p) => userPart(obj(p) ?? {})).filter(Boolean) });
    } else if (role === 'assistant') {
      const parts = typeof content === 'string' ? [{ type: 'text', text: content }] : Array.isArray(content) ? content : [];
      let text = '';
      const calls: Record<string, any>[] = [];
      for (const p of parts) {
        if (p?.type === 'text') text += textOf(p.text);
        else if (p?.type === 'tool-call')
          calls.push({
            id: str(p.toolCallId) ?? '',
            type: 'function',
            function: { name: str(p.toolName) ?? '', arguments: textOf(p.input ?? p.args) },
          });
      }
      const msg: Record<string, any> = { role: 'assistant', content: text || null };
      if (calls.length) msg.tool_calls = calls;
      out.push(msg);
    } else if (role === 'tool' && Array.isArray(content)) {
      for (const p of content) {
        if (p?.type === 'tool-result')
          out.push({ role: 'tool', tool_call_id: str(p.toolCallId) ?? '', content: toolOutputText(p.output ?? p.result) });
      }
    }
  }
  return out;
}

/** `ai.prompt.tools`: one JSON text per tool, as Chat Completions tool definitions. */
function chatTools(v: unknown): Record<string, any>[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const tools: Record<string, any>[] = [];
  for (const t of v) {
    const d = obj(parse(t));
    if (!d) continue;
    if (d.type === 'function' || d.inputSchema || d.parameters)
      tools.push({
        type: 'function',
        function: { name: str(d.name) ?? '', description: str(d.description), parameters: d.inputSchema ?? d.parameters },
      });
    else tools.push({ type: str(d.id) ?? str(d.type) ?? 'tool', name: str(d.name) });
  }
  return tools.length ? tools : undefined;
}

function setIf(body: Record<string, any>, key: string, v: unknown): void {
  if (v !== undefined && v !== null) body[key] = v;
}

/**
 * A Chat Completions request from a model-call span's attributes (providers that return no wire
 * body, or a call that failed before the SDK returned it). `inputs`: the SDK recorded its inputs
 * (`recordInputs` not false); without them the request carries no content.
 */
export function chatRequestFromAttributes(a: Attrs, model: string | undefined, stream: boolean): Record<string, any> {
  const body: Record<string, any> = { model };
  const prompt = parse(a['ai.prompt.messages']);
  body.messages = chatMessages(prompt);
  setIf(body, 'tools', chatTools(a['ai.prompt.tools']));
  setIf(body, 'temperature', num(a['gen_ai.request.temperature']));
  setIf(body, 'top_p', num(a['gen_ai.request.top_p']));
  setIf(body, 'max_tokens', num(a['gen_ai.request.max_tokens']));
  setIf(body, 'frequency_penalty', num(a['gen_ai.request.frequency_penalty']));
  setIf(body, 'presence_penalty', num(a['gen_ai.request.presence_penalty']));
  const stop = a['gen_ai.request.stop_sequences'];
  if (Array.isArray(stop) && stop.length) body.stop = stop;
  if (stream) body.stream = true;
  return body;
}

/** A Responses request from the Chat Completions one built above (a Responses call that failed). */
export function responsesRequestFromChat(chat: Record<string, any>): Record<string, any> {
  const input: Record<string, any>[] = [];
  for (const m of chat.messages as Record<string, any>[]) {
    if (m.role === 'tool') input.push({ type: 'function_call_output', call_id: m.tool_call_id, output: m.content });
    else if (m.role === 'user' && Array.isArray(m.content)) {
      const content = m.content.map((p: Record<string, any>) =>
        p.type === 'text'
          ? { type: 'input_text', text: p.text }
          : p.type === 'image_url'
            ? { type: 'input_image', image_url: p.image_url?.url }
            : { type: 'input_file', filename: p.file?.filename },
      );
      input.push({ role: 'user', content });
    } else if (m.role === 'assistant') {
      if (m.content) input.push({ role: 'assistant', content: m.content });
      for (const c of m.tool_calls ?? [])
        input.push({ type: 'function_call', call_id: c.id, name: c.function.name, arguments: c.function.arguments });
    } else input.push({ role: m.role, content: m.content });
  }
  const body: Record<string, any> = { model: chat.model, input };
  if (chat.tools)
    body.tools = chat.tools.map((t: Record<string, any>) =>
      t.type === 'function'
        ? { type: 'function', name: t.function.name, description: t.function.description, parameters: t.function.parameters }
        : t,
    );
  setIf(body, 'temperature', chat.temperature);
  setIf(body, 'top_p', chat.top_p);
  setIf(body, 'max_output_tokens', chat.max_tokens);
  if (chat.stream) body.stream = true;
  return body;
}

/** An embeddings request from `ai.values` (one JSON text per value). */
export function embeddingsRequestFromAttributes(a: Attrs, model: string | undefined): Record<string, any> {
  const values = Array.isArray(a['ai.values']) ? (a['ai.values'] as unknown[]).map((v) => parse(v) ?? v) : [];
  return { model, input: values.length === 1 ? values[0] : values };
}

// ── responses built from attributes ──────────────────────────────────────────────────────────────

interface ToolCallOut {
  id: string;
  name: string;
  arguments: string;
}

function toolCallsOf(a: Attrs): ToolCallOut[] {
  const v = parse(a['ai.response.toolCalls']);
  if (!Array.isArray(v)) return [];
  return v.map((c) => ({
    id: str(c?.toolCallId) ?? '',
    name: str(c?.toolName) ?? '',
    arguments: typeof c?.input === 'string' ? c.input : textOf(c?.input ?? c?.args ?? {}),
  }));
}

const CHAT_FINISH: Record<string, string> = {
  stop: 'stop',
  length: 'length',
  'tool-calls': 'tool_calls',
  'content-filter': 'content_filter',
  error: 'error',
  other: 'stop',
};

interface UsageOut {
  input?: number;
  output?: number;
  cached?: number;
  reasoning?: number;
}

/** Usage from the attributes of ai 6 (`ai.usage.inputTokens`) and of ai 4 (`ai.usage.promptTokens`). */
function usageOf(a: Attrs): UsageOut | undefined {
  const input = num(a['ai.usage.inputTokens']) ?? num(a['ai.usage.promptTokens']) ?? num(a['gen_ai.usage.input_tokens']);
  const output = num(a['ai.usage.outputTokens']) ?? num(a['ai.usage.completionTokens']) ?? num(a['gen_ai.usage.output_tokens']);
  if (input === undefined && output === undefined) return undefined;
  return {
    input,
    output,
    cached: num(a['ai.usage.inputTokenDetails.cacheReadTokens']) ?? num(a['ai.usage.cachedInputTokens']),
    reasoning: num(a['ai.usage.outputTokenDetails.reasoningTokens']) ?? num(a['ai.usage.reasoningTokens']),
  };
}

/**
 * The response of a model call from its span's `ai.response.*` and `ai.usage.*` attributes, in the
 * shape of `api` (a stream's result: the SDK keeps no wire body of a stream).
 */
export function responseFromAttributes(api: Api, a: Attrs): Record<string, any> | undefined {
  const usage = usageOf(a);
  const id = str(a['ai.response.id']) ?? str(a['gen_ai.response.id']);
  const model = str(a['ai.response.model']) ?? str(a['gen_ai.response.model']);
  if (api === 'embeddings') {
    const tokens = num(a['ai.usage.tokens']);
    return { object: 'list', model, data: [], usage: tokens === undefined ? undefined : { prompt_tokens: tokens, total_tokens: tokens } };
  }
  const text = typeof a['ai.response.text'] === 'string' ? (a['ai.response.text'] as string) : undefined;
  const reasoning = str(a['ai.response.reasoning']) ?? str(a['ai.response.reasoningText']);
  const calls = toolCallsOf(a);
  const finish = str(a['ai.response.finishReason']);
  if (api === 'responses') {
    const output: Record<string, any>[] = [];
    if (reasoning) output.push({ type: 'reasoning', summary: [{ type: 'summary_text', text: reasoning }] });
    if (text !== undefined && (text !== '' || calls.length === 0))
      output.push({ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] });
    for (const c of calls) output.push({ type: 'function_call', call_id: c.id, name: c.name, arguments: c.arguments, status: 'completed' });
    const r: Record<string, any> = {
      id,
      object: 'response',
      model,
      status: finish === 'length' ? 'incomplete' : 'completed',
      output,
    };
    if (finish === 'length') r.incomplete_details = { reason: 'max_output_tokens' };
    if (usage)
      r.usage = {
        input_tokens: usage.input,
        output_tokens: usage.output,
        input_tokens_details: usage.cached === undefined ? undefined : { cached_tokens: usage.cached },
        output_tokens_details: usage.reasoning === undefined ? undefined : { reasoning_tokens: usage.reasoning },
      };
    return r;
  }
  const message: Record<string, any> = { role: 'assistant', content: text ?? null };
  if (reasoning) message.reasoning_content = reasoning;
  if (calls.length)
    message.tool_calls = calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
  const r: Record<string, any> = {
    id,
    object: 'chat.completion',
    model,
    choices: [{ index: 0, message, finish_reason: finish ? (CHAT_FINISH[finish] ?? finish) : undefined }],
  };
  if (usage)
    r.usage = {
      prompt_tokens: usage.input,
      completion_tokens: usage.output,
      prompt_tokens_details: usage.cached === undefined ? undefined : { cached_tokens: usage.cached },
      completion_tokens_details: usage.reasoning === undefined ? undefined : { reasoning_tokens: usage.reasoning },
    };
  return r;
}

/** The SDK recorded the call's inputs (its `recordInputs` was not false). */
export function inputsRecorded(a: Attrs): boolean {
  return a['ai.prompt.messages'] !== undefined || a['ai.values'] !== undefined;
}

/** The SDK recorded the call's outputs (its `recordOutputs` was not false). */
export function outputsRecorded(a: Attrs): boolean {
  return a['ai.response.text'] !== undefined || a['ai.response.toolCalls'] !== undefined || a['ai.embeddings'] !== undefined;
}
