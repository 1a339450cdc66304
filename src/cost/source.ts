// One price source for a whole process (what `register` wires): CostSpanProcessor and the call-log
// writer price every call from the same rows, so llm_otel.cost on the OTLP span, llm_calls.cost and
// llm_calls.price_id agree from the very first call.
//
// It opens its own connection to the call log lazily (first priced span, never at start-up),
// mirrors the built-in table and the LLM_OTEL_PRICES rows into `model_prices` and loads user rows;
// if the DB cannot be used (locked, foreign, newer, read-only…) it prices from the built-in table
// (+ LLM_OTEL_PRICES) without price ids and tries the DB again later.

import type BetterSqlite3 from 'better-sqlite3';
import { openForWriting } from '../../exporter/open.js';
import { errorMessage, warnOnce } from '../core/warn.js';
import { DbPriceSource, priceCall } from './db-prices.js';
import { PriceBook } from './pricebook.js';
import type { PriceFile } from './rows.js';
import type { PricedCost, PricerCall } from './types.js';

export interface PriceSourceOptions {
  /** The call log; null = no DB (built-in table + overrides only). */
  path: string | null;
  /** LLM_OTEL_PRICES rows and aliases (override everything else; mirrored into the DB for their price ids). */
  overrides?: PriceFile | null;
  /** How long to wait for a locked DB when opening (ms, default 50: this runs on the app's thread). */
  busyTimeoutMs?: number;
  /** Wait this long before trying a DB that failed again (ms, default 30000). */
  retryMs?: number;
}

export class PriceSource {
  private readonly fallback: PriceBook;
  private db: BetterSqlite3.Database | null = null;
  private dbSource: DbPriceSource | null = null;
  private nextTry = 0;
  private closed = false;

  constructor(private readonly opts: PriceSourceOptions) {
    const o = opts.overrides;
    this.fallback = o ? PriceBook.builtin().withOverrides(o.rows, o.aliases) : PriceBook.builtin();
  }

  /** The current book: the DB's (with ids) when available, else built-in + overrides. */
  book(): PriceBook {
    if (this.dbSource) return this.dbSource.book();
    if (this.closed || this.opts.path === null || Date.now() < this.nextTry) return this.fallback;
    try {
      this.db = openForWriting(this.opts.path, { busyTimeoutMs: this.opts.busyTimeoutMs ?? 50 });
    } catch {
      // An unusable file is the call log's to report (it opens the same path): one warning, not two.
      this.retryLater();
      return this.fallback;
    }
    try {
      this.dbSource = new DbPriceSource(this.db, { overrides: this.opts.overrides ?? null });
      return this.dbSource.book();
    } catch (e) {
      this.retryLater();
      // A lock is the call log's to report as well (and usually brief).
      if (/^SQLITE_(BUSY|LOCKED)/.test(String((e as { code?: unknown })?.code ?? ''))) return this.fallback;
      warnOnce(
        `prices:${this.opts.path}`,
        `prices: cannot read price rows from ${this.opts.path} (${errorMessage(e)}); using the built-in table`,
      );
      return this.fallback;
    }
  }

  /** Cost of one call (null: unknown model or no usage). Never throws. */
  price(call: PricerCall): PricedCost | null {
    try {
      return priceCall(this.book(), call);
    } catch {
      return null;
    }
  }

  /** The exporter writer's `price` option. */
  readonly hook = (call: PricerCall): PricedCost | null => this.price(call);

  private retryLater(): void {
    this.closeDb();
    this.nextTry = Date.now() + (this.opts.retryMs ?? 30_000);
  }

  close(): void {
    this.closed = true;
    this.closeDb();
  }

  private closeDb(): void {
    const db = this.db;
    this.db = null;
    this.dbSource = null;
    if (db) {
      try {
        db.close();
      } catch {
        /* nothing to do */
      }
    }
  }
}

export function createPriceSource(opts: PriceSourceOptions): PriceSource {
  return new PriceSource(opts);
}
