// Rows as every store returns them. JSON columns are given as canonical JSON text (object keys
// sorted, no spaces): PostgreSQL's jsonb keeps neither the key order nor the spacing it was given,
// so both stores print the same text only if both normalise it (docs/fleet.md). Decoding for
// output (the --json / JSONL form and the dashboard's API) parses that text.

import { CALL_COLUMNS, RUN_COLUMNS } from '../../exporter/rows.js';

export const JSON_COLUMNS: ReadonlySet<string> = new Set(['tags', 'metadata', 'finish_reasons', 'attributes', 'tool_calls']);

/**
 * The columns of a stored call as the read layer gives them (`show`, `export --table calls`): the
 * call log's columns without `price_id`, a per-file row id that means nothing in another store
 * (the price row itself is given by `callPrice`).
 */
export const STORED_CALL_COLUMNS: readonly string[] = ['id', ...CALL_COLUMNS.filter((c) => c !== 'price_id')];

/** The columns of a stored run (`show <run span id>`, `export --table runs`). */
export const STORED_RUN_COLUMNS: readonly string[] = ['id', ...RUN_COLUMNS];

/** The columns of a price row as the read layer gives it (no per-file id, no store-specific key). */
export const PRICE_COLUMNS = [
  'provider',
  'model_pattern',
  'input_per_mtok',
  'cached_input_per_mtok',
  'output_per_mtok',
  'currency',
  'valid_from',
  'valid_to',
  'source',
] as const;

/** `v` (fresh from JSON.parse) with every object's keys in sorted order; objects already sorted are kept. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = sortKeys(v[i]);
    return v;
  }
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    let sorted = true;
    for (let i = 1; i < keys.length && sorted; i++) sorted = keys[i - 1]! <= keys[i]!;
    if (sorted) {
      for (const k of keys) o[k] = sortKeys(o[k]);
      return o;
    }
    // No prototype: a "__proto__" key stays a key.
    const out = Object.create(null) as Record<string, unknown>;
    for (const k of keys.sort()) out[k] = sortKeys(o[k]);
    return out;
  }
  return v;
}

/** JSON text with object keys sorted and no whitespace; text that is not JSON is returned as it is. */
export function canonicalJson(text: string): string {
  // Scalars and arrays of scalars (finish_reasons) are already canonical once compact.
  try {
    return JSON.stringify(sortKeys(JSON.parse(text)));
  } catch {
    return text;
  }
}

/** A row with its JSON text columns made canonical (in place; returns the row). */
export function canonicalRow<T extends Record<string, unknown>>(row: T): T {
  for (const k of Object.keys(row)) {
    const v = row[k];
    if (typeof v === 'string' && JSON_COLUMNS.has(k)) (row as Record<string, unknown>)[k] = canonicalJson(v);
  }
  return row;
}

/** A DB row with its JSON text columns parsed; text that is not JSON is kept as it is. */
export function parseJsonColumns<T extends Record<string, unknown>>(row: T): T {
  const out: Record<string, unknown> = { ...row };
  for (const k of Object.keys(out)) {
    const v = out[k];
    if (JSON_COLUMNS.has(k) && typeof v === 'string') {
      try {
        out[k] = JSON.parse(v);
      } catch {
        /* keep the text */
      }
    }
  }
  return out as T;
}

const byText = (a: unknown, b: unknown): number => {
  // Nulls first; then code-unit order (the same in every store, whatever its collation).
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

const nullsLast = (a: unknown, b: unknown): number =>
  (a === null || a === undefined) === (b === null || b === undefined) ? byText(a, b) : a === null || a === undefined ? 1 : -1;

/**
 * The order of price rows in every store: by model pattern, provider (none first), valid_from (none
 * first), valid_to, source. A shared store has no insertion order to give, so none is used.
 */
export function comparePriceRows(a: Record<string, unknown>, b: Record<string, unknown>): number {
  return (
    byText(a.model_pattern, b.model_pattern) ||
    byText(a.provider, b.provider) ||
    byText(a.valid_from, b.valid_from) ||
    nullsLast(a.valid_to, b.valid_to) ||
    byText(a.source, b.source)
  );
}

/**
 * A sum or mean of floating values (costs, durations) to 12 significant digits. The stores add rows
 * in different orders (SQLite by index, PostgreSQL by row, or compensated), and the last bits of a
 * float sum depend on the order; rounded, every store gives the same number.
 */
export function roundSum(x: number): number;
export function roundSum(x: number | null | undefined): number | null;
export function roundSum(x: number | null | undefined): number | null {
  if (typeof x !== 'number') return null;
  return Number.isFinite(x) ? Number(x.toPrecision(12)) : x;
}

/** Costs per currency with the currencies in code-unit order, whatever order a store met them in; sums rounded (roundSum). */
export function sortedCosts(costs: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(costs).sort()) out[k] = roundSum(costs[k]!);
  return out;
}
