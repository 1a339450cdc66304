// `llm-otel tail`: the last few calls, then every new one as it is written (polls the store's
// tail cursor: the last id in SQLite, a transaction horizon in PostgreSQL).
// Stops on Ctrl-C. With --json, one JSON object per line.

import { setTimeout as sleep } from 'node:timers/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type CallSummary, StoreError, type TailPage } from '../query/types.js';
import { dbPath, openRead } from './call-log.js';
import { CALL_ALIGN, CALL_HEAD, callCells } from './calls.js';
import { addCommon, type CommonOptions, callFilter, durationMs } from './options.js';
import { stdoutFailure } from './output.js';
import { jsonSafe, visible } from './visible.js';

interface TailOptions extends CommonOptions {
  interval: number;
}

function parseInterval(v: string): number {
  const d = durationMs(v) ?? (/^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : null);
  if (d === null || d < 50 || d > 3_600_000)
    throw new InvalidArgumentError(`expected an interval such as 1s or 500ms (50ms..1h); got ${JSON.stringify(v)}`);
  return d;
}

/** Fixed column widths, so lines printed at different times still line up. */
const WIDTHS = [7, 23, 22, 14, 9, 8, 8, 10, 14, 12, 12];

function line(c: CallSummary): string {
  return callCells(c)
    .map((raw, i) => {
      const w = WIDTHS[i]!;
      const cell = visible(raw);
      const s = cell.length > w ? cell.slice(0, w - 1) + '…' : cell;
      return CALL_ALIGN[i] === 'right' ? s.padStart(w) : s.padEnd(w);
    })
    .join('  ')
    .trimEnd();
}

function header(): string {
  return CALL_HEAD.map((h, i) => (CALL_ALIGN[i] === 'right' ? h.padStart(WIDTHS[i]!) : h.padEnd(WIDTHS[i]!)))
    .join('  ')
    .trimEnd();
}

export function registerTail(program: Command): void {
  const cmd = program
    .command('tail')
    .description('follow new calls as they are written (Ctrl-C to stop)')
    .addOption(new Option('--interval <duration>', 'how often to look for new calls').argParser(parseInterval).default(1000, '1s'));
  addCommon(cmd, { limit: 10 });
  cmd.action(async (o: TailOptions) => {
    const db = await openRead(dbPath(o));
    let stop = false;
    const onSignal = (): void => {
      stop = true;
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const f = callFilter(o);
      const start = await db.tailStart(f, o.limit ?? 10);
      let cursor = start.cursor;
      const emit = (calls: CallSummary[]): void => {
        if (calls.length === 0) return;
        process.stdout.write(calls.map((c) => (o.json ? jsonSafe(JSON.stringify(c)) : line(c))).join('\n') + '\n');
      };
      let away = false;
      if (!o.json) process.stdout.write(header() + '\n');
      emit(start.calls);
      while (!stop) {
        await sleep(o.interval, undefined, { ref: true });
        // stdout failed (a full disk behind `> file`): stop; main() reports it.
        if (stop || stdoutFailure()) break;
        // Every call that became visible since the last poll, once — in a shared store also those
        // committed after a call with a higher id (the store's cursor sees to it).
        let next: TailPage;
        try {
          next = await db.tailNext(f, cursor);
        } catch (e) {
          // A database server restarting (or failing over) pauses the tail, it does not end it:
          // one line when it goes, one when it is back; the cursor still holds where it was.
          if (!(e instanceof StoreError)) throw e;
          if (!away) process.stderr.write(`llm-otel: tail: ${visible(e.message)}; retrying every ${o.interval} ms\n`);
          away = true;
          continue;
        }
        if (away) process.stderr.write(`llm-otel: tail: ${visible(db.name)} is back\n`);
        away = false;
        emit(next.calls);
        cursor = next.cursor;
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await db.close();
    }
  });
}
