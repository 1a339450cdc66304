// Filters → SQL conditions (PostgreSQL dialect): the same meanings as ../sqlite/filters.ts. Values
// always travel as numbered parameters; only column names chosen here are spliced into the SQL.

import type { CallFilter, RunFilter } from '../types.js';

/** Collects parameter values and hands out their placeholders ($1, $2, …). */
export class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

/**
 * A SQLite GLOB pattern (`*`, `?`, `[…]`, case-sensitive) as an anchored POSIX regular expression,
 * so `--model 'gpt-4o*'` matches the same models in both stores.
 */
export function globToRegex(glob: string): string {
  let out = '^';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else if (ch === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) {
        out += '\\[';
        continue;
      }
      let cls = glob.slice(i + 1, end);
      if (cls.startsWith('^')) cls = '^' + cls.slice(1).replace(/\\/g, '\\\\');
      else cls = cls.replace(/\\/g, '\\\\');
      out += `[${cls}]`;
      i = end;
    } else out += /[.^$+(){}|\\]/.test(ch) ? '\\' + ch : ch;
  }
  return out + '$';
}

function likeText(s: string): string {
  return `%${s.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
}

function statusFilter(status: string | undefined, a: string, where: string[], p: Params): void {
  if (!status) return;
  if (status === 'failed') where.push(`${a}status <> 'ok'`);
  else where.push(`${a}status = ${p.add(status)}`);
}

/** Conditions on llm_calls (alias `c` unless told otherwise). */
export function callWhere(o: CallFilter, p: Params, alias = 'c'): string {
  const where: string[] = [];
  const a = alias ? `${alias}.` : '';
  const eq = (col: string, v: string | undefined): void => {
    if (v === undefined || v === '') return;
    where.push(`${a}${col} = ${p.add(v)}`);
  };
  if (o.since) where.push(`${a}started_at >= ${p.add(o.since)}::timestamptz`);
  if (o.until) where.push(`${a}started_at < ${p.add(o.until)}::timestamptz`);
  eq('session_id', o.session);
  eq('user_id', o.user);
  eq('agent_name', o.agent);
  if (o.model) {
    where.push(o.model.includes('*') ? `${a}request_model ~ ${p.add(globToRegex(o.model))}` : `${a}request_model = ${p.add(o.model)}`);
  }
  eq('provider', o.provider);
  eq('trace_id', o.trace);
  statusFilter(o.status, a, where, p);
  if (o.errorText) {
    // ILIKE: case-insensitive beyond ASCII too (SQLite's LIKE folds ASCII only).
    const t = p.add(likeText(o.errorText));
    where.push(`(${a}error_message ILIKE ${t} ESCAPE '\\' OR ${a}error_type ILIKE ${t} ESCAPE '\\')`);
  }
  return where.length ? where.join(' AND ') : 'true';
}

/** Conditions on llm_runs (no alias). `agent` also matches the agent run itself by its name. */
export function runWhere(o: RunFilter, p: Params): string {
  const where: string[] = [];
  const eq = (col: string, v: string | undefined): void => {
    if (v === undefined || v === '') return;
    where.push(`${col} = ${p.add(v)}`);
  };
  if (o.since) where.push(`started_at >= ${p.add(o.since)}::timestamptz`);
  if (o.until) where.push(`started_at < ${p.add(o.until)}::timestamptz`);
  eq('session_id', o.session);
  eq('user_id', o.user);
  if (o.agent) {
    const v = p.add(o.agent);
    where.push(`(agent_name = ${v} OR (kind = 'agent' AND name = ${v}))`);
  }
  eq('kind', o.kind);
  eq('name', o.name);
  statusFilter(o.status, '', where, p);
  return where.length ? where.join(' AND ') : 'true';
}

/** Conditions on the hourly ledger: whole hours, a bound inside an hour includes that hour. */
export function rollupWhere(o: CallFilter, p: Params): string {
  const where: string[] = [];
  if (o.since) where.push(`hour >= date_trunc('hour', ${p.add(o.since)}::timestamptz)`);
  if (o.until) where.push(`hour < ${p.add(o.until)}::timestamptz`);
  if (o.user) where.push(`user_id = ${p.add(o.user)}`);
  if (o.agent) where.push(`agent_name = ${p.add(o.agent)}`);
  if (o.model) where.push(o.model.includes('*') ? `model ~ ${p.add(globToRegex(o.model))}` : `model = ${p.add(o.model)}`);
  if (o.provider) where.push(`provider = ${p.add(o.provider)}`);
  return where.length ? where.join(' AND ') : 'true';
}
