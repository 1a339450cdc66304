// Read side: opening an existing call log for queries (CLI, dashboard). Read-only connections
// cannot damage the file; the schema version is checked so old readers refuse newer files clearly.

import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { checkDatabase, migrate, SCHEMA_VERSION } from './schema.js';
import type { Db } from './db.js';

export class CallLogMissingError extends Error {
  readonly code = 'ENOENT';
  constructor(public readonly file: string) {
    super(`no call log at ${file} (run your app with llm-otel first, or pass --db / set LLM_OTEL_DB)`);
    this.name = 'CallLogMissingError';
  }
}

export interface ReadOnlyOptions {
  /** Lock wait (ms, default 2000) — a writer's checkpoint may briefly hold the file. */
  busyTimeoutMs?: number;
}

/**
 * Opens a call log read-only. Throws CallLogMissingError (no such file), SchemaVersionError
 * (written by a newer llm-otel), ForeignDatabaseError (not a call log), or SqliteError (corrupt).
 * An older llm-otel file is first migrated forward (one short read-write open), then reopened.
 */
export function openReadOnly(path: string, opts: ReadOnlyOptions = {}): Db {
  if (path !== ':memory:' && !existsSync(path)) throw new CallLogMissingError(path);
  const busy = Math.max(0, Math.floor(opts.busyTimeoutMs ?? 2000));
  let db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma(`busy_timeout = ${busy}`);
    const version = checkDatabase(db, path);
    if (version < SCHEMA_VERSION) {
      db.close();
      const rw = new Database(path, { fileMustExist: true });
      try {
        rw.pragma(`busy_timeout = ${busy}`);
        if (version > 0) migrate(rw, path); // an empty file (0) stays empty: nothing to upgrade
        else if (checkDatabase(rw, path) === 0) migrate(rw, path);
      } finally {
        rw.close();
      }
      db = new Database(path, { readonly: true, fileMustExist: true });
      db.pragma(`busy_timeout = ${busy}`);
    }
    return db;
  } catch (e) {
    try { db.close(); } catch { /* already closed */ }
    throw e;
  }
}
