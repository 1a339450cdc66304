// Export of the current filter as CSV or JSON Lines, streamed: rows come from the read layer in
// batches and go out in ~64 KB writes, each waiting for the socket to drain, so the server's memory
// stays flat at any size and a client that goes away stops the query.

import type { ServerResponse } from 'node:http';
import { stringify } from 'csv-stringify/sync';
import { parseJsonColumns } from '../query/rows.js';
import type { CallLogReader, ExportTable } from '../query/types.js';
import { oneOf, parseCallFilter, parseLimit } from './params.js';

const CHUNK = 65536;

function write(res: ServerResponse, s: string): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  if (res.write(s)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = (): void => done(true);
    const onClose = (): void => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/** Checks the request (throws HttpError before anything is sent), then streams the rows. */
export async function prepareExport(
  reader: CallLogReader,
  format: 'csv' | 'jsonl',
  q: URLSearchParams,
): Promise<{ headers: Record<string, string>; send: (res: ServerResponse) => Promise<void> }> {
  const f = parseCallFilter(q);
  const table = oneOf(q, 'table', ['calls', 'messages', 'runs'] as const, 'calls') as ExportTable;
  const limit = q.has('limit') ? parseLimit(q, 1000, 10_000_000) : undefined;
  // Time order: a window streams from the index at once (id order would sort it all first).
  const stream = await reader.exportRows(table, f, { limit, order: 'time' });
  const headers = {
    'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    'Content-Disposition': `attachment; filename="llm-otel-${table}.${format}"`,
  };
  return {
    headers,
    send: async (res) => {
      const cols = stream.columns;
      const opts = { columns: cols, cast: { boolean: (b: boolean) => (b ? '1' : '0') } };
      let buf = format === 'csv' ? stringify([], { ...opts, header: true }) : '';
      for await (const batch of stream.batches) {
        if (format === 'csv') buf += stringify(batch, opts);
        else {
          for (const raw of batch) {
            const row: Record<string, unknown> = {};
            for (let i = 0; i < cols.length; i++) row[cols[i]!] = raw[i];
            buf += JSON.stringify(parseJsonColumns(row)) + '\n';
          }
        }
        if (buf.length >= CHUNK) {
          const ok = await write(res, buf);
          buf = '';
          if (!ok) return; // the client went away: stop reading rows
        }
      }
      if (buf) await write(res, buf);
    },
  };
}
