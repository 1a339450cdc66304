// Offline token estimates for calls whose provider sent no usage (chat streams without
// include_usage, OpenAI-compatible servers). The tokenizer loads lazily on the first estimate, so
// apps whose provider always reports usage never pay for it.

import type { ApiAdapter } from '../adapters/types.js';
import { type EstimateMessage, estimateChatTokens, estimateTextTokens } from '../tokens/index.js';

/** Offline token counts, for calls whose provider reports no usage. */
export interface TokenEstimator {
  /** Input tokens of a request body for this API family. */
  input(adapter: ApiAdapter, body: Record<string, any>, model: string | undefined): number | undefined;
  /** Tokens of generated text. */
  output(text: string, model: string | undefined): number | undefined;
}

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
    return sumOverRuns(text, (piece) => estimateTextTokens(piece, model));
  },
};

/**
 * Byte-pair encoding of one pre-token (a run of letters, or of punctuation) costs about the square
 * of its length, and a provider can send one megabyte-long run. Generated text is therefore counted
 * in pieces that end after at most MAX_RUN non-space characters in a row: linear time, and off by
 * at most one token per cut (ordinary text, whose words are short, is never cut).
 */
const MAX_RUN = 512;

export function sumOverRuns(text: string, count: (piece: string) => number): number {
  if (text.length <= MAX_RUN) return count(text);
  let total = 0;
  let start = 0;
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 10 || c === 13 || c === 9) {
      run = 0;
      continue;
    }
    // Never between the two halves of a surrogate pair.
    if (++run >= MAX_RUN && !(c >= 0xd800 && c <= 0xdbff)) {
      total += count(text.slice(start, i + 1));
      start = i + 1;
      run = 0;
    }
  }
  return start < text.length ? total + count(text.slice(start)) : total;
}
