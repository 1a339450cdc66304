// Responses API: `responses.create` (and `responses.parse` / `responses.stream`, which reach it).

import type { Attributes } from '@opentelemetry/api';
// One rule for the span's finish reason and the output message's (content/responses.ts).
import { type ContentOptions, responsesFinishReason, responsesRequestContent, responsesResponseOutput } from '../content/index.js';
import * as S from '../core/semconv.js';
import { MAX_STREAM_ENTRIES, tooManyEntries, usageFrom } from './limits.js';
import { commonSamplingAttributes, outputType, setNum, setStr } from './request.js';
import type { ApiAdapter, ResponseSummary, StreamAccumulator, Usage } from './types.js';

export function responsesUsage(u: any): Usage | undefined {
  if (!u || typeof u !== 'object') return undefined;
  return usageFrom(u.input_tokens, u.output_tokens, u.input_tokens_details?.cached_tokens, u.output_tokens_details?.reasoning_tokens);
}

function outputText(r: any): string {
  let out = '';
  for (const item of Array.isArray(r?.output) ? r.output : []) {
    if (item?.type === 'message' && Array.isArray(item.content)) {
      for (const c of item.content)
        if (typeof c?.text === 'string') out += c.text;
        else if (typeof c?.refusal === 'string') out += c.refusal;
    } else if (item?.type === 'function_call') {
      out += (item.name ?? '') + (item.arguments ?? '');
    } else if (item?.type === 'reasoning') {
      // Reasoning tokens are output tokens: an estimate counts what the response shows of them.
      for (const p of [...(Array.isArray(item.summary) ? item.summary : []), ...(Array.isArray(item.content) ? item.content : [])])
        if (typeof p?.text === 'string') out += p.text;
    }
  }
  return out;
}

function summarizeResponse(r: any): ResponseSummary {
  const attrs: Attributes = {};
  setStr(attrs, S.GEN_AI_RESPONSE_ID, r?.id);
  setStr(attrs, S.GEN_AI_RESPONSE_MODEL, r?.model);
  setStr(attrs, S.OPENAI_RESPONSE_SERVICE_TIER, r?.service_tier);
  const fr = responsesFinishReason(r);
  if (fr) attrs[S.GEN_AI_RESPONSE_FINISH_REASONS] = [fr];
  return {
    attributes: attrs,
    usage: responsesUsage(r?.usage),
    output: (o: ContentOptions) => responsesResponseOutput(r, o),
    outputText: () => outputText(r),
  };
}

/** One reasoning summary part or raw reasoning text being streamed. */
interface ReasoningAcc {
  key: string;
  summary: boolean;
  text: string;
}

/** Streams carry typed events; the terminal event holds the whole response with its usage. */
class ResponsesStreamAccumulator implements StreamAccumulator {
  private final: any;
  private partial: any = { output: [] };
  private text = '';
  /** Reasoning streamed so far, for a stream that ends before its terminal event. */
  private reasoning: ReasoningAcc[] = [];

  onChunk(ev: any): void {
    if (!ev || typeof ev !== 'object') return;
    const t = ev.type;
    if ((t === 'response.completed' || t === 'response.incomplete' || t === 'response.failed') && ev.response) {
      // The event type is the status, even when a compatible server leaves `status` out.
      this.final = ev.response.status ? ev.response : { ...ev.response, status: t.slice('response.'.length) };
    } else if ((t === 'response.created' || t === 'response.in_progress') && ev.response) {
      this.partial = { ...ev.response, output: [] };
    } else if (t === 'response.output_text.delta' && typeof ev.delta === 'string') {
      this.text += ev.delta;
    } else if ((t === 'response.reasoning_summary_text.delta' || t === 'response.reasoning_text.delta') && typeof ev.delta === 'string') {
      this.onReasoning(t === 'response.reasoning_summary_text.delta', ev);
    }
  }

  private onReasoning(summary: boolean, ev: any): void {
    // A part is (item, summary or content index); deltas of one part arrive together.
    const key = `${summary ? 's' : 'c'}\u0000${String(ev.item_id)}\u0000${String(summary ? ev.summary_index : ev.content_index)}`;
    let last = this.reasoning[this.reasoning.length - 1];
    if (last?.key !== key) {
      if (this.reasoning.length >= MAX_STREAM_ENTRIES) {
        tooManyEntries('reasoning parts');
        return;
      }
      last = { key, summary, text: '' };
      this.reasoning.push(last);
    }
    last.text += ev.delta;
  }

  result(): unknown {
    if (this.final) return this.final;
    // Ended early: report what arrived so far as one partial assistant message.
    const output: unknown[] = [];
    if (this.reasoning.length > 0) {
      const part = (r: ReasoningAcc) => ({ type: r.summary ? 'summary_text' : 'reasoning_text', text: r.text });
      output.push({
        type: 'reasoning',
        summary: this.reasoning.filter((r) => r.summary).map(part),
        content: this.reasoning.filter((r) => !r.summary).map(part),
      });
    }
    if (this.text) output.push({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: this.text }] });
    const partial = {
      ...this.partial,
      status: this.partial.status === 'in_progress' ? undefined : this.partial.status,
      output,
    };
    return partial;
  }
}

export const responsesAdapter: ApiAdapter = {
  api: 'responses',
  operation: 'chat',
  apiType: 'responses',
  requestAttributes(body) {
    const attrs: Attributes = {};
    commonSamplingAttributes(body, attrs);
    setNum(attrs, S.GEN_AI_REQUEST_MAX_TOKENS, body.max_output_tokens);
    const ot = outputType(body.text?.format);
    if (ot) attrs[S.GEN_AI_OUTPUT_TYPE] = ot;
    return attrs;
  },
  requestContent: (body, o) => responsesRequestContent(body, o),
  summarize: summarizeResponse,
  accumulator: () => new ResponsesStreamAccumulator(),
};
