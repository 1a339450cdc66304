// The views, in order of what users open first: overview, calls, call, trace, cost, latency,
// errors, sessions, session, runs, users. Each reads the URL's parameters, asks the API, and
// builds its DOM with h() (text only). docs/dashboard.md describes each.

import { colour, usageCharts } from './charts.js';
import { api, h, link, setParams } from './dom.js';

// ── formatting ─────────────────────────────────────────────────────────────────────────────────

const int = (n) => (n === null || n === undefined ? '–' : Math.round(Number(n)).toLocaleString('en-US'));
const pct = (x) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(x > 0 && x < 0.01 ? 2 : 1)}%`);

export function ms(v) {
  if (v === null || v === undefined) return '–';
  if (v < 1) return `${v.toFixed(2)} ms`;
  if (v < 1000) return `${Math.round(v)} ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(2)} s`;
  return `${(v / 60_000).toFixed(1)} min`;
}

const SYMBOL = { USD: '$', EUR: '€', GBP: '£', CNY: '¥', JPY: '¥' };

export function money(v, currency) {
  if (v === null || v === undefined) return '–';
  const digits = Math.abs(v) >= 1 ? 2 : Math.abs(v) >= 0.01 ? 4 : 6;
  const sym = SYMBOL[currency ?? 'USD'];
  return sym ? `${sym}${v.toFixed(digits)}` : `${v.toFixed(digits)} ${currency}`;
}

function costs(map) {
  const e = Object.entries(map ?? {});
  return e.length ? e.map(([c, v]) => money(v, c)).join(' + ') : '–';
}

/** Stored times are UTC ISO strings; shown as `YYYY-MM-DD HH:MM:SS` (UTC, as the CLI does). */
const time = (iso) =>
  iso
    ? String(iso)
        .replace('T', ' ')
        .replace(/\.\d+Z$|Z$/, '')
    : '–';

// ── shared pieces ──────────────────────────────────────────────────────────────────────────────

const WINDOWS = ['1h', '24h', '7d', '30d'];

/** The window picker: 1h/24h/7d/30d, or a custom since/until (both kept in the URL). */
function windowPicker(p) {
  const current = p.since || p.until ? 'custom' : (p.window ?? '24h');
  const custom = h(
    'form',
    {
      class: 'custom',
      on: {
        submit: (e) => {
          e.preventDefault();
          const f = new FormData(e.target);
          const since = f.get('since') ? `${f.get('since')}Z` : '';
          const until = f.get('until') ? `${f.get('until')}Z` : '';
          const { window: _w, after: _a, ...rest } = p;
          setParams({ ...rest, since, until });
        },
      },
    },
    h('input', { type: 'datetime-local', name: 'since', value: p.since ? p.since.slice(0, 16) : '', 'aria-label': 'since (UTC)' }),
    '–',
    h('input', { type: 'datetime-local', name: 'until', value: p.until ? p.until.slice(0, 16) : '', 'aria-label': 'until (UTC)' }),
    h('button', { type: 'submit' }, 'UTC'),
  );
  return h(
    'div',
    { class: 'window' },
    WINDOWS.map((w) =>
      h(
        'button',
        {
          type: 'button',
          class: w === current ? 'on' : '',
          'data-window': w,
          on: {
            click: () => {
              const { since: _s, until: _u, after: _a, ...rest } = p;
              setParams({ ...rest, window: w });
            },
          },
        },
        w,
      ),
    ),
    custom,
  );
}

function windowParams(p) {
  return { window: p.window, since: p.since, until: p.until };
}

function title(text, ...extra) {
  document.title = `${text} · llm-otel`;
  return h('div', { class: 'title' }, h('h1', null, text), ...extra);
}

function table(head, rows, { numeric = [], cls = '' } = {}) {
  return h(
    'table',
    { class: `grid ${cls}` },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        head.map((c, i) => h('th', { class: numeric.includes(i) ? 'num' : '' }, c)),
      ),
    ),
    h(
      'tbody',
      null,
      rows.map((r) =>
        h(
          'tr',
          null,
          r.map((c, i) => h('td', { class: numeric.includes(i) ? 'num' : '' }, c)),
        ),
      ),
    ),
  );
}

function empty(text) {
  return h('p', { class: 'muted empty' }, text);
}

function note(text) {
  return h('p', { class: 'note' }, text);
}

function tile(label, value, sub) {
  return h(
    'div',
    { class: 'tile' },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, value),
    sub ? h('div', { class: 'sub' }, sub) : null,
  );
}

function status(s) {
  return h('span', { class: `status ${s === 'ok' ? 'ok' : 'bad'}` }, s);
}

const callHref = (span) => `/calls/${encodeURIComponent(span)}`;
const traceHref = (trace) => `/traces/${encodeURIComponent(trace)}`;
const sessionHref = (id) => `/sessions/${encodeURIComponent(id)}`;

/** A horizontal bar whose length is share × 100% (set through CSSOM, allowed by the CSP). */
function bar(share, i = 0) {
  return h('span', { class: 'bar', style: { width: `${Math.max(0.5, Math.min(100, share * 100)).toFixed(2)}%`, background: colour(i) } });
}

// ── 1. overview ────────────────────────────────────────────────────────────────────────────────

async function overview(p, root) {
  const d = await api('overview', windowParams(p));
  const t = d.totals;
  // Latency scans the stored calls (the slow part on a wide window): its tiles fill in after.
  const p50 = tile('p50 latency', '…');
  const p95 = tile('p95 latency', '…');
  p50.dataset.pending = p95.dataset.pending = '1';
  api('overview-latency', windowParams(p)).then(
    (l) => {
      p50.replaceWith(tile('p50 latency', ms(l.p50_ms), `of ${int(l.stored_calls)} stored calls`));
      p95.replaceWith(tile('p95 latency', ms(l.p95_ms), `of ${int(l.stored_calls)} stored calls`));
    },
    () => {
      p50.replaceWith(tile('p50 latency', '–', 'not available'));
      p95.replaceWith(tile('p95 latency', '–', 'not available'));
    },
  );
  root.append(
    title('Overview', windowPicker(p)),
    h(
      'div',
      { class: 'tiles' },
      tile('calls', int(t.calls)),
      tile('error rate', pct(t.error_rate), `${int(t.errors)} failed`),
      tile('input tokens', int(t.input_tokens)),
      tile('output tokens', int(t.output_tokens)),
      tile('cost', costs(t.costs), t.unpriced_calls ? `${int(t.unpriced_calls)} calls without a price` : null),
      p50,
      p95,
    ),
    note(
      'Counts, tokens and cost: llm_usage_hourly (every call observed, sampled-out ones included; whole hours). ' +
        'Latency percentiles: the calls stored in llm_calls.',
    ),
  );
  const charts = h('div', { class: 'chart-area' });
  root.append(charts);
  // Charts measure their container: drawn once the view is in the page.
  root.afterInsert = () => usageCharts(charts, d.window, d.series.points);
}

// ── 2. calls ───────────────────────────────────────────────────────────────────────────────────

const FILTERS = ['model', 'provider', 'status', 'session', 'user', 'agent', 'q'];

function callFilterParams(p) {
  const out = windowParams(p);
  for (const f of FILTERS) out[f] = p[f];
  return out;
}

async function calls(p, root) {
  const [facets, d] = await Promise.all([
    api('facets', windowParams(p)),
    api('calls', { ...callFilterParams(p), after: p.after, limit: p.limit }),
  ]);
  // The URL's value stays selectable even when the window's facets do not list it.
  const select = (name, values) =>
    h(
      'select',
      { name },
      h('option', { value: '' }, `any ${name}`),
      [...new Set([...(p[name] ? [p[name]] : []), ...values])].map((v) => h('option', { value: v, selected: p[name] === v }, v)),
    );
  const input = (name, placeholder) => h('input', { name, value: p[name] ?? '', placeholder, 'aria-label': placeholder });
  const form = h(
    'form',
    {
      class: 'filters',
      on: {
        submit: (e) => {
          e.preventDefault();
          const f = new FormData(e.target);
          const next = windowParams(p);
          for (const k of FILTERS) next[k] = f.get(k) ?? '';
          setParams(next);
        },
      },
    },
    select('model', facets.models),
    select('provider', facets.providers),
    h(
      'select',
      { name: 'status' },
      h('option', { value: '' }, 'any status'),
      ['ok', 'failed', 'error', 'timeout', 'cancelled'].map((s) => h('option', { value: s, selected: p.status === s }, s)),
    ),
    input('session', 'session'),
    input('user', 'user'),
    input('agent', 'agent'),
    input('q', 'text in error'),
    h('button', { type: 'submit' }, 'Filter'),
    h('a', { href: link('/calls', windowParams(p)), class: 'reset' }, 'clear'),
  );
  const exportParams = callFilterParams(p);
  root.append(
    title(
      'Calls',
      windowPicker(p),
      h(
        'span',
        { class: 'export' },
        'export: ',
        h('a', { href: link('/api/export.csv', exportParams), download: '' }, 'CSV'),
        ' · ',
        h('a', { href: link('/api/export.jsonl', exportParams), download: '' }, 'JSONL'),
      ),
    ),
    form,
  );
  if (d.rows.length === 0) {
    root.append(empty(p.after ? 'no more calls' : 'no calls match'));
  } else {
    root.append(
      table(
        ['started (UTC)', 'model', 'status', 'duration', 'in tok', 'out tok', 'cost', 'session', 'user', 'agent'],
        d.rows.map((c) => [
          h('a', { href: callHref(c.span_id), class: 'call-link' }, time(c.started_at)),
          c.response_model ?? c.request_model ?? '–',
          h('span', null, status(c.status), c.error_type ? ` ${c.error_type}` : ''),
          ms(c.duration_ms),
          int(c.input_tokens),
          int(c.output_tokens),
          money(c.cost, c.currency),
          c.session_id ? h('a', { href: sessionHref(c.session_id) }, c.session_id) : '',
          c.user_id ?? '',
          c.agent_name ?? '',
        ]),
        { numeric: [3, 4, 5, 6], cls: 'calls' },
      ),
    );
  }
  root.append(pager(p, d.next));
}

/** Keyset paging: "older" carries the cursor of the page's last row; "newest" drops it. */
function pager(p, next) {
  const { after: _a, ...rest } = p;
  return h(
    'div',
    { class: 'pager' },
    p.after ? h('a', { href: link(location.pathname, rest), 'data-page': 'first' }, '« newest') : null,
    next ? h('a', { href: link(location.pathname, { ...rest, after: next }), 'data-page': 'next' }, 'older »') : null,
  );
}

// ── 3. call detail ─────────────────────────────────────────────────────────────────────────────

function toolCallsView(tcs) {
  const list = Array.isArray(tcs) ? tcs : [];
  return h(
    'div',
    { class: 'tool-calls' },
    list.map((t) =>
      h(
        'div',
        { class: 'tool-call' },
        h('span', { class: 'tag' }, 'tool call'),
        ' ',
        h('code', null, t?.name ?? t?.function?.name ?? '?'),
        t?.id ? h('span', { class: 'muted' }, ` ${t.id}`) : '',
        h(
          'pre',
          null,
          typeof t?.arguments === 'string' ? t.arguments : JSON.stringify(t?.arguments ?? t?.function?.arguments ?? null, null, 2),
        ),
      ),
    ),
  );
}

function message(m) {
  const role = m.role ?? '?';
  return h(
    'div',
    { class: `msg ${String(role).replace(/[^a-z_]/gi, '')} ${m.direction === 'output' ? 'out' : 'in'}` },
    h(
      'div',
      { class: 'msg-head' },
      h('span', { class: 'role' }, role),
      m.name ? h('span', { class: 'muted' }, ` (${m.name})`) : '',
      m.tool_call_id ? h('span', { class: 'muted' }, ` result of ${m.tool_call_id}`) : '',
      m.token_estimate !== null && m.token_estimate !== undefined ? h('span', { class: 'muted' }, ` ~${m.token_estimate} tok`) : '',
      m.truncated ? h('span', { class: 'truncated' }, ` truncated (was ${int(m.content_chars)} chars)`) : '',
    ),
    m.reasoning
      ? h('details', { class: 'reasoning' }, h('summary', null, 'reasoning'), h('pre', { class: 'content' }, String(m.reasoning)))
      : null,
    m.content !== null && m.content !== undefined ? h('pre', { class: 'content' }, String(m.content)) : null,
    m.tool_calls ? toolCallsView(m.tool_calls) : null,
  );
}

async function call(p, root, span) {
  const d = await api(`call/${encodeURIComponent(span)}`);
  const c = d.call;
  const links = h(
    'p',
    { class: 'links' },
    h('a', { href: traceHref(c.trace_id), 'data-link': 'trace' }, 'trace'),
    c.session_id ? [' · ', h('a', { href: sessionHref(c.session_id), 'data-link': 'session' }, `session ${c.session_id}`)] : '',
    d.parent
      ? [
          ' · ',
          h(
            'a',
            { href: d.parent.kind === 'call' ? callHref(d.parent.span_id) : traceHref(c.trace_id) },
            `inside ${d.parent.kind} ${d.parent.name ?? ''}`,
          ),
        ]
      : '',
  );
  root.append(
    title(`${c.operation} ${c.request_model ?? ''}`),
    links,
    h(
      'div',
      { class: 'tiles' },
      tile('status', status(c.status), c.error_type ? `${c.error_type}${c.http_status ? ` (HTTP ${c.http_status})` : ''}` : null),
      tile('duration', ms(c.duration_ms), c.ttft_ms !== null ? `first token ${ms(c.ttft_ms)}` : null),
      tile('tokens', `${int(c.input_tokens)} in / ${int(c.output_tokens)} out`, c.usage_source ? `usage: ${c.usage_source}` : null),
      tile(
        'cost',
        money(c.cost, c.currency),
        d.price ? `price ${d.price.model_pattern} (${d.price.source})` : c.cost === null ? 'no price' : null,
      ),
      tile('retries', int(c.retry_count)),
    ),
  );
  if (c.error_message) root.append(h('pre', { class: 'error-text' }, String(c.error_message)));
  const msgs = d.messages;
  root.append(h('h2', null, 'Conversation'));
  if (msgs.length === 0) root.append(empty('no content stored for this call (capture off, or not a chat call)'));
  else root.append(h('div', { class: 'conversation' }, msgs.map(message)));
  if (d.price) {
    const r = d.price;
    root.append(
      h('h2', null, 'Price used'),
      h(
        'p',
        null,
        `${r.provider ?? '*'} ${r.model_pattern}: input ${r.input_per_mtok ?? '–'}, cached ${r.cached_input_per_mtok ?? '–'}, output ${r.output_per_mtok ?? '–'} ${r.currency} per 1M tokens` +
          `${r.valid_from ? `, from ${r.valid_from}` : ''}${r.valid_to ? `, until ${r.valid_to}` : ''} (${r.source})`,
      ),
    );
  }
  root.append(
    h('h2', null, 'Every column'),
    table(
      ['column', 'value'],
      Object.entries(c)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]),
      { cls: 'columns' },
    ),
  );
}

// ── 4. trace waterfall ─────────────────────────────────────────────────────────────────────────

async function trace(p, root, traceId) {
  const d = await api(`trace/${encodeURIComponent(traceId)}`);
  const flat = [];
  const walk = (nodes, depth) => {
    for (const n of nodes) {
      flat.push({ n, depth });
      walk(n.children, depth + 1);
    }
  };
  walk(d.roots, 0);
  const start = Math.min(...flat.map(({ n }) => Date.parse(n.started_at)));
  const end = Math.max(...flat.map(({ n }) => Date.parse(n.started_at) + (n.duration_ms ?? 0)));
  const span = Math.max(1, end - start);
  const calls = flat.filter(({ n }) => n.kind === 'call').map(({ n }) => n);
  const totalCost = {};
  for (const c of calls) if (c.cost !== null) totalCost[c.currency ?? 'USD'] = (totalCost[c.currency ?? 'USD'] ?? 0) + c.cost;
  root.append(
    title(`Trace ${traceId.slice(0, 8)}…`),
    h(
      'p',
      { class: 'links' },
      `${calls.length} calls, ${flat.length - calls.length} runs, ${ms(end - start)}, ${int(calls.reduce((t, c) => t + c.input_tokens, 0))} in / ${int(calls.reduce((t, c) => t + c.output_tokens, 0))} out tokens, cost ${costs(totalCost)}`,
      d.sessions.map((s) => [' · ', h('a', { href: sessionHref(s), 'data-link': 'session' }, `session ${s}`)]),
    ),
  );
  const rows = flat.map(({ n, depth }) => {
    const det = d.details[n.span_id] ?? {};
    const left = ((Date.parse(n.started_at) - start) / span) * 100;
    const width = Math.max(0.3, ((n.duration_ms ?? 0) / span) * 100);
    const barEl = h('span', {
      class: `wf-bar ${n.kind} ${n.status === 'ok' ? '' : 'bad'}`,
      style: { left: `${left}%`, width: `${width}%` },
    });
    if (det.ttft_ms !== null && det.ttft_ms !== undefined && n.duration_ms) {
      // Time to first token: the part of a streamed call spent waiting for the first chunk.
      barEl.appendChild(
        h('span', {
          class: 'wf-ttft',
          style: { width: `${Math.min(100, (det.ttft_ms / n.duration_ms) * 100)}%` },
          title: `first token after ${ms(det.ttft_ms)}`,
        }),
      );
    }
    const label =
      n.kind === 'call'
        ? h('a', { href: callHref(n.span_id) }, n.name, n.model && !n.name.endsWith(n.model) ? ` → ${n.model}` : '')
        : h('span', null, h('span', { class: 'tag' }, n.kind), ` ${n.name}`);
    return h(
      'div',
      { class: 'wf-row', 'data-kind': n.kind, 'data-span': n.span_id },
      h(
        'div',
        { class: 'wf-label', style: { 'padding-left': `${depth * 1.2}em` } },
        label,
        det.caused_by
          ? h('span', { class: 'caused' }, ' ← asked by ', h('a', { href: callHref(det.caused_by), 'data-link': 'caused-by' }, 'this call'))
          : '',
      ),
      h('div', { class: 'wf-track' }, barEl),
      h('div', { class: 'num' }, ms(n.duration_ms)),
      h('div', { class: 'num' }, n.calls ? `${int(n.input_tokens)} / ${int(n.output_tokens)}` : ''),
      h('div', { class: 'num' }, n.currency === 'mixed' ? 'mixed' : money(n.cost, n.currency)),
      h('div', null, status(n.status), n.error ? h('span', { class: 'muted' }, ` ${String(n.error).slice(0, 80)}`) : ''),
    );
  });
  root.append(
    h(
      'div',
      { class: 'waterfall' },
      h(
        'div',
        { class: 'wf-row wf-head' },
        ['span', 'timeline', 'duration', 'tokens in / out', 'cost', 'status'].map((c) => h('div', null, c)),
      ),
      rows,
    ),
    note('Runs show the totals of everything beneath them. The darker start of a streamed call is its time to first token.'),
  );
}

// ── 5. cost ────────────────────────────────────────────────────────────────────────────────────

async function cost(p, root) {
  const by = p.by ?? 'model';
  const d = await api('cost', { ...windowParams(p), by });
  const currencies = [...new Set(d.rows.flatMap((r) => Object.keys(r.costs)))];
  const byPicker = h(
    'div',
    { class: 'window' },
    ['model', 'user', 'agent', 'provider'].map((b) =>
      h('button', { type: 'button', class: b === by ? 'on' : '', on: { click: () => setParams({ ...p, by: b }) } }, `by ${b}`),
    ),
  );
  root.append(title('Cost', windowPicker(p), byPicker));
  if (d.rows.length === 0) return root.append(empty('no calls in this window'));
  for (const cur of currencies) {
    const rows = d.rows.filter((r) => r.costs[cur]).sort((a, b) => b.costs[cur] - a.costs[cur]);
    const max = rows[0]?.costs[cur] ?? 1;
    root.append(
      h('h2', null, `${cur}`),
      table(
        [by, '', 'cost', 'calls', 'in tok', 'out tok'],
        rows.map((r, i) => [
          r.key ?? '(none)',
          bar(r.costs[cur] / max, i),
          money(r.costs[cur], cur),
          int(r.calls),
          int(r.input_tokens),
          int(r.output_tokens),
        ]),
        { numeric: [2, 3, 4, 5], cls: 'cost' },
      ),
    );
  }
  const unpriced = d.rows.filter((r) => r.unpriced_calls > 0);
  if (unpriced.length)
    root.append(
      h('h2', null, 'Calls without a price'),
      table(
        [by, 'calls'],
        unpriced.map((r) => [r.key ?? '(none)', int(r.unpriced_calls)]),
        { numeric: [1] },
      ),
    );
  root.append(note('From llm_usage_hourly: every call observed, sampled-out ones included. Costs are never summed across currencies.'));
}

// ── 6. latency ─────────────────────────────────────────────────────────────────────────────────

async function latency(p, root) {
  const metric = p.metric ?? 'duration';
  const d = await api('latency', { ...windowParams(p), metric });
  const picker = h(
    'div',
    { class: 'window' },
    [
      ['duration', 'total duration'],
      ['ttft', 'time to first token'],
    ].map(([m, label]) =>
      h('button', { type: 'button', class: m === metric ? 'on' : '', on: { click: () => setParams({ ...p, metric: m }) } }, label),
    ),
  );
  root.append(title('Latency', windowPicker(p), picker));
  if (d.rows.length === 0) return root.append(empty(metric === 'ttft' ? 'no streamed calls in this window' : 'no calls in this window'));
  const max = Math.max(...d.rows.map((r) => r.p99 ?? 0), 1);
  root.append(
    table(
      ['model', 'calls', 'p50', 'p90', 'p95', 'p99', 'max', 'p50 … p99'],
      d.rows.map((r, i) => [
        r.model ?? '(none)',
        int(r.calls),
        ms(r.p50),
        ms(r.p90),
        ms(r.p95),
        ms(r.p99),
        ms(r.max),
        bar((r.p99 ?? 0) / max, i),
      ]),
      { numeric: [1, 2, 3, 4, 5, 6], cls: 'latency' },
    ),
    note('From the calls stored in llm_calls (sampled-out calls have no duration here).'),
  );
}

// ── 7. errors ──────────────────────────────────────────────────────────────────────────────────

async function errors(p, root) {
  const d = await api('errors', windowParams(p));
  root.append(title('Errors', windowPicker(p)));
  if (d.rows.length === 0) return root.append(empty('no failed calls in this window'));
  root.append(
    table(
      ['error', 'model', 'status', 'calls', 'first seen', 'last seen', 'latest message', 'example'],
      d.rows.map((r) => [
        r.error_type ?? '(none)',
        r.model ?? '(none)',
        status(r.status),
        h('a', { href: link('/calls', { ...windowParams(p), model: r.model, status: r.status, q: r.error_type }) }, int(r.calls)),
        time(r.first_at),
        time(r.last_at),
        h('span', { class: 'clip' }, r.message ?? ''),
        h('a', { href: callHref(r.example), 'data-link': 'example' }, 'latest call'),
      ]),
      { numeric: [3], cls: 'errors' },
    ),
    note('From the calls stored in llm_calls (failed calls are always stored, whatever the sample rate).'),
  );
}

// ── 8. sessions ────────────────────────────────────────────────────────────────────────────────

async function sessions(p, root) {
  const d = await api('sessions', { ...windowParams(p), user: p.user, after: p.after });
  root.append(title('Sessions', windowPicker(p)));
  if (d.rows.length === 0) root.append(empty(p.after ? 'no more sessions' : 'no sessions active in this window'));
  else
    root.append(
      table(
        ['session', 'last call (UTC)', 'first call (UTC)', 'calls', 'errors', 'in tok', 'out tok', 'cost', 'user', 'agent'],
        d.rows.map((s) => [
          h('a', { href: sessionHref(s.session_id) }, s.session_id),
          time(s.last_at),
          time(s.first_at),
          int(s.calls),
          int(s.errors),
          int(s.input_tokens),
          int(s.output_tokens),
          s.currency === 'mixed' ? 'mixed currencies' : money(s.cost, s.currency),
          s.user_id ?? '',
          s.agent_name ?? '',
        ]),
        { numeric: [3, 4, 5, 6, 7], cls: 'sessions' },
      ),
    );
  root.append(pager(p, d.next), note('From llm_usage_sessions: every call observed in the session, sampled-out ones included.'));
}

async function session(p, root, id) {
  const d = await api(`session/${encodeURIComponent(id)}`);
  const t = d.totals;
  root.append(
    title(`Session ${id}`),
    h(
      'div',
      { class: 'tiles' },
      t ? tile('calls', int(t.calls), `${int(t.errors)} failed`) : null,
      t ? tile('tokens', `${int(t.input_tokens)} in / ${int(t.output_tokens)} out`) : null,
      d.stored ? tile('cost', costs(d.stored.costs), 'of the stored calls') : null,
      t ? tile('from', time(t.first_at), `to ${time(t.last_at)}`) : null,
      t?.user_id ? tile('user', t.user_id) : null,
    ),
  );
  if (d.truncated) root.append(note('Only the first calls are shown; see the Calls view for all of them.'));
  const turns = h('div', { class: 'conversation' });
  for (const turn of d.turns) {
    const c = turn.call;
    turns.append(
      h(
        'div',
        { class: 'turn' },
        h(
          'div',
          { class: 'turn-head' },
          h('a', { href: callHref(c.span_id), 'data-link': 'call' }, time(c.started_at)),
          ' ',
          c.response_model ?? c.request_model ?? '',
          ' ',
          status(c.status),
          ` ${ms(c.duration_ms)} · ${money(c.cost, c.currency)} · `,
          h('a', { href: traceHref(c.trace_id) }, 'trace'),
          turn.repeated
            ? h('span', { class: 'muted' }, ` · ${turn.repeated} earlier message${turn.repeated === 1 ? '' : 's'} not repeated`)
            : '',
        ),
        turn.messages.length ? turn.messages.map(message) : h('p', { class: 'muted' }, 'no content stored'),
      ),
    );
  }
  root.append(h('h2', null, 'Conversation'), turns);
  if (d.runs.length)
    root.append(
      h('h2', null, 'Runs'),
      table(
        ['started (UTC)', 'kind', 'name', 'duration', 'status', 'trace'],
        d.runs.map((r) => [
          time(r.started_at),
          r.kind,
          r.name ?? '',
          ms(r.duration_ms),
          status(r.status),
          h('a', { href: traceHref(r.trace_id) }, 'trace'),
        ]),
        { numeric: [3] },
      ),
    );
}

// ── 9. runs ────────────────────────────────────────────────────────────────────────────────────

async function runs(p, root) {
  const d = await api('runs', { ...windowParams(p), kind: p.kind, name: p.name, after: p.after });
  const picker = h(
    'div',
    { class: 'window' },
    ['', 'agent', 'tool', 'workflow'].map((k) =>
      h(
        'button',
        { type: 'button', class: (p.kind ?? '') === k ? 'on' : '', on: { click: () => setParams({ ...p, kind: k, after: '' }) } },
        k || 'all kinds',
      ),
    ),
  );
  root.append(title('Runs', windowPicker(p), picker));
  if (d.rows.length === 0) root.append(empty(p.after ? 'no more runs' : 'no runs in this window'));
  else
    root.append(
      table(
        ['started (UTC)', 'kind', 'name', 'duration', 'status', 'calls', 'errors', 'in tok', 'out tok', 'cost', 'models'],
        d.rows.map((r) => [
          h('a', { href: traceHref(r.trace_id) }, time(r.started_at)),
          r.kind,
          r.name ?? '',
          ms(r.duration_ms),
          status(r.status),
          int(r.totals?.calls),
          int(r.totals?.errors),
          int(r.totals?.input_tokens),
          int(r.totals?.output_tokens),
          money(r.totals?.cost ?? null, null),
          r.totals?.models ?? '',
        ]),
        { numeric: [3, 5, 6, 7, 8, 9], cls: 'runs' },
      ),
    );
  root.append(pager(p, d.next), note('Totals are recursive: every call beneath the run, through nested runs.'));
}

// ── 10. users ──────────────────────────────────────────────────────────────────────────────────

async function users(p, root) {
  const d = await api('users', windowParams(p));
  root.append(title('Users', windowPicker(p)));
  if (d.rows.length === 0) return root.append(empty('no calls in this window'));
  root.append(
    table(
      ['user', 'calls', 'success rate', 'in tok', 'out tok', 'cost'],
      d.rows.map((u) => [
        u.user_id ? h('a', { href: link('/calls', { ...windowParams(p), user: u.user_id }) }, u.user_id) : '(none)',
        int(u.calls),
        pct(u.success_rate),
        int(u.input_tokens),
        int(u.output_tokens),
        costs(u.costs),
      ]),
      { numeric: [1, 2, 3, 4, 5], cls: 'users' },
    ),
    note('From llm_usage_hourly: every call observed, sampled-out ones included.'),
  );
}

// ── routing ────────────────────────────────────────────────────────────────────────────────────

const ROUTES = [
  [/^\/$/, overview],
  [/^\/calls$/, calls],
  [/^\/calls\/([^/]+)$/, call],
  [/^\/traces\/([^/]+)$/, trace],
  [/^\/cost$/, cost],
  [/^\/latency$/, latency],
  [/^\/errors$/, errors],
  [/^\/sessions$/, sessions],
  [/^\/sessions\/([^/]+)$/, session],
  [/^\/runs$/, runs],
  [/^\/users$/, users],
];

export async function renderView(path, p, root) {
  for (const [re, view] of ROUTES) {
    const m = re.exec(path);
    if (m) {
      root.dataset.view = view.name;
      await view(p, root, m[1] === undefined ? undefined : decodeURIComponent(m[1]));
      return;
    }
  }
  root.append(h('p', null, 'no such page'));
}
