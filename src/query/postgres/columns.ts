// Select lists over the PostgreSQL tables that give what the SQLite store gives.

import { CALL_SUMMARY_COLUMNS } from '../types.js';

/** Columns that are boolean here and 0/1 in SQLite: read as 0/1, as every store gives them. */
const FLAGS = new Set(['stream', 'truncated']);

/** A select list of `cols` (prefixed with `alias.`), flags as integers. */
export function selectList(cols: readonly string[], alias = ''): string {
  const a = alias ? alias + '.' : '';
  return cols.map((c) => (FLAGS.has(c) ? `${a}${c}::int AS ${c}` : `${a}${c}`)).join(', ');
}

export const SUMMARY = selectList(CALL_SUMMARY_COLUMNS, 'c');
