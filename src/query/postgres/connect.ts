// Connecting to a fleet call log in PostgreSQL (docs/fleet.md, "Reading a fleet call log"): a small
// pool with connect and statement timeouts, an 'error' listener on the pool and on every client
// (an error event nobody listens to — the server restarting under an idle connection — would end
// the process), sessions in UTC, and values decoded the way the SQLite store gives them.

import pg from 'pg';
import { canonicalJson } from '../rows.js';
import { StoreError } from '../types.js';

export { isPostgresUrl, redactUrl } from './url.js';

/** Milliseconds: how long to wait for a connection, and for a statement of llm-otel's own. */
export const CONNECT_TIMEOUT_MS = 5000;
export const STATEMENT_TIMEOUT_MS = 60_000;

// Type OIDs (pg_type).
const BOOL = 16;
const BYTEA = 17;
const INT8 = 20;
const INT2 = 21;
const INT4 = 23;
const OID = 26;
const JSON_OID = 114;
const FLOAT4 = 700;
const FLOAT8 = 701;
const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;
const NUMERIC = 1700;
const JSONB = 3802;

function number(text: string): number | string {
  const n = Number(text);
  // A 64-bit value beyond 2^53 stays exact as text rather than silently rounded.
  return Number.isSafeInteger(n) || !/^-?\d+$/.test(text) ? n : text;
}

/**
 * `2026-11-20 10:00:00.1+00` → `2026-11-20T10:00:00.100Z`: the text of a timestamptz in a UTC
 * session, as Date#toISOString() writes it (what the SQLite log stores). Microseconds beyond the
 * millisecond are cut, as in the SQLite log; years beyond 9999 or BC are kept as PostgreSQL's text.
 */
export function isoFromPg(text: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([+-]\d{2})(?::?(\d{2}))?(?::\d{2})?)?$/.exec(text);
  if (!m) return text;
  const ms = (m[7] ?? '').padEnd(3, '0').slice(0, 3);
  const base = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${ms}`;
  const off = m[8];
  if (off === undefined || (Number(off) === 0 && Number(m[9] ?? 0) === 0)) return base + 'Z';
  const t = Date.parse(`${base}${off}:${m[9] ?? '00'}`);
  return Number.isNaN(t) ? text : new Date(t).toISOString();
}

function parserFor(oid: number): (text: string) => unknown {
  switch (oid) {
    case INT8:
    case NUMERIC:
      return number;
    case INT2:
    case INT4:
    case OID:
    case FLOAT4:
    case FLOAT8:
      return Number;
    case BOOL:
      return (t) => t === 't';
    case BYTEA:
      return pg.types.getTypeParser(BYTEA) as (t: string) => unknown;
    case JSON_OID:
    case JSONB:
      return canonicalJson;
    case TIMESTAMPTZ:
    case TIMESTAMP:
      return isoFromPg;
    default:
      // Everything else (dates, intervals, arrays, xid8 …) as PostgreSQL writes it.
      return (t) => t;
  }
}

const types = {
  getTypeParser: ((oid: number, format?: string) =>
    format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : parserFor(oid)) as typeof pg.types.getTypeParser,
};

export interface PoolOptions {
  /** Connections at most (the dashboard answers a few requests at once). */
  max?: number;
  /** Every transaction read-only unless it says otherwise (the readers); prune turns it off. */
  readOnly?: boolean;
  applicationName?: string;
}

/** A pool on `url`. Errors of idle or busy clients are swallowed here; the query that hits one fails. */
export function createPool(url: string, { max = 4, readOnly = true, applicationName = 'llm-otel' }: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 10_000,
    allowExitOnIdle: true,
    keepAlive: true,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    // A server that accepts and never answers: the client gives up a little after the server would.
    query_timeout: STATEMENT_TIMEOUT_MS + 5000,
    application_name: applicationName,
    // jit=off: across dozens of day partitions the planner's cost passes the JIT threshold and
    // compiling took seconds on lookups that run in milliseconds (a page of runs' totals: 3.7 s → 0.09 s).
    options: `-c TimeZone=UTC -c DateStyle=ISO -c jit=off${readOnly ? ' -c default_transaction_read_only=on' : ''}`,
    types,
  });
  pool.on('error', () => {
    /* an idle client lost its server: the pool drops it and the next query connects anew */
  });
  pool.on('connect', (client) => {
    client.on('error', () => {
      /* the query in flight rejects with this error; nothing else must see it */
    });
  });
  return pool;
}

/** The one-line reason a connection or query failed: the server's message, or the socket's code. */
export function pgErrorText(e: unknown): string {
  const err = e as { message?: string; code?: string; errors?: unknown[] } | undefined;
  // Connecting to `localhost` tries every address: Node reports an AggregateError without a message.
  const inner = Array.isArray(err?.errors) && err.errors.length ? (err.errors[0] as { message?: string; code?: string }) : undefined;
  const msg = (err?.message || inner?.message || String(e)).replace(/\s+/g, ' ').trim();
  const code = err?.code ?? inner?.code;
  return code && /^E[A-Z]+$/.test(code) && !msg.includes(code) ? `${msg} (${code})` : msg;
}

/**
 * A query sent with the extended protocol (parse, bind, execute), which takes exactly one
 * statement: text holding `…; COMMIT; DELETE …` is refused by the server instead of run.
 */
export function extended(text: string, values: unknown[] = []): pg.QueryConfig {
  // queryMode is in pg 8.15+, not yet in its type declarations.
  return { text, values, queryMode: 'extended' } as pg.QueryConfig;
}

/** Did the server or the connection fail (down, restarting, unreachable), rather than the statement? */
export function isConnectionFailure(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== 'string') return true;
  return code.startsWith('08') || code.startsWith('57P') || code === '53300' || /^E[A-Z]+$/.test(code);
}

/** The error to throw for a failed statement: StoreError when the server failed, else a plain one. */
export function storeError(name: string, e: unknown): Error {
  const message = `PostgreSQL at ${name}: ${pgErrorText(e)}`;
  return isConnectionFailure(e) ? new StoreError(message) : new Error(message);
}
