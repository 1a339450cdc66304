// Prices and cost per call (docs/database.md: model_prices; llm_otel.cost).

export { BUILTIN_SOURCE, BUILTIN_VERSION } from './builtin-data.js';
export { computeCost } from './compute.js';
export {
  addUserPrice,
  createDbPricer,
  type DbPricerOptions,
  DbPriceSource,
  mirrorFileRows,
  type PriceHookFn,
  priceCall,
  type SyncResult,
  syncPricesToDb,
} from './db-prices.js';
export { normalizeModel, normalizeProvider, stripDateSuffix } from './match.js';
export { builtinRows, PriceBook } from './pricebook.js';
export { CostSpanProcessor, type CostSpanProcessorOptions, costAttributes, costAttributesOrNone } from './processor.js';
export { type PriceFile, PriceFileError, parsePriceFile, parsePriceRow, readPriceFile } from './rows.js';
export { createPriceSource, PriceSource, type PriceSourceOptions } from './source.js';
export type { PricedCost, PriceRow, PricerCall, TokenUsage } from './types.js';
