// Prices inside a call log: the built-in table and LLM_OTEL_PRICES rows mirrored into
// `model_prices` (so `price_id` names a real row), user rows written by `llm-otel prices`, and a
// pricer for the exporter's writer.

import type BetterSqlite3 from 'better-sqlite3';
import { priceKey } from '../core/price-key.js';
import { computeCost } from './compute.js';
import { builtinRows, PriceBook } from './pricebook.js';
import type { PriceFile } from './rows.js';
import type { PricedCost, PriceRow, PricerCall } from './types.js';

type Db = BetterSqlite3.Database;

const COLS = 'provider, model_pattern, input_per_mtok, cached_input_per_mtok, output_per_mtok, currency, valid_from, valid_to, source';
/** Inserting a row: its content key is stored with it (src/core/price-key.ts). */
const INSERT = `INSERT INTO model_prices (${COLS}, price_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

type RowContent = Omit<PriceRow, 'id' | 'source'>;

/** The values INSERT binds for `r` as a row of `source`. */
function insertValues(r: RowContent, source: PriceRow['source'], validFrom = r.valid_from): unknown[] {
  const row = { ...r, valid_from: validFrom, source };
  return [
    r.provider,
    r.model_pattern,
    r.input_per_mtok,
    r.cached_input_per_mtok,
    r.output_per_mtok,
    r.currency,
    validFrom,
    r.valid_to,
    source,
    priceKey(row),
  ];
}

function contentKey(r: PriceRow): string {
  return JSON.stringify([
    r.provider,
    r.model_pattern,
    r.input_per_mtok,
    r.cached_input_per_mtok,
    r.output_per_mtok,
    r.currency,
    r.valid_from,
    r.valid_to,
  ]);
}

export interface SyncResult {
  inserted: number;
  deleted: number;
  retired: number;
}

/**
 * Makes the `source = 'builtin'` rows of `model_prices` equal to the built-in table. Idempotent
 * (a second call changes nothing); user rows are never touched. Rows that left the table are
 * deleted, unless a call was costed with them: those stay (history keeps its price) with
 * `valid_to` set to now, so they no longer price new calls.
 */
export function syncPricesToDb(db: Db, table: readonly PriceRow[] | PriceBook = builtinRows(), now: Date = new Date()): SyncResult {
  // A book contributes its built-in rows (user rows are written by `prices set`, never synced).
  const rows =
    table instanceof PriceBook
      ? table
          .rows()
          .filter((r) => r.source === 'builtin')
          .map(({ id: _id, ...r }) => r)
      : table;
  const result: SyncResult = { inserted: 0, deleted: 0, retired: 0 };
  const run = db.transaction(() => {
    const existing = db.prepare(`SELECT id, ${COLS} FROM model_prices WHERE source = 'builtin'`).all() as (PriceRow & { id: number })[];
    const have = new Map<string, number>();
    for (const r of existing) if (!have.has(contentKey(r))) have.set(contentKey(r), r.id);
    const want = new Set(rows.map(contentKey));
    const nowIso = now.toISOString();
    // Rows retired by an earlier sync (valid_to in the past) are settled history: left alone, so
    // a routine open never scans llm_calls.
    const extras = existing.filter(
      (r) => (!want.has(contentKey(r)) || have.get(contentKey(r)) !== r.id) && (r.valid_to === null || r.valid_to > nowIso),
    );
    if (extras.length > 0) {
      const referenced = new Set<number>();
      const ids = extras.map((r) => r.id);
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = ids.slice(i, i + 500);
        const found = db
          .prepare(`SELECT DISTINCT price_id AS id FROM llm_calls WHERE price_id IN (${chunk.map(() => '?').join(',')})`)
          .all(...chunk) as { id: number }[];
        for (const f of found) referenced.add(f.id);
      }
      const del = db.prepare('DELETE FROM model_prices WHERE id = ?');
      const retire = db.prepare('UPDATE model_prices SET valid_to = ? WHERE id = ?');
      for (const r of extras) {
        if (!referenced.has(r.id)) {
          del.run(r.id);
          result.deleted++;
        } else {
          retire.run(nowIso, r.id);
          result.retired++;
        }
      }
    }
    const ins = db.prepare(INSERT);
    const added = new Set<string>();
    for (const r of rows) {
      const k = contentKey(r);
      if (have.has(k) || added.has(k)) continue;
      added.add(k);
      ins.run(insertValues(r, 'builtin'));
      result.inserted++;
    }
  });
  run.immediate();
  return result;
}

/**
 * Gives LLM_OTEL_PRICES rows ids: each is found among the `source = 'file'` rows of `model_prices`
 * (same provider, pattern, rates, currency and validity) or inserted there. Returns them with
 * their ids. Never deletes: a file changes between runs, and calls keep naming the rows that priced
 * them; processes sharing a call log with different files each find their own rows.
 */
export function mirrorFileRows(db: Db, rows: readonly PriceRow[]): PriceRow[] {
  const out: PriceRow[] = [];
  if (rows.length === 0) return out;
  const run = db.transaction(() => {
    const have = new Map<string, number>();
    for (const r of db.prepare(`SELECT id, ${COLS} FROM model_prices WHERE source = 'file' ORDER BY id`).all() as (PriceRow & {
      id: number;
    })[]) {
      if (!have.has(contentKey(r))) have.set(contentKey(r), r.id);
    }
    const ins = db.prepare(INSERT);
    for (const { id: _id, ...r } of rows) {
      const k = contentKey(r);
      let id = have.get(k);
      if (id === undefined) {
        const info = ins.run(insertValues(r, 'file'));
        id = Number(info.lastInsertRowid);
        have.set(k, id);
      }
      out.push({ ...r, id, source: 'file' });
    }
  });
  run.immediate();
  return out;
}

export interface UserPriceResult {
  id: number;
  closed: number;
  replaced: number;
}

/**
 * Adds a user price row. A price change is a new row: the open-ended user row for the same
 * provider and pattern is closed at the new row's valid_from (default: now), so calls costed
 * before keep their price and their `price_id`. Same-start user rows that no call uses are replaced.
 * The first user row for a model, without valid_from, applies at all times.
 */
export function addUserPrice(db: Db, row: PriceRow, now: Date = new Date()): UserPriceResult {
  const out: UserPriceResult = { id: 0, closed: 0, replaced: 0 };
  const run = db.transaction(() => {
    const same = db
      .prepare(
        `SELECT id, valid_from, valid_to FROM model_prices WHERE source = 'user' AND lower(model_pattern) = lower(?) AND coalesce(provider, '') = coalesce(?, '')`,
      )
      .all(row.model_pattern, row.provider) as { id: number; valid_from: string | null; valid_to: string | null }[];
    // The first user price of a model applies to all times; a later one starts now (or --from).
    const from = row.valid_from ?? (same.length === 0 ? null : now.toISOString());
    for (const r of same) {
      if (from === null) break;
      if (r.valid_from !== null && r.valid_from >= from) {
        const used = db.prepare('SELECT 1 FROM llm_calls WHERE price_id = ? LIMIT 1').get(r.id);
        if (used)
          throw new Error(
            `a price for ${row.model_pattern} starting ${r.valid_from} (id ${r.id}) already costed calls; give a later --from`,
          );
        db.prepare('DELETE FROM model_prices WHERE id = ?').run(r.id);
        out.replaced++;
      } else if (r.valid_to === null || r.valid_to > from) {
        db.prepare('UPDATE model_prices SET valid_to = ? WHERE id = ?').run(from, r.id);
        out.closed++;
      }
    }
    const info = db.prepare(INSERT).run(insertValues(row, 'user', from));
    out.id = Number(info.lastInsertRowid);
  });
  run.immediate();
  return out;
}

export interface DbPricerOptions {
  /**
   * Rows and aliases from LLM_OTEL_PRICES: override the DB's rows. The rows are mirrored into
   * `model_prices` as `source = 'file'` (mirrorFileRows), so their calls get a price_id.
   */
  overrides?: PriceFile | null;
  /** Look for changed `model_prices` at most this often (ms). Default 1000. */
  checkIntervalMs?: number;
  /** Mirror the built-in table and the override rows into the DB first (the writer's connection: yes). Default true. */
  sync?: boolean;
}

/**
 * The DB's price rows as a PriceBook, reloaded when `model_prices` changes (another process ran
 * `llm-otel prices set`). Checks are throttled and cheap: PRAGMA data_version, then a fingerprint.
 */
export class DbPriceSource {
  private current: PriceBook;
  private lastCheck = 0;
  private dataVersion = -1;
  private fingerprint = '';
  private readonly interval: number;
  private readonly fp: BetterSqlite3.Statement;
  /** The override rows, with their `model_prices` ids once mirrored. */
  private readonly fileRows: readonly PriceRow[];

  constructor(
    private readonly db: Db,
    private readonly opts: DbPricerOptions = {},
  ) {
    this.interval = opts.checkIntervalMs ?? 1000;
    if (opts.sync !== false) syncPricesToDb(db);
    const rows = opts.overrides?.rows ?? [];
    this.fileRows = opts.sync !== false ? mirrorFileRows(db, rows) : rows;
    this.fp = db.prepare(
      `SELECT count(*) || ':' || coalesce(max(id), 0) || ':' || total(coalesce(input_per_mtok, 0) + 2 * coalesce(cached_input_per_mtok, 0) + 3 * coalesce(output_per_mtok, 0))
         || ':' || total(length(model_pattern) + length(coalesce(provider, '')) + length(coalesce(valid_from, '')) + length(coalesce(valid_to, '')) + length(currency)) AS f
       FROM model_prices`,
    );
    this.current = this.load();
  }

  private load(): PriceBook {
    this.dataVersion = this.db.pragma('data_version', { simple: true }) as number;
    this.fingerprint = (this.fp.get() as { f: string }).f;
    const book = PriceBook.fromDb(this.db);
    const o = this.opts.overrides;
    return o ? book.withOverrides(this.fileRows, o.aliases) : book;
  }

  /** The current book (re-read from the DB when it changed since the last check). */
  book(): PriceBook {
    const now = Date.now();
    if (now - this.lastCheck < this.interval) return this.current;
    this.lastCheck = now;
    try {
      const dv = this.db.pragma('data_version', { simple: true }) as number;
      if (dv !== this.dataVersion) {
        this.dataVersion = dv;
        const f = (this.fp.get() as { f: string }).f;
        if (f !== this.fingerprint) this.current = this.load();
      }
    } catch {
      /* DB closed or busy: keep the last book */
    }
    return this.current;
  }

  /** Cost of one call row, or null when the model is unknown or usage is missing. */
  price(call: PricerCall): PricedCost | null {
    return priceCall(this.book(), call);
  }
}

/** Cost of one call with `book`; null when unknown (never 0 for an unknown model). */
export function priceCall(book: PriceBook, call: PricerCall): PricedCost | null {
  if (call.input_tokens == null && call.output_tokens == null) return null;
  const at = call.started_at ? new Date(call.started_at) : new Date();
  const row = book.matchAny(call.provider, [call.response_model, call.request_model], Number.isNaN(at.getTime()) ? new Date() : at);
  if (!row) return null;
  const cost = computeCost(
    {
      inputTokens: call.input_tokens,
      outputTokens: call.output_tokens,
      cachedInputTokens: call.cached_input_tokens,
      reasoningTokens: call.reasoning_tokens,
    },
    row,
  );
  if (cost === undefined) return null;
  return { cost, currency: row.currency, priceId: row.id ?? null };
}

/** The pricing hook the exporter's CallLogWriter takes (`price` option). */
export type PriceHookFn = ((call: PricerCall, db?: Db | null) => PricedCost | null) & {
  /** The book the hook would use now (for CostSpanProcessor). */
  book(): PriceBook;
};

/**
 * The `price` option of the exporter's CallLogWriter: `(call, db) => {cost, currency, priceId} | null`.
 * Prices with the DB's rows (built-in table mirrored in first, user rows reloaded when they change)
 * of the connection the writer passes, else of `db`; without any DB, with the built-in table.
 * `overrides` (LLM_OTEL_PRICES) win over both. Never throws.
 */
export function createDbPricer(db: Db | null = null, opts: DbPricerOptions = {}): PriceHookFn {
  const sources = new WeakMap<Db, DbPriceSource>();
  const o = opts.overrides;
  const fallback = o ? PriceBook.builtin().withOverrides(o.rows, o.aliases) : PriceBook.builtin();
  const bookFor = (d: Db | null | undefined): PriceBook => {
    const target = d ?? db;
    if (!target?.open) return fallback;
    let src = sources.get(target);
    if (!src) {
      try {
        src = new DbPriceSource(target, opts);
      } catch {
        return fallback;
      }
      sources.set(target, src);
    }
    return src.book();
  };
  let last: Db | null = db;
  const fn = (call: PricerCall, d?: Db | null): PricedCost | null => {
    try {
      if (d) last = d;
      return priceCall(bookFor(d), call);
    } catch {
      return null;
    }
  };
  return Object.assign(fn, {
    book: () => {
      try {
        return bookFor(last);
      } catch {
        return fallback;
      }
    },
  });
}
