// Opening a call log for reading: the one place that picks the store — a SQLite file, or a
// PostgreSQL database for a `postgres://` / `postgresql://` URL — and returns its CallLogReader.

import { isPostgresUrl } from './postgres/url.js';
import { openSqliteReader } from './sqlite/open.js';
import type { CallLogReader } from './types.js';

export { isPostgresUrl };

/** A read-only reader over the call log at `target`. Throws the store's own errors; callers word them. */
export async function openReader(target: string): Promise<CallLogReader> {
  if (isPostgresUrl(target)) {
    // Loaded only for a URL: reading a SQLite file never loads the PostgreSQL driver.
    const { openPostgresReader } = await import('./postgres/open.js');
    return openPostgresReader(target.trim());
  }
  return openSqliteReader(target);
}
