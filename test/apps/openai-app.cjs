'use strict';
// CJS app for the openai major matrix: copied into test/.matrix/vN/ so `openai` is major N.
// Usage: node openai-app.cjs <scenario> [<scenario> …]   (scenarios: scenarios-lib.cjs)
const openai = require('openai');
const { runScenarios } = require('./scenarios-lib.cjs');

runScenarios(openai, process.argv.slice(2)).catch((e) => {
  process.stderr.write(`${e.stack}\n`);
  process.exitCode = 1;
});
