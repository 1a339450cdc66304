// `llm-otel sql "<SELECT …>"`: your own query on a read-only connection. Anything that is not a
// read (INSERT, DROP, PRAGMA assignments, ATTACH, VACUUM INTO …) is refused before it runs, and the
// connection is opened read-only with query_only on, so nothing can change the file.

import type { Statement } from 'better-sqlite3';
import type { Command } from 'commander';
import { errorMessage } from '../core/warn.js';
import { dbPath, openRead } from './call-log.js';
import { usage } from './errors.js';
import { addCommon, type CommonOptions } from './options.js';
import { table, write, writeJson } from './output.js';

export function registerSql(program: Command): void {
  const cmd = program
    .command('sql')
    .description('run a read-only SQL query (tables: llm_calls, llm_messages, llm_runs, llm_usage_hourly, model_prices)')
    .argument('<query>', 'one SELECT (or WITH … SELECT) statement');
  addCommon(cmd, { filters: false, limit: undefined });
  cmd.action((query: string, o: CommonOptions) => {
    if (query.trim() === '') throw usage('sql: give a query, e.g. llm-otel sql "SELECT count(*) FROM llm_calls"');
    const db = openRead(dbPath(o));
    try {
      db.pragma('query_only = ON');
      let stmt: Statement;
      try {
        stmt = db.prepare(query);
      } catch (e) {
        throw usage(`sql: ${errorMessage(e)}`);
      }
      if (!stmt.reader || /^\s*(attach|detach|vacuum|reindex|analyze)\b/i.test(query) || /^\s*pragma\b[^;]*=/i.test(query)) {
        throw usage('sql: only queries that read are allowed (the connection is read-only; nothing was changed)');
      }
      let rows: unknown[][];
      let columns: string[];
      try {
        columns = stmt.columns().map((c) => c.name);
        stmt.raw(true);
        rows = [];
        for (const r of stmt.iterate() as IterableIterator<unknown[]>) {
          rows.push(r);
          if (o.limit && rows.length >= o.limit) break;
        }
      } catch (e) {
        throw usage(`sql: ${errorMessage(e)}`);
      }
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
      db.close();
    }
  });
}
