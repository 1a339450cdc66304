// Legacy Completions: `completions.create` (operation text_completion).

import type { Attributes } from '@opentelemetry/api';
import { type ContentOptions, completionsRequestContent, completionsResponseOutput } from '../content/index.js';
import * as S from '../core/semconv.js';
import { chatUsage } from './chat.js';
import { hasTokenCounts, MAX_STREAM_ENTRIES, tooManyEntries } from './limits.js';
import { commonSamplingAttributes, finishReasons, isNum, setNum, setStr } from './request.js';
import type { ApiAdapter, ResponseSummary, StreamAccumulator, Usage } from './types.js';

function summarize(base: any, choices: any[], usage: Usage | undefined): ResponseSummary {
  const attrs: Attributes = {};
  setStr(attrs, S.GEN_AI_RESPONSE_ID, base?.id);
  setStr(attrs, S.GEN_AI_RESPONSE_MODEL, base?.model);
  setStr(attrs, S.OPENAI_RESPONSE_SYSTEM_FINGERPRINT, base?.system_fingerprint);
  const reasons = finishReasons(choices);
  if (reasons) attrs[S.GEN_AI_RESPONSE_FINISH_REASONS] = reasons;
  return {
    attributes: attrs,
    usage,
    output: (o: ContentOptions) => completionsResponseOutput(choices, o),
    outputText: () => choices.map((c) => (typeof c?.text === 'string' ? c.text : '')).join(''),
  };
}

class CompletionsStreamAccumulator implements StreamAccumulator {
  private base: any = {};
  private choices = new Map<number, { index: number; text: string; finish_reason: string | null }>();
  private usage: unknown;
  onChunk(chunk: any): void {
    if (!chunk || typeof chunk !== 'object') return;
    if (chunk.id && !this.base.id) this.base.id = chunk.id;
    if (chunk.model) this.base.model = chunk.model;
    if (chunk.system_fingerprint) this.base.system_fingerprint = chunk.system_fingerprint;
    if (hasTokenCounts(chunk.usage)) this.usage = chunk.usage;
    if (!Array.isArray(chunk.choices)) return;
    for (const c of chunk.choices) {
      const index = isNum(c?.index) ? c.index : 0;
      let acc = this.choices.get(index);
      if (!acc) {
        // Indices key a map, never an array; at most MAX_STREAM_ENTRIES of them (limits.ts).
        if (this.choices.size >= MAX_STREAM_ENTRIES) {
          tooManyEntries('choices');
          continue;
        }
        acc = { index, text: '', finish_reason: null };
        this.choices.set(index, acc);
      }
      if (typeof c?.text === 'string') acc.text += c.text;
      if (c?.finish_reason) acc.finish_reason = c.finish_reason;
    }
  }
  result(): unknown {
    return { ...this.base, choices: [...this.choices.values()].sort((a, b) => a.index - b.index), usage: this.usage };
  }
}

export const completionsAdapter: ApiAdapter = {
  api: 'completions',
  operation: 'text_completion',
  requestAttributes(body) {
    const attrs: Attributes = {};
    commonSamplingAttributes(body, attrs);
    setNum(attrs, S.GEN_AI_REQUEST_MAX_TOKENS, body.max_tokens);
    return attrs;
  },
  requestContent: (body, o) => completionsRequestContent(body, o),
  summarize: (r) => summarize(r, Array.isArray(r?.choices) ? r.choices : [], chatUsage(r?.usage)),
  accumulator: () => new CompletionsStreamAccumulator(),
};
