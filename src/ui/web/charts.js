// Time-series charts on uPlot (vendored into dist/ui by scripts/build.mjs; loaded as the global
// `uPlot` before this module). Canvas only: labels and legends are text, never HTML.

import { h } from './dom.js';

const PALETTE = ['#2f6fde', '#e0782f', '#2aa876', '#c2417a', '#8a63d2', '#b8a21d', '#3ba7c9', '#7d7d7d', '#d64541', '#4f8a3c'];

export function colour(i) {
  return PALETTE[i % PALETTE.length];
}

/** Every bucket start between since and until (seconds), so empty hours/days show as zero. */
function buckets(since, until, hours) {
  const step = hours * 3600_000;
  const start = Math.floor(Date.parse(since) / step) * step;
  const out = [];
  for (let t = start; t < Date.parse(until); t += step) out.push(t / 1000);
  return out;
}

/** Adds a chart's figure now; the returned function draws it once every figure is laid out. */
function chart(container, title, opts, data) {
  const box = h('figure', { class: 'chart' }, h('figcaption', null, title));
  container.appendChild(box);
  return () => {
    if (typeof window.uPlot !== 'function') {
      box.appendChild(h('p', { class: 'muted' }, 'chart library not loaded'));
      return;
    }
    const width = Math.max(280, (box.clientWidth || 600) - 16);
    const xs = data[0];
    const step = xs.length > 1 ? xs[1] - xs[0] : 3600;
    // One step past the last bucket, so the bar of the bucket in progress is drawn whole.
    const scales = { x: { time: true, range: () => [xs[0] - step / 2, xs[xs.length - 1] + step / 2] } };
    new window.uPlot({ width, height: 220, scales, ...opts }, data, box);
  };
}

/**
 * Calls and errors per bucket, and cost per bucket stacked by model (one chart per currency).
 * `points`: [{bucket, key (model), currency, calls, errors, cost}].
 */
export function usageCharts(container, window_, points) {
  const xs = buckets(window_.since, window_.until, window_.bucketHours);
  const index = new Map(xs.map((x, i) => [x, i]));
  const at = (p) => index.get(Date.parse(p.bucket) / 1000);
  const calls = xs.map(() => 0);
  const errors = xs.map(() => 0);
  const byCurrency = new Map();
  for (const p of points) {
    const i = at(p);
    if (i === undefined) continue;
    calls[i] += p.calls;
    errors[i] += p.errors;
    if (p.cost !== null && p.currency) {
      if (!byCurrency.has(p.currency)) byCurrency.set(p.currency, new Map());
      const models = byCurrency.get(p.currency);
      const key = p.key ?? '(none)';
      if (!models.has(key))
        models.set(
          key,
          xs.map(() => 0),
        );
      models.get(key)[i] += p.cost;
    }
  }
  const grid = h('div', { class: 'charts' });
  container.appendChild(grid);
  const bars = window.uPlot?.paths?.bars?.({ size: [0.8, 40] });
  const draws = [];
  draws.push(
    chart(
      grid,
      'Calls and errors',
      {
        series: [
          {},
          { label: 'calls', stroke: colour(0), fill: 'rgba(47,111,222,0.15)', paths: bars, points: { show: false } },
          { label: 'errors', stroke: '#d64541', fill: 'rgba(214,69,65,0.35)', paths: bars, points: { show: false } },
        ],
        axes: [{}, { size: 60 }],
      },
      [xs, calls, errors],
    ),
  );
  for (const [currency, models] of byCurrency) {
    // Stacked: series k is the sum of models k..n, drawn largest first so each shows its own band.
    const keys = [...models.keys()].sort((a, b) => sum(models.get(b)) - sum(models.get(a)));
    const stacked = keys.map((_, k) => xs.map((_, i) => keys.slice(k).reduce((t, key) => t + models.get(key)[i], 0)));
    draws.push(
      chart(
        grid,
        `Cost (${currency}) by model`,
        {
          series: [
            {},
            ...keys.map((key, k) => ({
              label: key,
              stroke: colour(k),
              fill: colour(k),
              paths: bars,
              points: { show: false },
              value: (_u, _v, _s, i) => (i === null || i === undefined ? '' : models.get(key)[i].toFixed(6)),
            })),
          ],
          axes: [{}, { size: 70, values: (_u, vals) => vals.map((v) => v.toPrecision(3)) }],
        },
        [xs, ...stacked],
      ),
    );
  }
  // Sized from the laid-out grid: a figure measured while alone would take the whole row.
  for (const draw of draws) draw();
}

function sum(a) {
  return a.reduce((t, v) => t + v, 0);
}
