// The deterministic key of a price row (model_prices.price_key, llm_calls.price_key): the same
// content gives the same key in every call log and in the fleet database, so calls name their
// price across stores, where per-file integer ids mean nothing. valid_to is left out on purpose:
// retiring a row (closing its validity) keeps its key, and the calls it priced keep naming it.

import { createHash } from 'node:crypto';

/** The columns of a price row the key is made of. */
export interface PriceKeyFields {
  source: string;
  provider: string | null;
  model_pattern: string;
  input_per_mtok: number | null;
  cached_input_per_mtok: number | null;
  output_per_mtok: number | null;
  currency: string;
  valid_from: string | null;
}

function rate(v: number | null | undefined): number | null {
  if (v === null || v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** An ISO time however it was written ('2026-01-01' and '2026-01-01T00:00:00.000Z' are one time). */
function time(v: string | null | undefined): string | null {
  if (v === null || v === undefined || v === '') return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? v : new Date(t).toISOString();
}

/** 16 hex digits (64 bits of SHA-256) of the row's content. */
export function priceKey(r: PriceKeyFields): string {
  const content = JSON.stringify([
    r.source,
    r.provider ?? '',
    String(r.model_pattern).toLowerCase(),
    rate(r.input_per_mtok),
    rate(r.cached_input_per_mtok),
    rate(r.output_per_mtok),
    r.currency ?? 'USD',
    time(r.valid_from),
  ]);
  return createHash('sha256').update(content).digest('hex').slice(0, 16);
}
