// The dashboard in the browser: picks the view the path names, renders it from the JSON API, and
// re-renders it when the call log changes (polls /api/version). Filters live in the URL, so a
// link or a reload shows the same view.
//
// Safety: every value from the call log is untrusted (prompts, model output, ids chosen by the
// app). It reaches the page only as text nodes (dom.js h()) or as encoded URL parts; nothing here
// ever assigns innerHTML, and the server's CSP allows no inline script or style.

import { ApiError, api, h, params } from './dom.js';
import { renderView } from './views.js';

const main = () => document.getElementById('main');
let rendering = 0;

export async function render({ quiet = false } = {}) {
  const ticket = ++rendering;
  const target = main();
  for (const a of document.querySelectorAll('[data-nav]')) {
    const href = a.getAttribute('data-nav');
    a.classList.toggle('active', href === '/' ? location.pathname === '/' : location.pathname.startsWith(href));
  }
  const fresh = h('div', { class: 'view' });
  try {
    await renderView(location.pathname, params(), fresh);
  } catch (e) {
    fresh.replaceChildren(
      h(
        'section',
        { class: 'error-page' },
        h('h1', null, e instanceof ApiError ? String(e.status) : 'Error'),
        h('p', null, e?.message ?? String(e)),
        h('p', null, h('a', { href: '/' }, 'Back to the overview')),
      ),
    );
    document.body.dataset.status = e instanceof ApiError ? String(e.status) : 'error';
  }
  if (ticket !== rendering) return; // a newer render started meanwhile
  const y = window.scrollY;
  target.replaceChildren(fresh);
  fresh.afterInsert?.();
  if (quiet) window.scrollTo(0, y);
  document.body.dataset.rendered = String(ticket);
}

// Live refresh: PRAGMA data_version changes when anyone commits to the call log.
let version = null;
const POLL_MS = 2000;

async function poll() {
  if (!document.hidden) {
    try {
      const v = (await api('version')).data_version;
      const live = document.getElementById('live');
      if (live) {
        live.textContent = 'live';
        live.className = 'live on';
      }
      // Not while the user is typing in a filter: that round is skipped, the next one refreshes.
      const typing = document.activeElement?.closest?.('#main form');
      if (version !== null && v !== version && !typing) await render({ quiet: true });
      if (!typing) version = v;
    } catch {
      const live = document.getElementById('live');
      if (live) {
        live.textContent = 'offline';
        live.className = 'live off';
      }
    }
  }
  setTimeout(poll, POLL_MS);
}

window.addEventListener('popstate', () => render());
window.addEventListener('llm-otel:navigate', () => render());
render().then(poll);
