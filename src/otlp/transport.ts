// OTLP/HTTP transport: one POST per export, retried as the OTLP spec and the OTel JS exporter do
// (429/502/503/504 and connection errors; Retry-After honoured; backoff 1 s × 1.5 up to 5 s, at
// most 5 retries, all within the export timeout). Our own rather than the SDK's for two reasons:
// the SDK's retry timers keep the process alive, so a finished app with an export retrying against
// a dead collector waited out the whole export timeout before it could exit; and it reports each
// attempt only through `diag`, so failures were silent (otlp-health.ts turns them into one warning).

import * as http from 'node:http';
import * as https from 'node:https';
import { gzip } from 'node:zlib';
import type { ExportResponse, IExporterTransport } from '@opentelemetry/otlp-exporter-base';
import { OTLPExporterError } from '@opentelemetry/otlp-exporter-base';
import { VERSION } from '../core/version.js';
import { describeHttpStatus, describeNetworkError, type ExportHealth, type Signal } from './health.js';

const MAX_RETRIES = 5;
const INITIAL_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 5000;
const BACKOFF_MULTIPLIER = 1.5;
const JITTER = 0.2;
/** The SDK's bound on a response body read: a collector's answer is tiny. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
const RETRYABLE_NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
]);

export interface HttpTransportOptions {
  url: string;
  headers: Record<string, string>;
  compression: 'gzip' | 'none';
  agent: http.Agent;
  health: ExportHealth;
  /** What is sent (for the hint of an HTTP 404). Default traces. */
  signal?: Signal;
}

/** Sleeps without keeping the process alive (a retry must never hold a finished app). */
function sleepUnref(ms: number): Promise<void> {
  return new Promise((resolve) => {
    setTimeout(resolve, Math.max(0, ms)).unref();
  });
}

/** Retry-After as milliseconds (seconds or an HTTP date), undefined when absent or unreadable. */
function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const seconds = Number.parseInt(v, 10);
  if (Number.isInteger(seconds)) return Math.max(0, seconds * 1000);
  const at = new Date(v).getTime();
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

interface Attempt {
  response: ExportResponse;
  problem?: string;
  /** The problem's class (`HTTP 503`, `ECONNREFUSED`…): one warning per collector and kind. */
  kind?: string;
}

/** A network error's class: its code where it has one. */
function networkKind(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'network';
}

export class HttpTransport implements IExporterTransport {
  private readonly url: URL | null;
  private readonly request: typeof http.request;

  constructor(private readonly opts: HttpTransportOptions) {
    let url: URL | null = null;
    try {
      url = new URL(opts.url);
    } catch {
      /* reported on each send */
    }
    this.url = url;
    this.request = url?.protocol === 'https:' ? https.request : http.request;
  }

  async send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    const deadline = Date.now() + timeoutMillis;
    let body: Buffer;
    try {
      body = this.opts.compression === 'gzip' ? await gzipAsync(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    } catch (e) {
      return { status: 'failure', error: e as Error };
    }
    let backoff = INITIAL_BACKOFF_MS;
    for (let retries = 0; ; retries++) {
      const { response, problem, kind } = await this.attempt(body, Math.max(1, deadline - Date.now()));
      if (problem === undefined) this.opts.health.succeeded();
      else this.opts.health.failed(problem, kind);
      if (response.status !== 'retryable' || retries >= MAX_RETRIES) return response;
      const jittered = Math.min(backoff * (1 + (Math.random() * 2 - 1) * JITTER), MAX_BACKOFF_MS);
      backoff *= BACKOFF_MULTIPLIER;
      const wait = response.retryInMillis ?? jittered;
      if (wait > deadline - Date.now()) return response;
      await sleepUnref(wait);
    }
  }

  shutdown(): void {
    /* the agent's sockets are unref'd; nothing to close */
  }

  private attempt(body: Buffer, timeoutMs: number): Promise<Attempt> {
    const url = this.url;
    if (!url)
      return Promise.resolve({
        response: { status: 'failure', error: new Error(`invalid OTLP URL`) },
        problem: 'the endpoint is not a valid URL',
        kind: 'invalid URL',
      });
    return new Promise<Attempt>((resolve) => {
      let settled = false;
      const done = (a: Attempt): void => {
        if (!settled) {
          settled = true;
          resolve(a);
        }
      };
      const headers: Record<string, string | number> = {
        ...this.opts.headers,
        'Content-Length': body.length,
        'User-Agent': `llm-otel/${VERSION}`,
      };
      if (this.opts.compression === 'gzip') headers['Content-Encoding'] = 'gzip';
      let req: http.ClientRequest;
      try {
        req = this.request(url, { method: 'POST', headers, agent: this.opts.agent }, (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              done({
                response: { status: 'failure', error: new Error('OTLP response body too large') },
                problem: 'the endpoint answered with an oversized body',
                kind: 'oversized',
              });
              res.destroy();
              return;
            }
            chunks.push(chunk);
          });
          const status = res.statusCode ?? 0;
          const finish = (): void => {
            if (status >= 200 && status <= 299) done({ response: { status: 'success', data: Buffer.concat(chunks) } });
            else if (RETRYABLE_STATUS.has(status)) {
              done({
                response: { status: 'retryable', retryInMillis: retryAfterMs(res.headers['retry-after']) },
                problem: describeHttpStatus(status, res.statusMessage, this.opts.signal),
                kind: `HTTP ${status}`,
              });
            } else {
              const error = new OTLPExporterError(res.statusMessage, status, Buffer.concat(chunks).toString());
              done({
                response: { status: 'failure', error },
                problem: describeHttpStatus(status, res.statusMessage, this.opts.signal),
                kind: `HTTP ${status}`,
              });
            }
          };
          res.on('end', finish);
          // The body broke off: the status line is what the endpoint meant.
          res.on('error', finish);
        });
      } catch (e) {
        done({ response: { status: 'failure', error: e as Error }, problem: describeNetworkError(e, url.href), kind: networkKind(e) });
        return;
      }
      // Inactivity, as the SDK's transport times out (the socket is unref'd: this holds nothing).
      req.setTimeout(timeoutMs, () => {
        done({
          response: { status: 'retryable', error: new Error('Request timed out') },
          problem: `no answer within ${Math.round(timeoutMs / 100) / 10} s`,
          kind: 'timeout',
        });
        req.destroy();
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        const retryable = typeof e.code === 'string' && RETRYABLE_NETWORK.has(e.code);
        done({
          response: retryable ? { status: 'retryable', error: e } : { status: 'failure', error: e },
          problem: describeNetworkError(e, url.href),
          kind: networkKind(e),
        });
      });
      req.end(body);
    });
  }
}

function gzipAsync(data: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => gzip(data, (e, out) => (e ? reject(e) : resolve(out))));
}
