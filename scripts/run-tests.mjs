#!/usr/bin/env node
// Runs the suite (test/NN-*.test.mjs) under vitest; see vitest.config.mjs. Extra arguments pass
// through (e.g. `npm test -- test/20-exporter-rows.test.mjs` or `npm test -- -t stream`).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
const r = spawnSync(process.execPath, [vitest, 'run', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
