// Chat Completions: `chat.completions.create` (and every helper that reaches it).

import type { Attributes } from '@opentelemetry/api';
import { type ContentOptions, chatRequestContent, chatResponseOutput } from '../content/index.js';
import * as S from '../core/semconv.js';
import { hasTokenCounts, MAX_STREAM_ENTRIES, tooManyEntries, usageFrom } from './limits.js';
import { commonSamplingAttributes, finishReasons, isNum, outputType, setNum, setStr } from './request.js';
import type { ApiAdapter, ResponseSummary, StreamAccumulator, Usage } from './types.js';

export function chatUsage(u: any): Usage | undefined {
  if (!u || typeof u !== 'object') return undefined;
  return usageFrom(
    u.prompt_tokens,
    u.completion_tokens,
    u.prompt_tokens_details?.cached_tokens,
    u.completion_tokens_details?.reasoning_tokens,
  );
}

function responseAttributes(r: any, attrs: Attributes): void {
  setStr(attrs, S.GEN_AI_RESPONSE_ID, r?.id);
  setStr(attrs, S.GEN_AI_RESPONSE_MODEL, r?.model);
  setStr(attrs, S.OPENAI_RESPONSE_SERVICE_TIER, r?.service_tier);
  setStr(attrs, S.OPENAI_RESPONSE_SYSTEM_FINGERPRINT, r?.system_fingerprint);
}

/** A message's reasoning text: DeepSeek's `reasoning_content`, else OpenRouter/vLLM's `reasoning`. */
function reasoningText(m: any): string | undefined {
  if (typeof m?.reasoning_content === 'string' && m.reasoning_content) return m.reasoning_content;
  return typeof m?.reasoning === 'string' && m.reasoning ? m.reasoning : undefined;
}

function choicesText(choices: any[]): string {
  let out = '';
  for (const c of choices) {
    const m = c?.message ?? {};
    // Reasoning tokens are output tokens: an estimate counts the text too.
    out += reasoningText(m) ?? '';
    if (typeof m.content === 'string') out += m.content;
    if (typeof m.refusal === 'string') out += m.refusal;
    for (const tc of Array.isArray(m.tool_calls) ? m.tool_calls : []) {
      out += (tc?.function?.name ?? '') + (tc?.function?.arguments ?? '');
    }
  }
  return out;
}

function summarizeChoices(base: any, choices: any[], usage: Usage | undefined): ResponseSummary {
  const attrs: Attributes = {};
  responseAttributes(base, attrs);
  const reasons = finishReasons(choices);
  if (reasons) attrs[S.GEN_AI_RESPONSE_FINISH_REASONS] = reasons;
  return {
    attributes: attrs,
    usage,
    output: (o: ContentOptions) => chatResponseOutput(choices, o),
    outputText: () => choicesText(choices),
  };
}

interface ToolCallAcc {
  order: number;
  id?: string;
  type?: string;
  name: string;
  arguments: string;
}
interface ChoiceAcc {
  index: number;
  role?: string;
  content: string;
  refusal: string;
  /** Reasoning deltas (`reasoning_content` or `reasoning`), in order. */
  reasoning: string;
  hasContent: boolean;
  hasRefusal: boolean;
  /** Keyed by the provider's `index` (any finite number), or a fresh string key when it sent none; made on the first. */
  toolCalls: Map<number | string, ToolCallAcc> | undefined;
  maxOrder: number;
  finish_reason: string | null;
}

/**
 * Rebuilds the choices of a streamed completion from its deltas. Indices are the provider's
 * numbers: they only ever key a Map (never an array, where `index: 2e9` would make a sparse array
 * that later walks cost billions of steps), and at most MAX_STREAM_ENTRIES distinct ones are kept.
 */
class ChatStreamAccumulator implements StreamAccumulator {
  private base: any = {};
  private choices = new Map<number, ChoiceAcc>();
  /** The provider's usage object as sent (the last one that carried token counts). */
  private usage: unknown;

