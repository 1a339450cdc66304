// Human output: aligned, borderless tables (cli-table3, no colours) and compact number formats.
// Machine output: JSON with stable field names (docs/cli.md, "--json shapes").
// Stored text is untrusted: human output shows control and bidi characters as visible escapes
// (visible.ts); JSON keeps the exact values.

import Table from 'cli-table3';
import { jsonSafe, visible } from './visible.js';

export type Align = 'left' | 'right';

/**
 * An aligned table: header row, then rows; numbers right-aligned where `align` says so. Cells are
 * one line each (a line feed shows as `\n`) unless `multiline`, where a cell may span lines.
 */
export function table(
  head: string[],
  rows: Array<Array<string | number | null | undefined>>,
  align: Align[] = [],
  { multiline = false } = {},
): string {
  // Before layout: cli-table3 would otherwise take an escape sequence for a zero-width colour code.
  const cell = (v: string | number | null | undefined): string =>
    v === null || v === undefined ? '' : visible(String(v), { newlines: multiline });
  const t = new Table({
    head: head.map(cell),
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '  ',
    },
    style: { 'padding-left': 0, 'padding-right': 0, head: [], border: [], compact: true },
    colAligns: head.map((_, i) => align[i] ?? 'left'),
  });
  for (const r of rows) t.push(r.map(cell));
  // cli-table3 pads the last column; trailing blanks are noise in a terminal and in diffs.
  return t
    .toString()
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .join('\n');
}

let stdoutError: NodeJS.ErrnoException | null = null;
let watching = false;

/**
 * Records the first failed write to stdout (a full disk behind `> file`), which would otherwise only
 * be an 'error' event and leave exit 0. A reader leaving a pipe (`| head`) ends the process quietly.
 */
export function watchStdout(): void {
  if (watching) return;
  watching = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    stdoutError ??= e;
  });
}

/** The first stdout write error seen by watchStdout(), if any. */
export function stdoutFailure(): NodeJS.ErrnoException | null {
  return stdoutError;
}

/** Human text to stdout; control and bidi characters other than line feeds and tabs made visible. */
export function write(text: string): void {
  const safe = visible(text, { newlines: true, tabs: true });
  process.stdout.write(safe.endsWith('\n') ? safe : safe + '\n');
}

export function writeJson(value: unknown): void {
  process.stdout.write(jsonSafe(JSON.stringify(value, null, 2)) + '\n');
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function fmtInt(n: number | null | undefined): string {
  return n === null || n === undefined ? '-' : int.format(n);
}

export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

const SYMBOLS: Record<string, string> = { USD: '$', EUR: '€', GBP: '£', CNY: '¥', JPY: '¥' };

/** `$0.000390`, `¥1.2000`; unknown cost → `-` (never 0). */
export function fmtCost(cost: number | null | undefined, currency?: string | null): string {
  if (cost === null || cost === undefined || !Number.isFinite(cost)) return '-';
  const abs = Math.abs(cost);
  // Small costs keep two significant digits: $0.000093, $0.00000018.
  const digits = cost === 0 ? 2 : abs < 0.01 ? Math.min(12, Math.max(6, 1 - Math.floor(Math.log10(abs)))) : abs < 100 ? 4 : 2;
  const num = cost.toFixed(digits);
  const cur = currency ?? 'USD';
  if (cur === 'mixed') return `${num} (mixed)`;
  const sym = SYMBOLS[cur];
  return sym && cur !== 'JPY' ? `${sym}${num}` : `${num} ${cur}`;
}

/** Costs in several currencies: `$0.12 + ¥3.00`. */
export function fmtCosts(byCurrency: Record<string, number>): string {
  const parts = Object.entries(byCurrency).map(([c, v]) => fmtCost(v, c));
  return parts.length === 0 ? '-' : parts.join(' + ');
}

export function fmtPct(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  return `${(x * 100).toFixed(x > 0 && x < 0.1 ? 1 : 0)}%`;
}

/** `2026-11-20 10:00:00.100` (UTC, as stored). */
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  return iso.replace('T', ' ').replace(/Z$/, '');
}

export function fmtTokens(input: number | null | undefined, output: number | null | undefined): string {
  if ((input === null || input === undefined) && (output === null || output === undefined)) return '-';
  return `${fmtInt(input ?? 0)} → ${fmtInt(output ?? 0)}`;
}

/** Shortens to n characters with an ellipsis, on one line. */
export function clip(s: string | null | undefined, n: number): string {
  if (!s) return '';
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? one.slice(0, n - 1) + '…' : one;
}

export { parseJsonColumns } from '../query/rows.js';
