// ESM entry of the 50-session agent app (test/30-context.test.mjs); body in ctx-agents-lib.cjs.

import { createRequire } from 'node:module';
import * as llm from 'llm-otel';
import OpenAI from 'openai';

const { runAgents } = createRequire(import.meta.url)('./ctx-agents-lib.cjs');
// node --test also runs every file under test/: nothing happens without the test's environment.
if (process.env.TEST_OPENAI_URL) await runAgents({ OpenAI, llm });
