// `llm-otel sql` on PostgreSQL: the user's statement as a cursor in a READ ONLY transaction with a
// statement timeout, sent with the extended protocol (one statement only: `COMMIT; DELETE …`
// cannot leave the read-only transaction), fetched in batches up to the row limit.

import type pg from 'pg';
import { QueryError, type UserQueryResult } from '../types.js';
import { extended, pgErrorText, storeError } from './connect.js';
import type { PostgresReader } from './reader.js';

/** How long a statement of the user's may run unless told otherwise. */
export const USER_QUERY_TIMEOUT_MS = 30_000;

const READ_ONLY = 'sql: only queries that read are allowed (the transaction is read-only; nothing was changed)';

/** The statement without leading comments and trailing semicolons. */
function statement(sql: string): string {
  let s = sql.trim();
  for (;;) {
    if (s.startsWith('--')) s = s.slice(s.indexOf('\n') < 0 ? s.length : s.indexOf('\n') + 1).trimStart();
    else if (s.startsWith('/*') && s.includes('*/')) s = s.slice(s.indexOf('*/') + 2).trimStart();
    else break;
  }
  return s.replace(/[;\s]+$/, '');
}

export async function userQuery(
  r: PostgresReader,
  sql: string,
  { limit, timeoutMs = USER_QUERY_TIMEOUT_MS }: { limit?: number; timeoutMs?: number },
): Promise<UserQueryResult> {
  const text = statement(sql);
  // A cursor holds a query only; anything else is refused before it reaches the server.
  if (!/^(select|with|values|table)\b|^\(/i.test(text)) throw new QueryError(READ_ONLY);
  let client: pg.PoolClient;
  try {
    client = await r.pool.connect();
  } catch (e) {
    throw storeError(r.name, e);
  }
  let broken = false;
  try {
    await client.query('BEGIN READ ONLY');
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
    await client.query(extended(`DECLARE llm_otel_sql NO SCROLL CURSOR FOR ${text}`));
    let columns: string[] = [];
    const rows: unknown[][] = [];
    for (;;) {
      const want = limit ? Math.min(500, limit - rows.length) : 500;
      const res = await client.query({ text: `FETCH ${want} FROM llm_otel_sql`, rowMode: 'array' });
      columns = res.fields.map((f) => f.name);
      rows.push(...(res.rows as unknown[][]));
      if (res.rows.length < want || (limit && rows.length >= limit)) break;
    }
    await client.query('ROLLBACK');
    return { columns, rows };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    const code = (e as { code?: string }).code;
    if (code === '25006' || (code === '0A000' && /data-modifying/i.test(String((e as Error).message)))) throw new QueryError(READ_ONLY);
    if (code === '57014') throw new QueryError(`sql: the query ran longer than the statement timeout (${timeoutMs} ms) and was cancelled`);
    if (code && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('08') && !code.startsWith('57P'))
      throw new QueryError(`sql: ${pgErrorText(e)}`);
    broken = true;
    throw storeError(r.name, e);
  } finally {
    client.release(broken);
  }
}
