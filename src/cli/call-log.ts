// Opening the call log for the CLI. Read verbs get a read-only reader (../query) and never create,
// migrate an empty file, or otherwise change anything; every failure becomes a one-line CliError.
// A `postgres://` URL opens the fleet call log in PostgreSQL (docs/fleet.md) the same way.

import { existsSync, type Stats, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { type Db, openForWriting } from '../../exporter/open.js';
import { checkDatabase, ForeignDatabaseError, SchemaVersionError } from '../../exporter/schema.js';
import { errorMessage } from '../core/warn.js';
import { isPostgresUrl, openReader } from '../query/open.js';
import { redactUrl } from '../query/postgres/url.js';
import type { CallLogReader } from '../query/types.js';
import { CliError, notFound, usage } from './errors.js';
import { defaultDbPath } from './options.js';

export type { Db };

export function dbPath(opts: { db?: string }): string {
  return opts.db ?? defaultDbPath();
}

/** Is this --db a PostgreSQL URL? */
export function isFleet(target: string): boolean {
  return isPostgresUrl(target);
}

/** The call log's name for messages: a path, or a URL without its password. */
export function displayName(target: string): string {
  return isPostgresUrl(target) ? redactUrl(target) : target;
}

function describePgOpenError(e: unknown): CliError {
  if (e instanceof CliError) return e;
  // By name: the PostgreSQL store's modules are loaded only for a URL.
  const name = (e as Error)?.name;
  if (name === 'PgSchemaVersionError') return usage((e as Error).message);
  if (name === 'NoFleetLogError') return notFound((e as Error).message);
  return usage(errorMessage(e) ?? String(e));
}

function describeOpenError(path: string, e: unknown): CliError {
  if (e instanceof CliError) return e;
  if (e instanceof SchemaVersionError || e instanceof ForeignDatabaseError) return usage(e.message);
  const code = String((e as { code?: unknown })?.code ?? '');
  const msg = errorMessage(e) ?? String(e);
  if (code === 'ENOENT' || /no call log at/.test(msg))
    return notFound(`no call log at ${path} (run your app with llm-otel first, or pass --db / set LLM_OTEL_DB)`);
  if (code === 'SQLITE_NOTADB' || /file is not a database/i.test(msg))
    return usage(`${path} is not an llm-otel call log (not a SQLite database)`);
  if (code.startsWith('SQLITE_CORRUPT')) return usage(`${path} is damaged (${msg})`);
  if (code.startsWith('SQLITE_CANTOPEN') || code === 'EACCES' || code === 'EPERM') return usage(`cannot open ${path} (${msg})`);
  if (code.startsWith('SQLITE_BUSY')) return usage(`${path} is locked by another process; try again`);
  return usage(`cannot open ${path}: ${msg}`);
}

/** A directory, FIFO, device or socket is refused: SQLite cannot use one, and a FIFO would block. */
function refuseSpecial(path: string, st: Stats): void {
  if (st.isDirectory()) throw usage(`${path} is a directory, not a call log`);
  if (!st.isFile()) {
    const kind = st.isFIFO()
      ? 'a FIFO'
      : st.isCharacterDevice() || st.isBlockDevice()
        ? 'a device'
        : st.isSocket()
          ? 'a socket'
          : 'not a regular file';
    throw usage(`${path} is ${kind}, not a call log`);
  }
}

function checkFile(path: string): { size: number } {
  if (!existsSync(path)) throw notFound(`no call log at ${path} (run your app with llm-otel first, or pass --db / set LLM_OTEL_DB)`);
  const st = statSync(path);
  refuseSpecial(path, st);
  return { size: st.size };
}

/**
 * A read-only reader of an existing call log. An empty (0-byte) file — a log created a moment ago —
 * reads as an empty log without being touched.
 */
export async function openRead(path: string): Promise<CallLogReader> {
  if (isPostgresUrl(path)) {
    try {
      return await openReader(path);
    } catch (e) {
      throw describePgOpenError(e);
    }
  }
  checkFile(path);
  try {
    return await openReader(path);
  } catch (e) {
    throw describeOpenError(path, e);
  }
}

/** For the verbs that write (prune, prices): a PostgreSQL URL's own path, or this refusal. */
export function refuseFleet(path: string, verb: string, why: string): void {
  if (isPostgresUrl(path)) throw usage(`${verb}: ${why}`);
}

/**
 * A read-write connection (prune, prices). `create`: make a new call log if there is none;
 * otherwise a missing file is an error. Foreign and newer files are refused untouched.
 */
export function openWrite(path: string, { create = false }: { create?: boolean } = {}): Db {
  if (!create) checkFile(path);
  else if (existsSync(path)) refuseSpecial(path, statSync(path));
  // Identify an existing file read-only first, so a foreign or newer one is never opened for writing.
  if (existsSync(path) && statSync(path).size > 0) {
    let ro: Db | undefined;
    try {
      ro = new Database(path, { readonly: true, fileMustExist: true });
      checkDatabase(ro, path);
    } catch (e) {
      throw describeOpenError(path, e);
    } finally {
      try {
        ro?.close();
      } catch {
        /* closed */
      }
    }
  }
  try {
    return openForWriting(path, { busyTimeoutMs: 5000 });
  } catch (e) {
    throw describeOpenError(path, e);
  }
}
