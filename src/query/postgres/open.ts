// Opening a fleet call log for reading. Reading never creates or migrates anything: a database
// without llm-otel's tables is reported as such, one of a newer llm-otel is refused.

import { PG_SCHEMA_VERSION, PgSchemaVersionError, pgSchemaVersion } from '../../fleet/schema.js';
import { createPool, pgErrorText } from './connect.js';
import { PostgresReader } from './reader.js';
import { redactUrl } from './url.js';

/** The database answers but holds no llm-otel call log (or an older one this version cannot read). */
export class NoFleetLogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoFleetLogError';
  }
}

/** The server cannot be reached or refuses us (down, wrong password, no such database). */
export class PgConnectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PgConnectError';
  }
}

export async function openPostgresReader(url: string, { max = 4 }: { max?: number } = {}): Promise<PostgresReader> {
  const name = redactUrl(url);
  const pool = createPool(url, { max, applicationName: 'llm-otel reader' });
  let version: number;
  try {
    const client = await pool.connect();
    try {
      version = await pgSchemaVersion(client);
    } finally {
      client.release();
    }
  } catch (e) {
    await pool.end().catch(() => {});
    // No such database: "not found", like a call log file that does not exist.
    if ((e as { code?: unknown })?.code === '3D000') throw new NoFleetLogError(`cannot read ${name}: ${pgErrorText(e)}`);
    throw new PgConnectError(`cannot read ${name}: ${pgErrorText(e)}`);
  }
  try {
    if (version === 0)
      throw new NoFleetLogError(
        `no llm-otel tables at ${name} (an app with LLM_OTEL_DB set to this URL creates them; reading creates nothing)`,
      );
    if (version > PG_SCHEMA_VERSION) throw new PgSchemaVersionError(name, version);
    if (version < PG_SCHEMA_VERSION)
      throw new NoFleetLogError(
        `${name} has fleet schema version ${version}, older than this llm-otel's ${PG_SCHEMA_VERSION}: start an app with this llm-otel to migrate it (reading changes nothing)`,
      );
  } catch (e) {
    await pool.end().catch(() => {});
    throw e;
  }
  return new PostgresReader(pool, name);
}
