// Embeddings: `embeddings.create`. Only input tokens exist; the vectors are never recorded.

import type { Attributes } from '@opentelemetry/api';
import * as S from '../semconv.js';
import { embeddingsRequestContent } from '../content/index.js';
import type { ApiAdapter, ResponseSummary } from './types.js';
import { isNum, setNum, setStr } from './request.js';

function summarize(r: any): ResponseSummary {
  const attrs: Attributes = {};
  setStr(attrs, S.GEN_AI_RESPONSE_MODEL, r?.model);
  const input = r?.usage?.prompt_tokens;
  return { attributes: attrs, usage: isNum(input) ? { inputTokens: input } : undefined };
}

export const embeddingsAdapter: ApiAdapter = {
  api: 'embeddings',
  operation: 'embeddings',
  requestAttributes(body) {
    const attrs: Attributes = {};
    if (typeof body.encoding_format === 'string') attrs[S.GEN_AI_REQUEST_ENCODING_FORMATS] = [body.encoding_format];
    setNum(attrs, 'gen_ai.embeddings.dimension.count', body.dimensions);
    return attrs;
  },
  requestContent: (body, o) => embeddingsRequestContent(body, o),
  summarize,
  // Embeddings never stream; a stream result would be a protocol we do not know.
  accumulator: () => ({ onChunk() {}, result: () => ({}) }),
};
