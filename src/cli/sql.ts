// `llm-otel sql "<SELECT …>"`: your own query on a read-only connection. Anything that is not a
// read (INSERT, DROP, PRAGMA assignments, ATTACH, VACUUM INTO …) is refused before it runs, and the
// connection is opened read-only with query_only on, so nothing can change the file. On PostgreSQL
// the statement runs in a READ ONLY transaction with a statement timeout (--timeout).

import { type Command, InvalidArgumentError, Option } from 'commander';
import { QueryError, type UserQueryResult } from '../query/types.js';
import { dbPath, openRead } from './call-log.js';
import { usage } from './errors.js';
import { addCommon, type CommonOptions, durationMs } from './options.js';
import { table, write, writeJson } from './output.js';

export function registerSql(program: Command): void {
  const cmd = program
    .command('sql')
    .description('run a read-only SQL query (tables: llm_calls, llm_messages, llm_runs, llm_usage_hourly, model_prices)')
    .argument('<query>', 'one SELECT (or WITH … SELECT) statement')
    .addOption(
      new Option('--timeout <duration>', 'PostgreSQL: cancel the query after this long (default 30s)').argParser((v: string) => {
        const d = durationMs(v);
        if (d === null || d < 1 || d > 86_400_000)
          throw new InvalidArgumentError(`expected a duration such as 30s or 5m; got ${JSON.stringify(v)}`);
        return d;
      }),
    );
  addCommon(cmd, { filters: false, limit: undefined });
  cmd.action(async (query: string, o: CommonOptions & { timeout?: number }) => {
    if (query.trim() === '') throw usage('sql: give a query, e.g. llm-otel sql "SELECT count(*) FROM llm_calls"');
    const db = await openRead(dbPath(o));
    try {
      let result: UserQueryResult;
      try {
        result = await db.userQuery(query, { limit: o.limit, timeoutMs: o.timeout });
      } catch (e) {
        throw e instanceof QueryError ? usage(e.message) : e;
      }
      const { columns, rows } = result;
      const plain = (v: unknown): unknown =>
        typeof v === 'bigint'
          ? Number.isSafeInteger(Number(v))
            ? Number(v)
            : v.toString()
          : Buffer.isBuffer(v)
            ? `<blob ${v.length} bytes>`
            : v;
      if (o.json) {
        writeJson({ columns, rows: rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, plain(r[i])]))) });
        return;
      }
      if (rows.length === 0) {
        write(`(no rows)  columns: ${columns.join(', ')}`);
        return;
      }
      write(
        table(
          columns,
          rows.map((r) =>
            r.map((v) => {
              const p = plain(v);
              return p === null ? 'NULL' : String(p);
            }),
          ),
          columns.map((_, i) =>
            rows.every((r) => r[i] === null || typeof r[i] === 'number' || typeof r[i] === 'bigint') ? 'right' : 'left',
          ),
          { multiline: true },
        ),
      );
      write(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
    } finally {
      await db.close();
    }
  });
}
