// Opening the call-log file for writing: create it private (0600), identify it before changing
// anything (a newer or foreign DB must stay byte-for-byte untouched), then WAL + migrations.

import { closeSync, constants as fsc, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { checkDatabase, migrate } from './schema.js';

export type Db = Database.Database;

export interface OpenOptions {
  /** How long a write waits for another process's lock before giving up (ms). */
  busyTimeoutMs: number;
  /** Extra `PRAGMA name = value` applied after the standard ones (e.g. cache_size, max_page_count). */
  pragmas?: Readonly<Record<string, string | number>>;
}

/** Creates the file with mode 0600 unless it exists; never touches an existing file. */
function createPrivate(path: string): void {
  try {
    closeSync(openSync(path, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY, 0o600));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code === 'ENOENT') {
      // Parent directory missing: create it (private too), then the file.
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      closeSync(openSync(path, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY, 0o600));
      return;
    }
    throw e;
  }
}

const PRAGMA_NAME = /^[a-z_]+$/;

/** Opens (creating if needed) and migrates a call log. Throws; callers classify the error. */
export function openForWriting(path: string, opts: OpenOptions): Db {
  const memory = path === ':memory:';
  if (!memory) createPrivate(path);
  const db = new Database(path, { fileMustExist: !memory });
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs))}`);
    // Identify first: switching to WAL rewrites the header, which a refused file must not see.
    checkDatabase(db, path);
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL: a commit survives a process crash; only power loss can drop the last commits.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    for (const [name, value] of Object.entries(opts.pragmas ?? {})) {
      if (!PRAGMA_NAME.test(name)) throw new TypeError(`invalid pragma name ${JSON.stringify(name)}`);
      db.pragma(`${name} = ${typeof value === 'number' ? value : `'${String(value).replace(/'/g, "''")}'`}`);
    }
    migrate(db, path);
    return db;
  } catch (e) {
    try { db.close(); } catch { /* already broken */ }
    throw e;
  }
}
