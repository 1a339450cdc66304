// Prices and cost per call (docs/database.md: model_prices; llm_otel.cost).
export type { PriceRow, TokenUsage, PricedCost, PricerCall } from './types.js';
export { computeCost } from './compute.js';
export { PriceBook, builtinRows } from './pricebook.js';
export { normalizeModel, stripDateSuffix, normalizeProvider } from './match.js';
export { parsePriceRow, parsePriceFile, readPriceFile, PriceFileError, type PriceFile } from './rows.js';
export { syncPricesToDb, addUserPrice, DbPriceSource, createDbPricer, priceCall, type DbPricerOptions, type SyncResult, type PriceHookFn } from './db-prices.js';
export { PriceSource, createPriceSource, type PriceSourceOptions } from './source.js';
export { CostSpanProcessor, costAttributes, costAttributesOrNone, type CostSpanProcessorOptions } from './processor.js';
export { BUILTIN_SOURCE, BUILTIN_VERSION } from './builtin-data.js';
