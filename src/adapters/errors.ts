// Maps what a failed openai call threw to llm-otel's status vocabulary and error attributes.

import type { LlmStatus } from '../core/semconv.js';

export interface ErrorInfo {
  status: Exclude<LlmStatus, 'ok'>;
  errorType: string;
  httpStatus?: number;
  requestId?: string;
  message: string;
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const h = headers as { get?: (n: string) => unknown } & Record<string, unknown>;
  try {
    if (typeof h.get === 'function') {
      const v = h.get(name);
      return typeof v === 'string' ? v : undefined;
    }
    const v = h[name] ?? h[name.toLowerCase()];
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Class name of an error, walking past anonymous subclasses; '_OTHER' when unknown. */
export function errorClassName(err: unknown): string {
  if (err && typeof err === 'object') {
    const name = (err as { constructor?: { name?: string } }).constructor?.name;
    if (name && name !== 'Object') return name;
    const n = (err as { name?: unknown }).name;
    if (typeof n === 'string' && n) return n;
  }
  return '_OTHER';
}

export function classifyError(err: unknown): ErrorInfo {
  const errorType = errorClassName(err);
  const e = (err ?? {}) as Record<string, unknown>;
  let status: ErrorInfo['status'] = 'error';
  if (errorType === 'APIConnectionTimeoutError' || errorType === 'TimeoutError') status = 'timeout';
  else if (errorType === 'APIUserAbortError' || errorType === 'AbortError' || e.name === 'AbortError') status = 'cancelled';
  const httpStatus = typeof e.status === 'number' ? e.status : undefined;
  const requestId =
    (typeof e.requestID === 'string' && e.requestID) ||
    (typeof e.request_id === 'string' && e.request_id) ||
    headerValue(e.headers, 'x-request-id') ||
    undefined;
  let message = '';
  try {
    message = typeof e.message === 'string' ? e.message : String(err);
  } catch {
    message = 'unknown error';
  }
  return { status, errorType, httpStatus, requestId, message };
}
