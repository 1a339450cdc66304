// Cost of one call from disjoint token buckets (docs/database.md): uncached input, cached input, output.
// Reasoning tokens are part of output tokens (OpenAI's completion_tokens includes them), so they
// are priced once, as output.

import type { PriceRow, TokenUsage } from './types.js';

function count(n: number | null | undefined): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
}

/**
 * Cost in the row's currency, or undefined when a bucket that has tokens has no rate (an
 * embeddings-only row asked to price output, say): an unknown cost is never reported as 0.
 */
export function computeCost(usage: TokenUsage, price: PriceRow): number | undefined {
  const input = count(usage.inputTokens);
  const cached = Math.min(count(usage.cachedInputTokens), input);
  const uncached = input - cached;
  const output = count(usage.outputTokens);
  const inRate = price.input_per_mtok;
  const cachedRate = price.cached_input_per_mtok ?? inRate;
  const outRate = price.output_per_mtok;
  if ((uncached > 0 && inRate === null) || (cached > 0 && cachedRate === null) || (output > 0 && outRate === null)) {
    return undefined;
  }
  const micro = uncached * (inRate ?? 0) + cached * (cachedRate ?? 0) + output * (outRate ?? 0);
  // Per-million rates: round away binary noise (0.1 + 0.2) at 1e-12 of a currency unit.
  return Math.round((micro / 1e6) * 1e12) / 1e12;
}
