// `llm-otel export --format csv|jsonl`: streams calls (or messages, or runs) to stdout or --out.
// Rows come from a SQLite iterator and go out in 64 KB chunks, each awaited (sink.ts), so memory
// stays flat at any size and a failed write ends the export with an error.

import { type Command, InvalidArgumentError, Option } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { QueryError } from '../query/types.js';
import { dbPath, openRead } from './call-log.js';
import { usage } from './errors.js';
import { addCommon, type CommonOptions, callFilter, nonEmpty, runFilter } from './options.js';
import { parseJsonColumns } from './output.js';
import { fileSink, type Sink, stdoutSink } from './sink.js';
import { jsonSafe, visible } from './visible.js';

interface ExportOptions extends CommonOptions {
  format: 'csv' | 'jsonl';
  out?: string;
  force?: boolean;
  table: 'calls' | 'messages' | 'runs';
}

function choice<T extends string>(values: readonly T[]) {
  return (v: string): T => {
    if (!(values as readonly string[]).includes(v))
      throw new InvalidArgumentError(`expected one of ${values.join(', ')}; got ${JSON.stringify(v)}`);
    return v as T;
  };
}

/** Rows per CSV batch: a few calls of the synchronous stringifier per 64 KB written. */
const CSV_BATCH = 64;
const CHUNK = 65536;

export async function runExport(o: ExportOptions): Promise<number> {
  const path = dbPath(o);
  const db = await openRead(path);
  let sink: Sink | null = null;
  let rows = 0;
  try {
    let q: Awaited<ReturnType<typeof db.exportRows>>;
    try {
      q = await db.exportRows(o.table, { ...callFilter(o), ...runFilter(o) }, { limit: o.limit });
    } catch (e) {
      throw e instanceof QueryError ? usage(e.message) : e;
    }
    sink = o.out ? await fileSink(o.out, { force: !!o.force, dbPath: path }) : stdoutSink();
    let buf = '';
    if (o.format === 'jsonl') {
      const cols = q.columns;
      for await (const batch of q.batches) {
        for (const raw of batch) {
          const row: Record<string, unknown> = {};
          for (let i = 0; i < cols.length; i++) row[cols[i]!] = raw[i];
          buf += JSON.stringify(parseJsonColumns(row)) + '\n';
          rows++;
        }
        if (buf.length >= CHUNK) {
          await sink.put(jsonSafe(buf));
          buf = '';
        }
      }
      buf = jsonSafe(buf);
    } else {
      // CSV has no escapes: on a terminal, stored text is shown with visible ones (not exact data).
      const string = sink.tty ? (v: string): string => visible(v, { newlines: true, tabs: true }) : (v: string): string => v;
      const opts = { columns: q.columns, cast: { boolean: (b: boolean) => (b ? '1' : '0'), string } };
      buf = stringify([], { ...opts, header: true });
      for await (const batch of q.batches) {
        for (let i = 0; i < batch.length; i += CSV_BATCH) buf += stringify(batch.slice(i, i + CSV_BATCH), opts);
        rows += batch.length;
        if (buf.length >= CHUNK) {
          await sink.put(buf);
          buf = '';
        }
      }
    }
    if (buf) await sink.put(buf);
    await sink.commit();
    sink = null;
    return rows;
  } finally {
    await sink?.abort();
    await db.close();
  }
}

export function registerExport(program: Command): void {
  const cmd = program
    .command('export')
    .description('stream calls (or messages/runs) as CSV or JSON Lines')
    .addOption(new Option('--format <format>', 'csv|jsonl').argParser(choice(['csv', 'jsonl'] as const)).makeOptionMandatory())
    .addOption(
      new Option('--table <table>', 'calls|messages|runs').argParser(choice(['calls', 'messages', 'runs'] as const)).default('calls'),
    )
    .addOption(
      new Option('--out <file>', 'write to this file (mode 0600) instead of stdout; written whole or not at all').argParser(nonEmpty),
    )
    .option('--force', 'with --out: replace an existing file');
  addCommon(cmd, { limit: undefined, json: false });
  cmd.action(async (o: ExportOptions) => {
    if (o.force && !o.out) throw usage('--force only applies with --out <file>');
    const rows = await runExport(o);
    if (o.out) process.stderr.write(`exported ${rows} row${rows === 1 ? '' : 's'} to ${visible(o.out)}\n`);
  });
}
