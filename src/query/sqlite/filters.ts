// Filters → SQL conditions (SQLite dialect). Values always travel as parameters; only column names
// chosen here are spliced into the SQL.

import type { CallFilter, RunFilter } from '../types.js';

export interface Where {
  sql: string;
  params: unknown[];
}

function statusFilter(status: string | undefined, a: string, where: string[], params: unknown[]): void {
  if (!status) return;
  if (status === 'failed') where.push(`${a}status <> 'ok'`);
  else {
    where.push(`${a}status = ?`);
    params.push(status);
  }
}

/** Escapes LIKE's wildcards so the text matches as typed. */
function likeText(s: string): string {
  return `%${s.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
}

/** Conditions on llm_calls (alias `c` unless told otherwise). */
export function callWhere(o: CallFilter, alias = 'c'): Where {
  const where: string[] = [];
  const params: unknown[] = [];
  const a = alias ? `${alias}.` : '';
  const eq = (col: string, v: string | undefined): void => {
    if (v === undefined || v === '') return;
    where.push(`${a}${col} = ?`);
    params.push(v);
  };
  if (o.since) {
    where.push(`${a}started_at >= ?`);
    params.push(o.since);
  }
  if (o.until) {
    where.push(`${a}started_at < ?`);
    params.push(o.until);
  }
  eq('session_id', o.session);
  eq('user_id', o.user);
  eq('agent_name', o.agent);
  if (o.model) {
    where.push(o.model.includes('*') ? `${a}request_model GLOB ?` : `${a}request_model = ?`);
    params.push(o.model);
  }
  eq('provider', o.provider);
  eq('trace_id', o.trace);
  statusFilter(o.status, a, where, params);
  if (o.errorText) {
    where.push(`(${a}error_message LIKE ? ESCAPE '\\' OR ${a}error_type LIKE ? ESCAPE '\\')`);
    params.push(likeText(o.errorText), likeText(o.errorText));
  }
  return { sql: where.length ? where.join(' AND ') : '1', params };
}

/** Conditions on llm_runs (no alias). `agent` also matches the agent run itself by its name. */
export function runWhere(o: RunFilter): Where {
  const where: string[] = [];
  const params: unknown[] = [];
  const eq = (col: string, v: string | undefined): void => {
    if (v === undefined || v === '') return;
    where.push(`${col} = ?`);
    params.push(v);
  };
  if (o.since) {
    where.push('started_at >= ?');
    params.push(o.since);
  }
  if (o.until) {
    where.push('started_at < ?');
    params.push(o.until);
  }
  eq('session_id', o.session);
  eq('user_id', o.user);
  if (o.agent) {
    where.push("(agent_name = ? OR (kind = 'agent' AND name = ?))");
    params.push(o.agent, o.agent);
  }
  eq('kind', o.kind);
  eq('name', o.name);
  statusFilter(o.status, '', where, params);
  return { sql: where.length ? where.join(' AND ') : '1', params };
}

/**
 * Conditions on the hourly ledger. Its rows are whole hours: a bound inside an hour includes that
 * hour. Session, status, trace and error text are not kept there: the caller refuses them.
 */
export function rollupWhere(o: CallFilter): Where {
  const where: string[] = [];
  const params: unknown[] = [];
  if (o.since) {
    where.push('hour >= ?');
    params.push(o.since.slice(0, 13) + ':00:00.000Z');
  }
  if (o.until) {
    where.push('hour < ?');
    params.push(o.until);
  }
  if (o.user) {
    where.push('user_id = ?');
    params.push(o.user);
  }
  if (o.agent) {
    where.push('agent_name = ?');
    params.push(o.agent);
  }
  if (o.model) {
    where.push(o.model.includes('*') ? 'model GLOB ?' : 'model = ?');
    params.push(o.model);
  }
  if (o.provider) {
    where.push('provider = ?');
    params.push(o.provider);
  }
  return { sql: where.length ? where.join(' AND ') : '1', params };
}
