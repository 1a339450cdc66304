// ESM app for the openai major matrix: copied into test/.matrix/vN/ so `openai` is major N.
// Usage: node openai-app.mjs <scenario> [<scenario> …]   (scenarios: scenarios-lib.cjs)

import { createRequire } from 'node:module';
import * as openai from 'openai';

const require = createRequire(import.meta.url);
const { runScenarios } = require('./scenarios-lib.cjs');
await runScenarios(openai, process.argv.slice(2));
