// `llm-otel latency`: p50/p90/p95/p99 and max call duration by model (`--ttft`: time to first
// chunk of streamed calls instead).

import type { Command } from 'commander';
import { dbPath, openRead } from './call-log.js';
import { addCommon, type CommonOptions, callFilter } from './options.js';
import { fmtInt, fmtMs, table, write, writeJson } from './output.js';

interface LatencyOptions extends CommonOptions {
  ttft?: boolean;
}

const r3 = (v: number | null): number | null => (v === null ? null : Math.round(v * 1000) / 1000);

export function registerLatency(program: Command): void {
  const cmd = program
    .command('latency')
    .description('latency percentiles (p50/p90/p95/p99) by model')
    .option('--ttft', 'time to first chunk of streamed calls instead of total duration');
  addCommon(cmd, { limit: undefined });
  cmd.action(async (o: LatencyOptions) => {
    const db = await openRead(dbPath(o));
    try {
      let rows = (await db.groupStats('model', callFilter(o), o.ttft ? 'ttft' : 'duration'))
        .map((g) => ({
          model: g.key,
          calls: g.calls,
          measured: g.latency.n,
          p50_ms: r3(g.latency.p50),
          p90_ms: r3(g.latency.p90),
          p95_ms: r3(g.latency.p95),
          p99_ms: r3(g.latency.p99),
          max_ms: r3(g.latency.max),
          avg_ms: r3(g.latency.avg),
        }))
        .sort(
          (a, b) =>
            b.calls - a.calls || Number(a.model === null) - Number(b.model === null) || String(a.model).localeCompare(String(b.model)),
        );
      if (o.limit) rows = rows.slice(0, o.limit);
      if (o.json) {
        writeJson({ metric: o.ttft ? 'ttft_ms' : 'duration_ms', rows });
        return;
      }
      if (rows.length === 0) {
        write('no calls');
        return;
      }
      write(
        table(
          ['model', 'calls', 'p50', 'p90', 'p95', 'p99', 'max'],
          rows.map((r) => [
            r.model ?? '(none)',
            fmtInt(r.calls),
            fmtMs(r.p50_ms),
            fmtMs(r.p90_ms),
            fmtMs(r.p95_ms),
            fmtMs(r.p99_ms),
            fmtMs(r.max_ms),
          ]),
          ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
        ),
      );
    } finally {
      await db.close();
    }
  });
}
