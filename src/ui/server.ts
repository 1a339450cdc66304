// `llm-otel ui`: a read-only dashboard over the call log on node:http. A local page that shows
// prompts is a target, so every request must pass, in order: GET/HEAD only; a Host header naming
// the address we listen on (DNS rebinding); the session token (from `?token=` once, then an
// HttpOnly SameSite=Strict cookie). Responses carry a strict CSP (scripts and styles from this
// server only, nothing inline), no CORS headers, and never a stack trace. docs/dashboard.md.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../core/warn.js';
import type { CallLogReader } from '../query/types.js';
import { QueryError, StoreError } from '../query/types.js';
import { API } from './api.js';
import { type Assets, loadAssets } from './assets.js';
import { prepareExport } from './export.js';
import { errorPage, PAGES, shell } from './pages.js';
import { HttpError, parseWindow } from './params.js';

export interface DashboardOptions {
  reader: CallLogReader;
  /** Folder of the built assets (dist/ui). */
  assetsDir: string;
  host?: string;
  port?: number;
  /** Fixed token (tests); default: 32 random bytes. */
  token?: string;
  /** Where internal errors are reported (one line each). */
  log?: (line: string) => void;
}

export interface Dashboard {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const COOKIE = 'llm_otel_ui';

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), interest-cohort=()',
};

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieToken(req: IncomingMessage): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === COOKIE) return part.slice(i + 1).trim();
  }
  return null;
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(body)), ...extra });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  // BigInt never reaches here from SQLite (safe integers), but a stray one must not throw.
  const body = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? Number(v) : v));
  send(res, status, 'application/json; charset=utf-8', body, { 'Cache-Control': 'no-store' });
}

function sendError(res: ServerResponse, status: number, message: string, api: boolean, extra: Record<string, string> = {}): void {
  if (api) {
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      ...extra,
    });
    res.end(res.req.method === 'HEAD' ? undefined : JSON.stringify({ error: message }));
  } else send(res, status, 'text/html; charset=utf-8', errorPage(status, message), { 'Cache-Control': 'no-store', ...extra });
}

/** A path as the user typed it (percent-decoded where possible), for messages. */
function readable(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const assets: Assets = loadAssets(o.assetsDir);
  const token = o.token ?? randomBytes(32).toString('base64url');
  const host = o.host ?? '127.0.0.1';
  const log = o.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const wildcard = host === '0.0.0.0' || host === '::';
  let port = 0;

  /** The Host header must name us: a page on another name that resolves here (DNS rebinding) is refused. */
  const hostAllowed = (value: string | undefined): boolean => {
    if (!value) return false;
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(value.trim().toLowerCase());
    if (!m) return false;
    if (m[2] !== undefined && Number(m[2]) !== port) return false;
    if (wildcard) return true; // listening everywhere: any name may reach us; the token still guards
    const name = m[1]!;
    return isLoopback(name) ? isLoopback(host) || name === host : name === host.toLowerCase() || `[${host}]` === name;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const isApi = path.startsWith('/api/');
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'only GET and HEAD', isApi, { Allow: 'GET, HEAD' });
    if (!hostAllowed(req.headers.host)) return sendError(res, 403, 'this dashboard answers only on the address it printed', isApi);

    // The token: first from the printed URL (then set as a cookie and dropped from the address bar).
    const fromQuery = url.searchParams.get('token');
    if (fromQuery !== null && !isApi) {
      if (!sameToken(fromQuery, token)) return sendError(res, 401, 'wrong token: open the URL that `llm-otel ui` printed', false);
      url.searchParams.delete('token');
      const rest = url.searchParams.toString();
      res.writeHead(303, {
        ...SECURITY_HEADERS,
        'Set-Cookie': `${COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict`,
        Location: path + (rest ? `?${rest}` : ''),
        'Cache-Control': 'no-store',
      });
      res.end();
      return;
    }
    const cookie = cookieToken(req);
    if (cookie === null || !sameToken(cookie, token))
      return sendError(res, 401, 'not signed in: open the URL that `llm-otel ui` printed (it carries the token)', isApi);

    if (path.startsWith('/assets/')) {
      const a = assets.get(path.slice('/assets/'.length));
      if (!a) return sendError(res, 404, 'no such file', false);
      return send(res, 200, a.type, a.body, { 'Cache-Control': 'no-cache', ETag: a.etag });
    }
    if (isApi) {
      const [name, ...restParts] = path.slice('/api/'.length).split('/');
      const rest = restParts.length ? restParts.join('/') : undefined;
      if (name === 'export.csv' || name === 'export.jsonl') {
        if (rest !== undefined) return sendError(res, 404, `no such API: ${path}`, true);
        const exp = await prepareExport(o.reader, name === 'export.csv' ? 'csv' : 'jsonl', url.searchParams);
        res.writeHead(200, { ...SECURITY_HEADERS, ...exp.headers, 'Cache-Control': 'no-store' });
        if (req.method === 'HEAD') {
          res.end();
          return;
        }
        await exp.send(res);
        res.end();
        return;
      }
      const route = name ? API[name] : undefined;
      if (!route || (route.arg === 'none' && rest !== undefined)) return sendError(res, 404, `no such API: ${path}`, true);
      let arg: string | undefined;
      if (route.arg === 'required') {
        if (rest === undefined || rest === '') return sendError(res, 400, `${name}: give an id, as in /api/${name}/<id>`, true);
        try {
          arg = decodeURIComponent(rest);
        } catch {
          return sendError(res, 400, 'malformed id (bad percent-encoding)', true);
        }
      }
      return sendJson(res, 200, await route.handler(o.reader, url.searchParams, arg));
    }
    // Pages: one shell; the script renders the view the path names. The path and its query are
    // checked here, so a bad link gets its status and a clear page, not a blank one.
    const page = PAGES.find((p) => p.pattern.test(path));
    if (!page) return sendError(res, 404, `no page at ${readable(path)}`, false);
    const id = page.pattern.exec(path)?.[1];
    if (id !== undefined) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(id);
      } catch {
        return sendError(res, 400, 'malformed id (bad percent-encoding)', false);
      }
      if (page.idCheck && !page.idCheck.test(decoded)) return sendError(res, 400, page.idHelp ?? 'malformed id', false);
    }
    if (page.window) parseWindow(url.searchParams);
    return send(res, 200, 'text/html; charset=utf-8', shell(assets), { 'Cache-Control': 'no-store' });
  };

  const server: Server = createServer((req, res) => {
    const isApi = (req.url ?? '').startsWith('/api/');
    handle(req, res).catch((e: unknown) => {
      if (e instanceof HttpError) return sendError(res, e.status, e.message, isApi);
      if (e instanceof QueryError) return sendError(res, 400, e.message, isApi);
      // Busy or locked for longer than the busy timeout: say so, it is not our bug.
      const code = String((e as { code?: unknown })?.code ?? '');
      log(`llm-otel ui: ${req.method} ${(req.url ?? '').replace(/token=[^&]*/, 'token=…')} failed: ${errorMessage(e)}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (code.startsWith('SQLITE_BUSY')) return sendError(res, 503, 'the call log is locked by another process; try again', isApi);
      if (e instanceof StoreError) return sendError(res, 503, `${e.message}; try again`, isApi);
      sendError(res, 500, 'internal error (see the terminal running llm-otel ui)', isApi);
    });
  });
  // Slow or idle clients cannot hold sockets forever.
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : wildcard ? '127.0.0.1' : host;
  return {
    url: `http://${shown}:${port}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
