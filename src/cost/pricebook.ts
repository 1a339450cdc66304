// PriceBook: finds the price row for (provider, model, time).
//
// Precedence, first match wins:
//  1. user rows (and LLM_OTEL_PRICES rows, source `file`) before built-in rows (a user row always
//     overrides the built-in table);
//  2. within each, exact name, then exact name without a date suffix (`gpt-4o-2024-08-06` →
//     `gpt-4o`), then wildcard patterns (most literal characters first, so `gpt-4o-mini*` beats
//     `gpt-4o*`), then wildcards on the undated name;
//  3. ties: a row of the call's provider, then a provider-less row, then (built-in rows only)
//     another provider's row — OpenAI-compatible servers are often reported as `openai`; then a
//     row with a closed validity period, the latest valid_from, the last added.
// Only rows valid at the call's start time are considered (valid_from <= t < valid_to).

import type BetterSqlite3 from 'better-sqlite3';
import { BUILTIN_ROWS } from './builtin-data.js';
import { type CompiledPattern, compilePattern, normalizeModel, normalizeProvider, stripDateSuffix } from './match.js';
import type { PriceRow } from './types.js';

interface Entry {
  row: PriceRow;
  pattern: CompiledPattern;
  provider: string | null;
  from: number;
  to: number;
  order: number;
}

function ms(iso: string | null, dflt: number): number {
  if (iso === null || iso === '') return dflt;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? dflt : t;
}

const CACHE_MAX = 2000;

export class PriceBook {
  private readonly entries: Entry[];
  private readonly exact = new Map<string, Entry[]>();
  private readonly globs: Entry[] = [];
  private readonly aliases: Map<string, string>;
  private readonly cache = new Map<string, Entry[]>();

  private constructor(rows: readonly PriceRow[], aliases: ReadonlyMap<string, string>) {
    this.entries = rows.map((row, order) => ({
      row,
      pattern: compilePattern(row.model_pattern),
      provider: normalizeProvider(row.provider),
      from: ms(row.valid_from, -Infinity),
      to: ms(row.valid_to, Infinity),
      order,
    }));
    for (const e of this.entries) {
      if (e.pattern.exact !== null) {
        const list = this.exact.get(e.pattern.exact);
        if (list) list.push(e);
        else this.exact.set(e.pattern.exact, [e]);
      } else this.globs.push(e);
    }
    this.aliases = new Map(aliases);
  }

  private static builtinBook: PriceBook | undefined;

  /** The built-in table (generated from @pydantic/genai-prices, USD). Built once per process. */
  static builtin(): PriceBook {
    return (PriceBook.builtinBook ??= new PriceBook(builtinRows(), new Map()));
  }

  /** A book of exactly these rows (rows without `source` count as user rows). */
  static fromRows(rows: readonly PriceRow[], aliases: Readonly<Record<string, string>> = {}): PriceBook {
    return new PriceBook(rows, aliasMap(aliases));
  }

  /**
   * The rows of a call log's `model_prices` table, with their ids (for `price_id`), except those of
   * LLM_OTEL_PRICES files (`file`): they price only in the processes that read the file.
   */
  static fromDb(db: BetterSqlite3.Database): PriceBook {
    const rows = db
      .prepare(
        "SELECT id, provider, model_pattern, input_per_mtok, cached_input_per_mtok, output_per_mtok, currency, valid_from, valid_to, source FROM model_prices WHERE source <> 'file' ORDER BY id",
      )
      .all() as PriceRow[];
    return PriceBook.fromTable(rows);
  }

  /** A book of rows as stored in a call log's `model_prices` (read by any store). */
  static fromTable(rows: readonly PriceRow[]): PriceBook {
    return new PriceBook(
      rows.map((r) => ({ ...r, source: r.source === 'builtin' ? 'builtin' : 'user', currency: r.currency || 'USD' })),
      new Map(),
    );
  }

  /** This book plus `rows` (as user rows unless they say otherwise) and model aliases. */
  withOverrides(rows: readonly PriceRow[], aliases: Readonly<Record<string, string>> = {}): PriceBook {
    const merged = new Map(this.aliases);
    for (const [k, v] of aliasMap(aliases)) merged.set(k, v);
    return new PriceBook([...this.entries.map((e) => e.row), ...rows.map((r) => ({ ...r, source: r.source ?? 'user' }))], merged);
  }

