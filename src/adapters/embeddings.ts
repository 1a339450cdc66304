// Embeddings: `embeddings.create`. Only input tokens exist; the vectors are never recorded.

import type { Attributes } from '@opentelemetry/api';
import { embeddingsRequestContent } from '../content/index.js';
import * as S from '../core/semconv.js';
import { usageFrom } from './limits.js';
import { setNum, setStr } from './request.js';
import type { ApiAdapter, ResponseSummary } from './types.js';

function summarize(r: any): ResponseSummary {
  const attrs: Attributes = {};
  setStr(attrs, S.GEN_AI_RESPONSE_MODEL, r?.model);
  const u = r?.usage;
  return { attributes: attrs, usage: u && typeof u === 'object' ? usageFrom(u.prompt_tokens, undefined, undefined, undefined) : undefined };
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
