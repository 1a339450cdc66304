// A read-only SQLite reader: `readonly` at open and `query_only` on the connection, so no statement
// run through it (the user's own `sql` included) can change the file.

import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { migrate } from '../../../exporter/schema.js';
import { openReadOnly } from '../../../exporter/store.js';
import { SqliteReader } from './reader.js';

/**
 * Opens an existing call log. An empty (0-byte) file — a log created a moment ago — reads as an
 * empty log (in memory) without being touched.
 */
export function openSqliteReader(path: string): SqliteReader {
  let size = -1;
  try {
    size = statSync(path).size;
  } catch {
    /* openReadOnly reports a missing file */
  }
  if (size === 0) {
    const mem = new Database(':memory:');
    migrate(mem);
    mem.pragma('query_only = ON');
    return new SqliteReader(mem, path);
  }
  const db = openReadOnly(path);
  db.pragma('query_only = ON');
  return new SqliteReader(db, path);
}
