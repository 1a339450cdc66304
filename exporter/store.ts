// Read side: opening an existing call log for queries (CLI, dashboard). Read-only connections
// cannot damage the file; the schema version is checked so old readers refuse newer files clearly.

import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Db } from './open.js';
import { checkDatabase, migrate, SCHEMA_VERSION } from './schema.js';

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
 * An older llm-otel file is first migrated forward (one short read-write open), then reopened; an
 * empty file reads as an empty call log (in memory, query-only) and is not modified.
 */
export function openReadOnly(path: string, opts: ReadOnlyOptions = {}): Db {
  if (path !== ':memory:' && !existsSync(path)) throw new CallLogMissingError(path);
  const busy = Math.max(0, Math.floor(opts.busyTimeoutMs ?? 2000));
  let db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma(`busy_timeout = ${busy}`);
    // One snapshot for the check's reads (see migrate): a writer may be creating this file now.
    const version = db.transaction(() => checkDatabase(db, path))();
    if (version === 0) {
      // An empty file (created, nothing written yet): answer from an empty in-memory call log
      // rather than writing the schema into a file we were asked only to read.
      db.close();
      db = new Database(':memory:');
      migrate(db, path);
      db.pragma('query_only = 1');
    } else if (version < SCHEMA_VERSION) {
      // Written by an older llm-otel: bring it forward once (the next writer would do the same).
      db.close();
      const rw = new Database(path, { fileMustExist: true });
      try {
        rw.pragma(`busy_timeout = ${busy}`);
        migrate(rw, path);
      } finally {
        rw.close();
      }
      db = new Database(path, { readonly: true, fileMustExist: true });
      db.pragma(`busy_timeout = ${busy}`);
    }
    return db;
  } catch (e) {
    try {
      db.close();
    } catch {
      /* already closed */
    }
    throw e;
  }
}
