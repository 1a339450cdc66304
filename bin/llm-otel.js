#!/usr/bin/env node
// The `llm-otel` command: the CLI lives in the CommonJS build (fast start, no loader hooks).

const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const main = join(root, 'dist', 'cjs', 'src', 'cli', 'main.js');
// A clone whose install skipped the build (`--ignore-scripts`), or dist/ removed: say so in one
// line instead of a MODULE_NOT_FOUND stack.
if (existsSync(main)) {
  require(main).run();
} else {
  process.stderr.write(`llm-otel: the CLI is not built (${main} is missing): run \`npm run build\` in ${root}\n`);
  process.exitCode = 1;
}
