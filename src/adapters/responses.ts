// Responses API: `responses.create` (and `responses.parse` / `responses.stream`, which reach it).

import type { Attributes } from '@opentelemetry/api';
// One rule for the span's finish reason and the output message's (content/responses.ts).
import { type ContentOptions, responsesFinishReason, responsesRequestContent, responsesResponseOutput } from '../content/index.js';
import * as S from '../core/semconv.js';
import { usageFrom } from './limits.js';
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

/** Streams carry typed events; the terminal event holds the whole response with its usage. */
class ResponsesStreamAccumulator implements StreamAccumulator {
  private final: any;
  private partial: any = { output: [] };
  private text = '';

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
    }
  }

  result(): unknown {
    if (this.final) return this.final;
    // Ended early: report what arrived so far as one partial assistant message.
    const partial = {
      ...this.partial,
      status: this.partial.status === 'in_progress' ? undefined : this.partial.status,
      output: this.text ? [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: this.text }] }] : [],
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
