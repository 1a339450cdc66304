// Offline token estimates for calls whose provider sent no usage (chat streams without
// include_usage, OpenAI-compatible servers). The tokenizer loads lazily on the first estimate, so
// apps whose provider always reports usage never pay for it.

import { estimateChatTokens, estimateTextTokens, type EstimateMessage } from '../tokens/index.js';
import type { TokenEstimator } from './runtime.js';

function asMessages(body: Record<string, any>, api: string): EstimateMessage[] {
  if (api === 'chat.completions') return Array.isArray(body.messages) ? body.messages : [];
  if (api === 'responses') {
    const out: EstimateMessage[] = [];
    if (typeof body.instructions === 'string') out.push({ role: 'system', content: body.instructions });
    if (typeof body.input === 'string') out.push({ role: 'user', content: body.input });
    else if (Array.isArray(body.input)) out.push(...body.input);
    return out;
  }
  return [];
}

function promptText(p: unknown): string {
  if (typeof p === 'string') return p;
  if (Array.isArray(p)) return p.map((x) => (typeof x === 'string' ? x : '')).join('\n');
  return '';
}

export const tokenEstimator: TokenEstimator = {
  input(adapter, body, model) {
    switch (adapter.api) {
      case 'chat.completions':
      case 'responses':
        return estimateChatTokens(asMessages(body, adapter.api), Array.isArray(body.tools) ? body.tools : undefined, model);
      case 'completions':
        return estimateTextTokens(promptText(body.prompt), model);
      case 'embeddings':
        return estimateTextTokens(promptText(body.input), model);
    }
  },
  output(text, model) {
    return estimateTextTokens(text, model);
  },
};
