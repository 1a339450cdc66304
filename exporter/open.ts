// Opening the call-log file for writing: create it private (0600), identify it before changing
// anything (a newer or foreign DB must stay byte-for-byte untouched), then WAL + migrations.

import { closeSync, existsSync, constants as fsc, fstatSync, mkdirSync, openSync, statSync, unlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { checkDatabase, ensureMeta, migrate } from './schema.js';

export type Db = Database.Database;

export interface OpenOptions {
  /** How long a write waits for another process's lock before giving up (ms). */
  busyTimeoutMs: number;
  /** Extra `PRAGMA name = value` applied after the standard ones (e.g. cache_size, max_page_count). */
  pragmas?: Readonly<Record<string, string | number>>;
}

/** Creates the file with mode 0600 unless it exists; never touches an existing file. */
function createPrivate(path: string): void {
  let created: number;
  try {
    created = createExclusive(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT') throw e;
    // The folder is missing: create it (private too), then the file.
    makeFolders(dirname(path));
    created = createExclusive(path);
  }
  removeOrphans(path, created);
}

/** Creates the file (it must not exist); returns its modification time as created. */
function createExclusive(path: string): number {
  const fd = openSync(path, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY | fsc.O_NONBLOCK, 0o600);
  try {
    return fstatSync(fd).mtimeMs;
  } finally {
    closeSync(fd);
  }
}

/**
 * A new file where a call log was deleted or moved away (while in use) may find that log's WAL and
 * shared-memory files still at the path: SQLite would take them for the new file's and fail (or
 * worse). Those are older than the new file; newer ones belong to another process that opened the
 * new file meanwhile, and are left alone.
 */
function removeOrphans(path: string, created: number): void {
  for (const suffix of ['-wal', '-shm', '-journal']) {
    try {
      if (statSync(path + suffix).mtimeMs < created) unlinkSync(path + suffix);
    } catch {
      /* none: the usual case */
    }
  }
}

/**
 * mkdir -p, one level at a time. Node's recursive mkdirSync retries forever where mkdir answers
 * ENOENT although the parent exists (under /proc, for one); here every step happens once.
 */
function makeFolders(dir: string): void {
  const missing: string[] = [];
  let d = resolve(dir);
  for (let depth = 0; depth < 256 && !existsSync(d); depth++) {
    missing.push(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      mkdirSync(missing[i]!, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // another process made it meanwhile: fine
    }
  }
}

const PRAGMA_NAME = /^[a-z_]+$/;

/** Opens (creating if needed) and migrates a call log. Throws; callers classify the error. */
export function openForWriting(path: string, opts: OpenOptions): Db {
  const memory = path === ':memory:';
  if (!memory) {
    createPrivate(path);
    // A FIFO or a device would block SQLite's first read forever (on a thread nobody can stop).
    const st = statSync(path);
    if (!st.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'ENOTREG' });
  }
  const db = new Database(path, { fileMustExist: !memory });
  try {
    // busyTimeoutMs bounds the whole open, not each of its steps that may wait for a lock.
    const deadline = Date.now() + Math.max(0, Math.floor(opts.busyTimeoutMs));
    const waitAtMost = (): void => {
      db.pragma(`busy_timeout = ${Math.max(0, deadline - Date.now())}`);
    };
    waitAtMost();
    // Identify first: switching to WAL rewrites the header, which a refused file must not see.
    checkDatabase(db, path);
    waitAtMost();
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL: a commit survives a process crash; only power loss can drop the last commits.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    for (const [name, value] of Object.entries(opts.pragmas ?? {})) {
      if (!PRAGMA_NAME.test(name)) throw new TypeError(`invalid pragma name ${JSON.stringify(name)}`);
      db.pragma(`${name} = ${typeof value === 'number' ? value : `'${String(value).replace(/'/g, "''")}'`}`);
    }
    waitAtMost();
    migrate(db, path);
    ensureMeta(db);
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs))}`);
    return db;
  } catch (e) {
    try {
      db.close();
    } catch {
      /* already broken */
    }
    throw e;
  }
}
