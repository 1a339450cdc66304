// Opening a call log for reading: the one place that picks the store (SQLite files today; issue 14
// adds PostgreSQL URLs here) and returns its CallLogReader.

import { openSqliteReader } from './sqlite/open.js';
import type { CallLogReader } from './types.js';

/** A read-only reader over the call log at `target`. Throws the store's own errors; callers word them. */
export function openReader(target: string): CallLogReader {
  return openSqliteReader(target);
}
