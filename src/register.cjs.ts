// `node --require llm-otel/register app.cjs` (or `--import` resolving to the CJS build): CJS apps
// are instrumented through require-in-the-middle; no ESM loader hook is installed from here.
import { registerFromEnv } from './register.js';

registerFromEnv();
