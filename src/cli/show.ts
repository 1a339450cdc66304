// `llm-otel show <span_id|id>`: one call in full — every column, its messages, the price row used.
// A run's span id shows the run with its totals.

import type { Command } from 'commander';
import type { CallRef } from '../query/types.js';
import { dbPath, openRead } from './call-log.js';
import { notFound, usage } from './errors.js';
import { addCommon, type CommonOptions } from './options.js';
import { fmtCost, fmtInt, fmtMs, fmtTime, parseJsonColumns, table, write, writeJson } from './output.js';

export function parseCallRef(v: string): CallRef {
  const s = v.trim();
  if (/^\d+$/.test(s) && Number.isSafeInteger(Number(s)) && Number(s) > 0) return { id: Number(s) };
  if (/^[0-9a-f]{16}$/i.test(s)) return { spanId: s.toLowerCase() };
  throw usage(`expected a call id (a number) or a span id (16 hex digits); got ${JSON.stringify(v)}`);
}

const SHOWN_FIRST = [
  'id',
  'span_id',
  'trace_id',
  'parent_span_id',
  'parent_call_id',
  'started_at',
  'ended_at',
  'duration_ms',
  'ttft_ms',
  'status',
];

export function registerShow(program: Command): void {
  const cmd = program
    .command('show')
    .description('one call in full: columns, messages, price')
    .argument('<span_id|id>', 'call id (number) or span id (16 hex digits)');
  addCommon(cmd, { filters: false, limit: false });
  cmd.action(async (ref: string, o: CommonOptions) => {
    const r = parseCallRef(ref);
    const db = await openRead(dbPath(o));
    try {
      const call = await db.getCall(r);
      if (!call) {
        if ('spanId' in r) {
          const found = await db.getRun(r.spanId);
          if (found) {
            const run = { ...found, totals: (await db.runTotals([r.spanId])).get(r.spanId) ?? null };
            if (o.json) {
              writeJson({ run: parseJsonColumns(run) });
              return;
            }
            const flat = { ...found, ...Object.fromEntries(Object.entries(run.totals ?? {}).map(([k, v]) => [`total_${k}`, v])) };
            write(
              table(
                ['field', 'value'],
                Object.entries(flat)
                  .filter(([, v]) => v !== null)
                  .map(([k, v]) => [k, String(v)]),
                [],
                { multiline: true },
              ),
            );
            return;
          }
        }
        throw notFound(`no call ${'id' in r ? `with id ${r.id}` : `with span id ${r.spanId}`} in ${db.name}`);
      }
      const messages = await db.callMessages(call.id as number);
      const price = (await db.callPrice(String(call.span_id))) ?? null;
      if (o.json) {
        writeJson({ call: parseJsonColumns(call), messages: messages.map(parseJsonColumns), price });
        return;
      }
      const keys = [...SHOWN_FIRST, ...Object.keys(call).filter((k) => !SHOWN_FIRST.includes(k))];
      const fmt = (k: string, v: unknown): string => {
        if (v === null || v === undefined) return '';
        if (k === 'cost') return fmtCost(v as number, call.currency as string | null);
        if (k === 'duration_ms' || k === 'ttft_ms') return fmtMs(v as number);
        if (k.endsWith('_at')) return fmtTime(v as string) + ' UTC';
        if (k.endsWith('_tokens')) return fmtInt(v as number);
        return String(v);
      };
      write(
        table(
          ['field', 'value'],
          keys.filter((k) => call[k] !== null && call[k] !== undefined).map((k) => [k, fmt(k, call[k])]),
          [],
          { multiline: true },
        ),
      );
      if (price) {
        write(
          `\nprice (${price.source}): ${price.provider ?? '*'} ${price.model_pattern} — input ${price.input_per_mtok ?? '-'}, cached ${price.cached_input_per_mtok ?? '-'}, output ${price.output_per_mtok ?? '-'} ${price.currency}/1M tokens${price.valid_from ? `, from ${price.valid_from}` : ''}${price.valid_to ? `, until ${price.valid_to}` : ''}`,
        );
      }
      if (messages.length) {
        write('\nmessages');
        for (const m of messages) {
          const head = `[${m.direction} ${m.position}] ${m.role ?? '?'}${m.name ? ` (${m.name})` : ''}${m.tool_call_id ? ` → ${m.tool_call_id}` : ''}${m.token_estimate !== null ? `  ~${m.token_estimate} tok` : ''}${m.truncated ? `  truncated from ${m.content_chars} chars` : ''}`;
          write(head);
          if (m.reasoning) write('  reasoning: ' + String(m.reasoning).replace(/\n/g, '\n    '));
          if (m.content) write('  ' + String(m.content).replace(/\n/g, '\n  '));
          if (m.tool_calls) write('  tool calls: ' + String(m.tool_calls));
        }
      }
    } finally {
      await db.close();
    }
  });
}
