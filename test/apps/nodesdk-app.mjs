// ESM app with its own NodeSDK, preloaded: `node --import ./nodesdk-otel.mjs nodesdk-app.mjs …` (the
// loader hook must be in place before `openai` is linked). Same modes as nodesdk-app.cjs.
import { createRequire } from 'node:module';
import * as openai from 'openai';
import { sdk } from './nodesdk-otel.mjs';

const require = createRequire(import.meta.url);
const { runEnding } = require('./nodesdk-lib.cjs');
await runEnding(sdk, openai, process.argv.slice(2));
