// Price rows mirror the `model_prices` table (docs/database.md) column for column, so rows move between
// the DB, JSON files and the in-memory PriceBook without renaming.

export interface PriceRow {
  /** `model_prices.id` when the row lives in a DB (becomes `llm_calls.price_id`); absent in memory. */
  id?: number;
  /** Provider name (`gen_ai.provider.name`), or null for "any provider". */
  provider: string | null;
  /**
   * Model name, compared case-insensitively after normalisation (vendor prefix `x/` removed).
   * `*` matches any run of characters (`gpt-4o*`); without `*` the name must match exactly.
   */
  model_pattern: string;
  input_per_mtok: number | null;
  /** Rate for cache-read input tokens; null means "same as input". */
  cached_input_per_mtok: number | null;
  output_per_mtok: number | null;
  /** ISO 4217 code: USD, CNY, EUR … */
  currency: string;
  /** ISO timestamps; the row applies to calls started in [valid_from, valid_to). Null = open. */
  valid_from: string | null;
  valid_to: string | null;
  /**
   * `builtin`: the generated table; `user`: written by `llm-otel prices`; `file`: an
   * LLM_OTEL_PRICES row, kept in `model_prices` so calls can name it, applied only by processes that
   * read that file.
   */
  source: 'builtin' | 'user' | 'file';
}

/** Token counts of one call, OpenAI semantics: input includes cached, output includes reasoning. */
export interface TokenUsage {
  inputTokens?: number | null;
  outputTokens?: number | null;
  cachedInputTokens?: number | null;
  reasoningTokens?: number | null;
}

/** What a pricer returns for one call. */
export interface PricedCost {
  cost: number;
  currency: string;
  /** `model_prices.id` of the row used, when it came from a DB. */
  priceId: number | null;
}

/** The call-row fields a pricer reads (a subset of exporter's CallRow). */
export interface PricerCall {
  provider?: string | null;
  request_model?: string | null;
  response_model?: string | null;
  input_tokens?: number | null;
  output_tokens?: number | null;
  cached_input_tokens?: number | null;
  reasoning_tokens?: number | null;
  /** ISO timestamp; the price valid at this moment is used. Default: now. */
  started_at?: string | null;
}
