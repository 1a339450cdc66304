#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
// Runs test/NN-*.test.mjs with node's test runner. Node 20 treats every .mjs below a directory
// named `test/` as a test file when given the directory, which would execute helpers, fixture apps
// and scratch files; so the files are listed explicitly. Arguments naming test files
// (`test/12-openai-matrix.test.mjs`) run only those; other arguments pass through to node
// (e.g. `npm test -- --test-name-pattern=stream`).
import { readdirSync } from 'node:fs';

const isTestFile = (a) => /(^|\/)\d\d-[^/]*\.test\.mjs$/.test(a);
const chosen = process.argv.slice(2).filter(isTestFile);
const flags = process.argv.slice(2).filter((a) => !isTestFile(a));
const files = chosen.length
  ? chosen
  : readdirSync('test')
      .filter((f) => /^\d\d-.*\.test\.mjs$/.test(f))
      .sort()
      .map((f) => `test/${f}`);
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...flags, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
