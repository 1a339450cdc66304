// The HTML the server writes: one shell for every view (the script renders the view its path
// names) and a plain error page. Neither carries inline script or style (the CSP forbids both),
// and the only text put into them from a request is HTML-escaped.

import type { Assets } from './assets.js';
import { SPAN_ID, TRACE_ID } from './params.js';

export interface PageRoute {
  pattern: RegExp;
  /** The captured id must match this. */
  idCheck?: RegExp;
  idHelp?: string;
  /** The page reads ?window / ?since / ?until (checked before the shell is sent). */
  window?: boolean;
}

export const PAGES: PageRoute[] = [
  { pattern: /^\/$/, window: true },
  { pattern: /^\/calls$/, window: true },
  { pattern: /^\/calls\/([^/]+)$/, idCheck: SPAN_ID, idHelp: 'a call is named by its span id: 16 lowercase hex digits' },
  { pattern: /^\/traces\/([^/]+)$/, idCheck: TRACE_ID, idHelp: 'a trace is named by its trace id: 32 lowercase hex digits' },
  { pattern: /^\/cost$/, window: true },
  { pattern: /^\/latency$/, window: true },
  { pattern: /^\/errors$/, window: true },
  { pattern: /^\/sessions$/, window: true },
  { pattern: /^\/sessions\/([^/]+)$/, idCheck: /^[\s\S]{1,256}$/, idHelp: 'a session id has 1 to 256 characters' },
  { pattern: /^\/runs$/, window: true },
  { pattern: /^\/users$/, window: true },
];

const NAV: Array<[string, string]> = [
  ['/', 'Overview'],
  ['/calls', 'Calls'],
  ['/cost', 'Cost'],
  ['/latency', 'Latency'],
  ['/errors', 'Errors'],
  ['/sessions', 'Sessions'],
  ['/runs', 'Runs'],
  ['/users', 'Users'],
];

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c as '&' | '<' | '>' | '"' | "'"],
  );
}

function head(title: string, assets: Assets | null): string {
  const v = (name: string): string => (assets?.get(name) ? `?v=${assets.get(name)!.etag.slice(1, 9)}` : '');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/uPlot.min.css${v('uPlot.min.css')}">
<link rel="stylesheet" href="/assets/style.css${v('style.css')}">
`;
}

function nav(): string {
  return `<header class="top"><a class="brand" href="/">llm-otel</a><nav>${NAV.map(
    ([href, label]) => `<a href="${href}" data-nav="${href}">${label}</a>`,
  ).join('')}</nav><span id="live" class="live" title="refreshes when new calls arrive"></span></header>`;
}

export function shell(assets: Assets): string {
  const v = (name: string): string => `?v=${assets.get(name)?.etag.slice(1, 9) ?? '0'}`;
  return `${head('llm-otel', assets)}<script src="/assets/uPlot.iife.min.js${v('uPlot.iife.min.js')}" defer></script>
<script type="module" src="/assets/app.js${v('app.js')}"></script>
</head>
<body>
${nav()}
<main id="main"><p class="muted">Loading…</p></main>
</body>
</html>
`;
}

export function errorPage(status: number, message: string): string {
  return `${head(`llm-otel: ${status}`, null)}</head>
<body>
${nav()}
<main id="main"><section class="error-page"><h1>${status}</h1><p>${escapeHtml(message)}</p><p><a href="/">Back to the overview</a></p></section></main>
</body>
</html>
`;
}
