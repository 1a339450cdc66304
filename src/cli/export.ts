// `llm-otel export --format csv|jsonl`: streams calls (or messages, or runs) to stdout or --out.
// Rows come from a SQLite iterator and go out with back-pressure, so memory stays flat at any size.

import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { CALL_COLUMNS, MESSAGE_COLUMNS, RUN_COLUMNS } from '../../exporter/rows.js';
import { dbPath, openRead } from './db.js';
import { usage } from './errors.js';
import { addCommon, callFilters, runFilters, type CommonOptions } from './options.js';
import { parseJsonColumns } from './output.js';

interface ExportOptions extends CommonOptions { format: 'csv' | 'jsonl'; out?: string; table: 'calls' | 'messages' | 'runs' }

function choice<T extends string>(values: readonly T[]) {
  return (v: string): T => {
    if (!(values as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${values.join(', ')}; got ${JSON.stringify(v)}`);
    return v as T;
  };
}

function query(o: ExportOptions): { sql: string; params: unknown[]; columns: string[] } {
  const f = callFilters(o);
  const limit = o.limit ? ` LIMIT ${o.limit}` : '';
  if (o.table === 'calls') {
    const columns = ['id', ...CALL_COLUMNS];
    return { sql: `SELECT ${columns.map((c) => 'c.' + c).join(', ')} FROM llm_calls c WHERE ${f.sql} ORDER BY c.id${limit}`, params: f.params, columns };
  }
  if (o.table === 'messages') {
    const columns = ['call_id', 'span_id', 'trace_id', ...MESSAGE_COLUMNS];
    return {
      sql: `SELECT m.call_id, c.span_id, c.trace_id, ${MESSAGE_COLUMNS.map((x) => 'm.' + x).join(', ')}
            FROM llm_calls c JOIN llm_messages m ON m.call_id = c.id WHERE ${f.sql} ORDER BY m.call_id, m.direction = 'output', m.position${limit}`,
      params: f.params, columns,
    };
  }
  if (o.model) throw usage('export --table runs: --model does not apply to runs');
  const r = runFilters(o);
  const columns = ['id', ...RUN_COLUMNS];
  return { sql: `SELECT ${columns.join(', ')} FROM llm_runs WHERE ${r.sql} ORDER BY id${limit}`, params: r.params, columns };
}

async function writeChunk(dest: Writable, chunk: string): Promise<void> {
  if (!dest.write(chunk)) await once(dest, 'drain');
}

export async function runExport(o: ExportOptions): Promise<number> {
  const db = openRead(dbPath(o));
  let dest: Writable = process.stdout;
  let file: ReturnType<typeof createWriteStream> | null = null;
  let rows = 0;
  try {
    const q = query(o);
    const stmt = db.prepare(q.sql);
    if (o.out) {
      // Exports hold prompts and responses: private like the call log itself.
      file = createWriteStream(o.out, { mode: 0o600 });
      await Promise.race([once(file, 'open'), once(file, 'error').then(([e]) => { throw usage(`cannot write ${o.out}: ${(e as Error).message}`); })]);
      dest = file;
    }
    if (o.format === 'jsonl') {
      let buf = '';
      for (const row of stmt.iterate(...q.params) as IterableIterator<Record<string, unknown>>) {
        buf += JSON.stringify(parseJsonColumns(row)) + '\n';
        rows++;
        if (buf.length >= 65536) { await writeChunk(dest, buf); buf = ''; }
      }
      if (buf) await writeChunk(dest, buf);
    } else {
      const csv = stringify({ header: true, columns: q.columns, cast: { boolean: (b) => (b ? '1' : '0') } });
      csv.pipe(dest, { end: false });
      for (const row of stmt.raw().iterate(...q.params) as IterableIterator<unknown[]>) {
        rows++;
        if (!csv.write(row)) await once(csv, 'drain');
      }
      const ended = once(csv, 'end');
      csv.end();
      await ended;
    }
    if (file) {
      const closed = once(file, 'close');
      file.end();
      await closed;
      file = null;
    }
    return rows;
  } finally {
    if (file) file.destroy();
    db.close();
  }
}

export function registerExport(program: Command): void {
  const cmd = program.command('export').description('stream calls (or messages/runs) as CSV or JSON Lines')
    .addOption(new Option('--format <format>', 'csv|jsonl').argParser(choice(['csv', 'jsonl'] as const)).makeOptionMandatory())
    .addOption(new Option('--table <table>', 'calls|messages|runs').argParser(choice(['calls', 'messages', 'runs'] as const)).default('calls'))
    .option('--out <file>', 'write to this file (mode 0600) instead of stdout');
  addCommon(cmd, { limit: undefined, json: false });
  cmd.action(async (o: ExportOptions) => {
    const rows = await runExport(o);
    if (o.out) process.stderr.write(`exported ${rows} row${rows === 1 ? '' : 's'} to ${o.out}\n`);
  });
}
