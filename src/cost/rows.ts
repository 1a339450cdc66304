// User price rows from JSON (LLM_OTEL_PRICES file, `llm-otel prices import`): validated, with
// messages that say which row and field is wrong.
//
// Accepted shapes: an array of rows, or { "prices": [rows], "aliases": { "deployment": "model" } }.
// Row fields (DB column names; short forms in brackets):
//   model_pattern [model] (required), provider, input_per_mtok [input], cached_input_per_mtok
//   [cached_input], output_per_mtok [output], currency (default USD), valid_from [from], valid_to [to].

import { readRegularFile } from '../core/files.js';
import { errorMessage } from '../core/warn.js';
import type { PriceRow } from './types.js';

export interface PriceFile {
  rows: PriceRow[];
  aliases: Record<string, string>;
}

export class PriceFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PriceFileError';
  }
}

const CURRENCY = /^[A-Z]{3}$/;

function pick(o: Record<string, unknown>, ...names: string[]): unknown {
  for (const n of names) if (o[n] !== undefined) return o[n];
  return undefined;
}

function rate(v: unknown, where: string): number | null {
  if (v === undefined || v === null || v === '') return null;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0)
    throw new PriceFileError(`${where}: expected a non-negative number, got ${JSON.stringify(v)}`);
  return n;
}

/** ISO date or timestamp → canonical ISO timestamp (UTC, ms); null if absent. */
export function isoTime(v: unknown, where: string): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(Date.parse(v))) {
    throw new PriceFileError(`${where}: expected an ISO date such as 2026-01-31, got ${JSON.stringify(v)}`);
  }
  return new Date(Date.parse(v)).toISOString();
}

/** Validates one user row; throws PriceFileError naming `where`. */
export function parsePriceRow(raw: unknown, where = 'price row'): PriceRow {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new PriceFileError(`${where}: expected an object`);
  const o = raw as Record<string, unknown>;
  const pattern = pick(o, 'model_pattern', 'model');
  if (typeof pattern !== 'string' || pattern.trim() === '')
    throw new PriceFileError(`${where}: "model_pattern" (the model name) is required`);
  const provider = pick(o, 'provider');
  if (provider !== undefined && provider !== null && typeof provider !== 'string')
    throw new PriceFileError(`${where}: "provider" must be a string`);
  const currencyRaw = pick(o, 'currency') ?? 'USD';
  const currency = typeof currencyRaw === 'string' ? currencyRaw.trim().toUpperCase() : '';
  if (!CURRENCY.test(currency))
    throw new PriceFileError(`${where}: "currency" must be a 3-letter code such as USD, CNY, EUR; got ${JSON.stringify(currencyRaw)}`);
  const row: PriceRow = {
    provider: typeof provider === 'string' && provider.trim() !== '' ? provider.trim() : null,
    model_pattern: pattern.trim(),
    input_per_mtok: rate(pick(o, 'input_per_mtok', 'input'), `${where} input_per_mtok`),
    cached_input_per_mtok: rate(pick(o, 'cached_input_per_mtok', 'cached_input'), `${where} cached_input_per_mtok`),
    output_per_mtok: rate(pick(o, 'output_per_mtok', 'output'), `${where} output_per_mtok`),
    currency,
    valid_from: isoTime(pick(o, 'valid_from', 'from'), `${where} valid_from`),
    valid_to: isoTime(pick(o, 'valid_to', 'to'), `${where} valid_to`),
    source: 'user',
  };
  if (row.input_per_mtok === null && row.output_per_mtok === null) {
    throw new PriceFileError(`${where}: give at least one of input_per_mtok, output_per_mtok`);
  }
  if (row.valid_from !== null && row.valid_to !== null && row.valid_from >= row.valid_to) {
    throw new PriceFileError(`${where}: valid_from must be before valid_to`);
  }
  return row;
}

/** Parses the JSON text of a price file. */
export function parsePriceFile(text: string, name = 'price file'): PriceFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new PriceFileError(`${name} is not valid JSON (${errorMessage(e)})`);
  }
  let list: unknown;
  let aliasesRaw: unknown = {};
  if (Array.isArray(data)) list = data;
  else if (data !== null && typeof data === 'object') {
    const o = data as Record<string, unknown>;
    list = o.prices ?? o.rows ?? [];
    aliasesRaw = o.aliases ?? {};
  } else throw new PriceFileError(`${name}: expected an array of price rows or {"prices": [...], "aliases": {...}}`);
  if (!Array.isArray(list)) throw new PriceFileError(`${name}: "prices" must be an array`);
  if (aliasesRaw === null || typeof aliasesRaw !== 'object' || Array.isArray(aliasesRaw))
    throw new PriceFileError(`${name}: "aliases" must be an object of "name": "model"`);
  const aliases: Record<string, string> = {};
  for (const [k, v] of Object.entries(aliasesRaw as Record<string, unknown>)) {
    if (typeof v !== 'string' || v.trim() === '') throw new PriceFileError(`${name}: alias ${JSON.stringify(k)} must name a model`);
    aliases[k] = v;
  }
  return { rows: list.map((r, i) => parsePriceRow(r, `${name} row ${i + 1}`)), aliases };
}

/** Far above any real price table (the built-in one is a few hundred rows); bounds start-up. */
const MAX_PRICE_FILE_BYTES = 8 * 1024 * 1024;

export function readPriceFile(path: string): PriceFile {
  let text: string;
  try {
    text = readRegularFile(path, MAX_PRICE_FILE_BYTES).toString('utf8');
  } catch (e) {
    throw new PriceFileError(`cannot read price file ${path}: ${errorMessage(e)}`);
  }
  return parsePriceFile(text, path);
}