  onChunk(chunk: any): void {
    if (!chunk || typeof chunk !== 'object') return;
    if (chunk.id && !this.base.id) this.base.id = chunk.id;
    if (chunk.model) this.base.model = chunk.model;
    if (chunk.service_tier) this.base.service_tier = chunk.service_tier;
    if (chunk.system_fingerprint) this.base.system_fingerprint = chunk.system_fingerprint;
    if (hasTokenCounts(chunk.usage)) this.usage = chunk.usage;
    // Some compatible servers omit `choices` on usage-only or keep-alive chunks.
    if (!Array.isArray(chunk.choices)) return;
    for (const c of chunk.choices) {
      const index = isNum(c?.index) ? c.index : 0;
      let acc = this.choices.get(index);
      if (!acc) {
        if (this.choices.size >= MAX_STREAM_ENTRIES) {
          tooManyEntries('choices');
          continue;
        }
        acc = {
          index,
          content: '',
          refusal: '',
          reasoning: '',
          hasContent: false,
          hasRefusal: false,
          toolCalls: undefined,
          maxOrder: -Infinity,
          finish_reason: null,
        };
        this.choices.set(index, acc);
      }
      const d = c?.delta ?? {};
      if (typeof d.role === 'string') acc.role = d.role;
      if (typeof d.content === 'string') {
        acc.content += d.content;
        acc.hasContent = true;
      }
      if (typeof d.refusal === 'string') {
        acc.refusal += d.refusal;
        acc.hasRefusal = true;
      }
      // One of the two per delta: servers that send both send the same text twice.
      const r = reasoningText(d);
      if (r !== undefined) acc.reasoning += r;
      if (Array.isArray(d.tool_calls)) for (const tc of d.tool_calls) addToolCallDelta(acc, tc);
      if (c?.finish_reason) acc.finish_reason = c.finish_reason;
    }
  }

  result(): unknown {
    // Plain assignments, no object spreads: this runs on the app's thread once per stream, and
    // V8's spread of small objects measured several µs here.
    const accs = Array.from(this.choices.values());
    if (accs.length > 1) accs.sort((a, b) => a.index - b.index);
    const choices = new Array(accs.length);
    for (let i = 0; i < accs.length; i++) {
      const a = accs[i]!;
      const message: Record<string, unknown> = { role: a.role ?? 'assistant', content: a.hasContent ? a.content : null };
      if (a.hasRefusal) message.refusal = a.refusal;
      if (a.reasoning) message.reasoning_content = a.reasoning;
      if (a.toolCalls?.size) {
        const calls = Array.from(a.toolCalls.values());
        // Stable: calls with the same order (one sent without an index) keep their arrival order.
        if (calls.length > 1) calls.sort((x, y) => x.order - y.order);
        message.tool_calls = calls.map((t) => ({
          id: t.id,
          type: t.type ?? 'function',
          function: { name: t.name, arguments: t.arguments },
        }));
      }
      choices[i] = { index: a.index, finish_reason: a.finish_reason, message };
    }
    const out: Record<string, unknown> = {};
    for (const k in this.base) out[k] = this.base[k];
    out.choices = choices;
    out.usage = this.usage;
    return out;
  }
}

function addToolCallDelta(acc: ChoiceAcc, tc: any): void {
  // A delta without a numeric index starts a new call placed after the ones seen so far (what
  // appending to a list did); with one, it continues the call of that index.
  const calls = (acc.toolCalls ??= new Map());
  const indexed = isNum(tc?.index);
  const key: number | string = indexed ? tc.index : `#${calls.size}`;
  let t = calls.get(key);
  if (!t) {
    if (calls.size >= MAX_STREAM_ENTRIES) {
      tooManyEntries('tool calls');
      return;
    }
    const order = indexed ? (tc.index as number) : acc.maxOrder === -Infinity ? 0 : acc.maxOrder + 1;
    if (order > acc.maxOrder) acc.maxOrder = order;
    t = { order, name: '', arguments: '' };
    calls.set(key, t);
  }
  if (tc?.id) t.id = tc.id;
  if (tc?.type) t.type = tc.type;
  if (typeof tc?.function?.name === 'string') t.name += tc.function.name;
  if (typeof tc?.function?.arguments === 'string') t.arguments += tc.function.arguments;
}

export const chatAdapter: ApiAdapter = {
  api: 'chat.completions',
  operation: 'chat',
  apiType: 'chat_completions',
  requestAttributes(body) {
    const attrs: Attributes = {};
    commonSamplingAttributes(body, attrs);
    setNum(attrs, S.GEN_AI_REQUEST_MAX_TOKENS, body.max_completion_tokens ?? body.max_tokens);
    const ot = outputType(body.response_format);
    if (ot) attrs[S.GEN_AI_OUTPUT_TYPE] = ot;
    return attrs;
  },
  requestContent: (body, o) => chatRequestContent(body, o),
  summarize(result) {
    return summarizeChoices(result, Array.isArray(result?.choices) ? result.choices : [], chatUsage(result?.usage));
  },
  accumulator: () => new ChatStreamAccumulator(),
};
