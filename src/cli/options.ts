// Flags shared by the verbs (docs/cli.md) and their parsers. Parsers throw commander's
// InvalidArgumentError, so a bad value is reported like any other usage error (one line, exit 2).

import { type Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../config/config.js';
import type { CallFilter, RunFilter } from '../query/types.js';

export interface CommonOptions {
  db?: string;
  since?: string;
  until?: string;
  session?: string;
  user?: string;
  agent?: string;
  model?: string;
  status?: string;
  limit?: number;
  json?: boolean;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `15m`, `2h`, `7d`, `90s`, `1w` → milliseconds; null if not a duration. */
export function durationMs(v: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/i.exec(v.trim());
  if (!m) return null;
  const n = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
  return Number.isFinite(n) ? n : null;
}

const TIME_HELP = 'expected a duration such as 15m, 2h, 7d or an ISO date such as 2026-11-01';

function badTime(v: string, why = ''): InvalidArgumentError {
  return new InvalidArgumentError(`${TIME_HELP}${why}; got ${JSON.stringify(v)}`);
}

/** An ISO string, or a usage error when `t` is outside what a Date can hold (±275,760 years). */
function isoOf(t: number, v: string): string {
  if (!Number.isFinite(t) || Math.abs(t) > 8.64e15) throw badTime(v, ' (out of range)');
  return new Date(t).toISOString();
}

/** Date.parse rolls 2026-02-30 over to March 2; a date that does not exist is refused instead. */
function realDate(y: string, mo: string, d: string, h = '0', mi = '0', sec = '0'): boolean {
  const dt = new Date(0);
  dt.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  return dt.getUTCMonth() === Number(mo) - 1 && dt.getUTCDate() === Number(d) && Number(h) <= 23 && Number(mi) <= 59 && Number(sec) <= 59;
}

/** A point in time: a duration ago (`15m`, `7d`) or an ISO date/timestamp. → ISO string (UTC). */
export function parseTime(v: string, now: number = Date.now()): string {
  const d = durationMs(v);
  if (d !== null) return isoOf(now - d, v);
  const s = v.trim();
  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (date) {
    if (!realDate(date[1]!, date[2]!, date[3]!)) throw badTime(v, ' (no such date)');
    return isoOf(Date.parse(s + 'T00:00:00.000Z'), v);
  }
  const stamp = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?/.exec(s);
  if (stamp) {
    if (!realDate(stamp[1]!, stamp[2]!, stamp[3]!, stamp[4], stamp[5], stamp[6])) throw badTime(v, ' (no such date or time)');
    // A timestamp without zone is taken as UTC, like every time the call log stores.
    const iso = s.replace(' ', 'T');
    const t = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/i.test(iso) ? iso : iso + 'Z');
    if (!Number.isNaN(t)) return isoOf(t, v);
  }
  throw badTime(v);
}

export function parseLimit(v: string): number {
  if (!/^\d+$/.test(v.trim())) throw new InvalidArgumentError(`expected a positive whole number; got ${JSON.stringify(v)}`);
  const n = Number(v);
  if (n < 1 || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected a positive whole number; got ${JSON.stringify(v)}`);
  return n;
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

export function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?$/i.exec(v.trim());
  if (!m) throw new InvalidArgumentError(`expected a size such as 500MB or 2GB; got ${JSON.stringify(v)}`);
  // Whole bytes: `0.5` would otherwise become 0 and mean "delete everything".
  const n = Math.floor(Number(m[1]) * SIZE_UNITS[(m[2] ?? 'b').toLowerCase()]!);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a size such as 500MB or 2GB (at least 1 byte, at most 9 PB); got ${JSON.stringify(v)}`);
  return n;
}

export const STATUSES = ['ok', 'error', 'timeout', 'cancelled', 'failed'] as const;

export function parseStatus(v: string): string {
  const s = v.trim().toLowerCase();
  if (!(STATUSES as readonly string[]).includes(s)) {
    throw new InvalidArgumentError(`expected one of ${STATUSES.join(', ')} (failed = anything but ok); got ${JSON.stringify(v)}`);
  }
  return s;
}

/** For flags whose empty value would silently mean "no filter" or "stdout". */
export function nonEmpty(v: string): string {
  if (v.trim() === '') throw new InvalidArgumentError('expected a value');
  return v;
}

/** `--db` default: LLM_OTEL_DB (read through config.ts; in fleet mode its PostgreSQL URL, not the spool), else ./llm-otel.db. */
export function defaultDbPath(): string {
  try {
    const config = loadConfig();
    return config.fleetUrl ?? config.db ?? './llm-otel.db';
  } catch {
    return './llm-otel.db';
  }
}

export function dbOption(cmd: Command): Command {
  return cmd.addOption(
    new Option('--db <file|url>', 'call log: a SQLite file or a postgres:// URL (default: $LLM_OTEL_DB or ./llm-otel.db)').argParser(
      nonEmpty,
    ),
  );
}

export interface CommonSpec {
  filters?: boolean;
  limit?: number | false;
  json?: boolean;
}

/** Adds --db and, as asked, the filter flags, --limit (with its default) and --json. */
export function addCommon(cmd: Command, spec: CommonSpec = {}): Command {
  dbOption(cmd);
  if (spec.filters !== false) {
    cmd
      .addOption(new Option('--since <when>', 'from this time: 15m, 2h, 7d or an ISO date').argParser((v: string) => parseTime(v)))
      .addOption(new Option('--until <when>', 'before this time: 15m (ago), 2h, 7d or an ISO date').argParser((v: string) => parseTime(v)))
      .addOption(new Option('--session <id>', 'only this session').argParser(nonEmpty))
      .addOption(new Option('--user <id>', 'only this user').argParser(nonEmpty))
      .addOption(new Option('--agent <name>', 'only this agent').argParser(nonEmpty))
      .addOption(new Option('--model <name>', 'only this requested model (* wildcards allowed)').argParser(nonEmpty))
      .addOption(new Option('--status <status>', `only this status: ${STATUSES.join('|')}`).argParser(parseStatus));
  }
  if (spec.limit !== false && spec.limit !== undefined) {
    cmd.addOption(new Option('--limit <n>', `at most n rows (default ${spec.limit})`).argParser(parseLimit));
  } else if (spec.limit === undefined) {
    cmd.addOption(new Option('--limit <n>', 'at most n rows').argParser(parseLimit));
  }
  if (spec.json !== false) cmd.option('--json', 'machine-readable JSON output (shapes: docs/cli.md)');
  return cmd;
}

/** The filter flags as the read layer's call filter. */
export function callFilter(o: CommonOptions): CallFilter {
  return { since: o.since, until: o.until, session: o.session, user: o.user, agent: o.agent, model: o.model, status: o.status };
}

/** The filter flags on runs (`runs --kind/--name` narrow further). */
export function runFilter(o: CommonOptions & { kind?: string; name?: string }): RunFilter {
  return { since: o.since, until: o.until, session: o.session, user: o.user, agent: o.agent, status: o.status, kind: o.kind, name: o.name };
}
