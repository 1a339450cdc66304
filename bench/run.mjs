#!/usr/bin/env node
// `npm run bench`: every benchmark once, at sizes that finish in a few minutes on 2 cores.
// Each prints its own numbers; run a file alone (see its header) for the full-size version.
import { spawnSync } from 'node:child_process';

const runs = [
  ['openai-overhead.bench.mjs', ['--rounds', '40']],
  ['openai-overhead.bench.mjs', ['--rounds', '40', '--no-content']],
  ['openai-overhead.bench.mjs', ['--rounds', '40', '--no-metrics']],
  ['openai-inprocess.bench.mjs', ['--runs', '3', '--calls', '10000']],
  ['metrics.bench.mjs', ['--calls', '50000']],
  ['redact.bench.mjs', []],
  ['tokens.bench.mjs', []],
  ['calllog-sink.bench.mjs', ['30000', '3']],
  ['calllog-eventloop.bench.mjs', ['10', '1000', '3']],
  ['calllog-load.bench.mjs', ['30', '5000']],
  ['cli-1m.bench.mjs', ['--calls', '200000']],
  ['ui-1m.bench.mjs', ['--calls', '200000']],
  [
    'faults.bench.mjs',
    ['--kill-runs', '1', '--kill-at', '2500', '--rounds', '10', '--seconds', '6', '--exit-runs', '1', '--stuck-runs', '1'],
  ],
];
let failed = 0;
for (const [file, args] of runs) {
  console.log(`\n### node bench/${file} ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [`bench/${file}`, ...args], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
