// `llm-otel runs`: recent agent / tool / workflow runs with the totals of the calls beneath them.

import { type Command, InvalidArgumentError, Option } from 'commander';
import type { RunTotals } from '../query/types.js';
import { dbPath, openRead } from './call-log.js';
import { usage } from './errors.js';
import { addCommon, type CommonOptions, nonEmpty, runFilter } from './options.js';
import { fmtCost, fmtInt, fmtMs, fmtTime, table, write, writeJson } from './output.js';

interface RunsOptions extends CommonOptions {
  kind?: string;
  name?: string;
}

const KINDS = ['agent', 'tool', 'workflow'];

export function registerRuns(program: Command): void {
  const cmd = program
    .command('runs')
    .description('agent, tool and workflow runs with their call totals, newest first')
    .addOption(
      new Option('--kind <kind>', 'agent|tool|workflow').argParser((v: string) => {
        if (!KINDS.includes(v)) throw new InvalidArgumentError(`expected one of ${KINDS.join(', ')}; got ${JSON.stringify(v)}`);
        return v;
      }),
    )
    .addOption(new Option('--name <name>', 'only runs with this name').argParser(nonEmpty));
  addCommon(cmd, { limit: 50 });
  cmd.action(async (o: RunsOptions) => {
    if (o.model) throw usage('runs: --model does not apply to runs (see `llm-otel calls --model`)');
    const db = await openRead(dbPath(o));
    try {
      const runs = (await db.listRuns(runFilter(o), { limit: o.limit ?? 50 })).rows;
      const totals = await db.runTotals(runs.map((r) => r.span_id));
      const empty: RunTotals = { calls: 0, errors: 0, input_tokens: 0, output_tokens: 0, cost: null, avg_duration_ms: null, models: null };
      const rows: Array<Record<string, unknown> & RunTotals> = runs.map((r) => ({ ...r, ...(totals.get(r.span_id) ?? empty) }));
      if (o.json) {
        writeJson({ runs: rows });
        return;
      }
      if (rows.length === 0) {
        write('no runs');
        return;
      }
      write(
        table(
          ['id', 'started (UTC)', 'kind', 'name', 'duration', 'status', 'calls', 'errors', 'in tok', 'out tok', 'cost', 'models'],
          rows.map((r) => [
            String(r.id),
            fmtTime(r.started_at as string),
            String(r.kind),
            String(r.name ?? ''),
            fmtMs(r.duration_ms as number | null),
            String(r.status),
            fmtInt(r.calls),
            fmtInt(r.errors),
            fmtInt(r.input_tokens),
            fmtInt(r.output_tokens),
            fmtCost(r.cost),
            String(r.models ?? ''),
          ]),
          ['right', 'left', 'left', 'left', 'right', 'left', 'right', 'right', 'right', 'right', 'right', 'left'],
        ),
      );
    } finally {
      await db.close();
    }
  });
}