  /** All rows, in insertion order. */
  rows(): PriceRow[] {
    return this.entries.map((e) => e.row);
  }

  get size(): number {
    return this.entries.length;
  }

  /** The row that prices `model` from `provider` for a call started at `at`; undefined if none. */
  match(provider: string | null | undefined, model: string | null | undefined, at: Date = new Date()): PriceRow | undefined {
    if (typeof model !== 'string' || model.trim() === '') return undefined;
    const key = `${provider ?? ''}\u0000${model}`;
    let candidates = this.cache.get(key);
    if (!candidates) {
      candidates = this.candidates(normalizeProvider(provider), model);
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(key, candidates);
    }
    const t = at.getTime();
    for (const e of candidates) if (e.from <= t && t < e.to) return e.row;
    return undefined;
  }

  /**
   * The row for a call that may name its model twice (request and response model): a user row
   * for either name wins (an Azure deployment name priced by the user), else the first name that
   * matches anything.
   */
  matchAny(
    provider: string | null | undefined,
    models: ReadonlyArray<string | null | undefined>,
    at: Date = new Date(),
  ): PriceRow | undefined {
    let first: PriceRow | undefined;
    for (const m of models) {
      const row = this.match(provider, m, at);
      if (row && row.source !== 'builtin') return row;
      first ??= row;
    }
    return first;
  }

  /** Every eligible row for (provider, model), best first, before the validity filter. */
  private candidates(provider: string | null, model: string): Entry[] {
    let n0 = normalizeModel(model);
    const alias = this.aliases.get(model.trim().toLowerCase()) ?? this.aliases.get(n0);
    if (alias !== undefined) n0 = alias;
    const n1 = stripDateSuffix(n0);
    const rank = (e: Entry): number => (e.provider === provider && provider !== null ? 0 : e.provider === null ? 1 : 2);
    const eligible = (e: Entry): boolean => {
      // A user row naming a provider applies to that provider only (an Azure rate is not OpenAI's).
      if (e.row.source !== 'builtin' && e.provider !== null && provider !== null) return e.provider === provider;
      return true;
    };
    const byPreference = (a: Entry, b: Entry): number =>
      b.pattern.literal - a.pattern.literal ||
      rank(a) - rank(b) ||
      Number(a.to === Infinity) - Number(b.to === Infinity) ||
      b.from - a.from ||
      b.order - a.order;
    const steps: Entry[][] = [
      this.exact.get(n0) ?? [],
      n1 !== null ? (this.exact.get(n1) ?? []) : [],
      this.globs.filter((e) => e.pattern.glob!.test(n0)),
      n1 !== null ? this.globs.filter((e) => e.pattern.glob!.test(n1)) : [],
    ];
    const out: Entry[] = [];
    const seen = new Set<Entry>();
    for (const builtin of [false, true]) {
      for (const step of steps) {
        const picked = step.filter((e) => (e.row.source === 'builtin') === builtin && eligible(e) && !seen.has(e)).sort(byPreference);
        for (const e of picked) {
          seen.add(e);
          out.push(e);
        }
      }
    }
    return out;
  }
}

function aliasMap(aliases: Readonly<Record<string, string>>): Map<string, string> {
  const m = new Map<string, string>();
  for (const [from, to] of Object.entries(aliases)) {
    if (typeof to !== 'string' || to.trim() === '') continue;
    m.set(from.trim().toLowerCase(), normalizeModel(to));
    m.set(normalizeModel(from), normalizeModel(to));
  }
  return m;
}

/** The generated table as rows (no ids: they get ids when synced into a DB). */
export function builtinRows(): PriceRow[] {
  return BUILTIN_ROWS.map(([provider, model_pattern, input, cached, output, valid_from, valid_to]) => ({
    provider,
    model_pattern,
    input_per_mtok: input,
    cached_input_per_mtok: cached,
    output_per_mtok: output,
    currency: 'USD',
    valid_from,
    valid_to,
    source: 'builtin' as const,
  }));
}
