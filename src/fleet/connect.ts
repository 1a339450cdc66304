// Connections to the fleet database, on llm-otel's background thread only (the app's thread never
// loads the driver). `pg` (node-postgres) is the driver: the reference for Node, pure JavaScript
// (nothing native to abort a thread in), well kept. Every client gets connect, statement and query
// timeouts, and an 'error' listener: without one, a server restart (or a dropped network) emits
// 'error' on an idle client and kills the thread.

import type { Client, ClientConfig } from 'pg';
import type { SqlClient } from './schema.js';

export interface ConnectOptions {
  url: string;
  /** Give up connecting after this long (ms). */
  connectTimeoutMs: number;
  /** Server-side statement_timeout, and the client's own wait for any answer (ms). */
  statementTimeoutMs: number;
  /** Told once when the connection breaks after it was made (the client is then unusable). */
  onBroken(error: Error): void;
}

/** A connected client and how to end it whatever state it is in. */
export interface FleetConnection {
  client: Client & SqlClient;
  /** Ends the connection at once (destroys the socket: never waits on a server that does not answer). */
  destroy(): void;
}

let driver: Promise<typeof import('pg')> | null = null;

/** The driver, loaded on first use. */
export function loadDriver(): Promise<typeof import('pg')> {
  driver ??= import('pg').then((m) => ((m as unknown as { default?: typeof import('pg') }).default ?? m) as typeof import('pg'));
  return driver;
}

export async function connect(o: ConnectOptions): Promise<FleetConnection> {
  const pg = await loadDriver();
  const config: ClientConfig = {
    connectionString: o.url,
    connectionTimeoutMillis: o.connectTimeoutMs,
    statement_timeout: o.statementTimeoutMs,
    // The client's own bound: a server that accepted the connection but never answers.
    query_timeout: o.statementTimeoutMs + 1000,
    lock_timeout: Math.max(1000, Math.floor(o.statementTimeoutMs / 2)),
    idle_in_transaction_session_timeout: o.statementTimeoutMs * 2,
    application_name: 'llm-otel shipper',
    keepAlive: true,
  };
  const client = new pg.Client(config) as Client & SqlClient;
  let broken = false;
  const destroy = (): void => {
    try {
      (client as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream?.destroy?.();
    } catch {
      /* already gone */
    }
    client.end().catch(() => undefined);
  };
  client.on('error', (e: Error) => {
    if (broken) return;
    broken = true;
    o.onBroken(e);
  });
  try {
    await client.connect();
  } catch (e) {
    broken = true;
    destroy();
    throw e;
  }
  // Times are read and written in UTC whatever the server's default.
  await client.query("SET TIME ZONE 'UTC'");
  return { client, destroy };
}

/** The URL with its password hidden, for warnings. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    u.search = '';
    return u.toString();
  } catch {
    return 'the fleet database';
  }
}

/** SQLSTATE of a server error ('' for socket errors and timeouts). */
export function sqlState(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : '';
}

/** 23514 with this message: a row for a day that has no partition (yet, or pruned meanwhile). */
export function isMissingPartition(e: unknown): boolean {
  return sqlState(e) === '23514' && /no partition of relation/i.test(String((e as Error).message));
}

/**
 * PostgreSQL refused a row for what it holds (a value out of range, a bad time, invalid JSON):
 * data exceptions (22) and integrity violations (23). Anything else — a connection lost, a
 * timeout, a deadlock, a missing table — is the database's trouble: the batch is retried whole.
 */
export function isRowError(e: unknown): boolean {
  const code = sqlState(e);
  return (code.startsWith('22') || code.startsWith('23')) && !isMissingPartition(e);
}
