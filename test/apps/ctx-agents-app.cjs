'use strict';
// CJS entry of the 50-session agent app (test/30-context.test.mjs); body in ctx-agents-lib.cjs.
const OpenAI = require('openai');
const llm = require('llm-otel');
const { runAgents } = require('./ctx-agents-lib.cjs');

// node --test also runs every file under test/: nothing happens without the test's environment.
if (process.env.TEST_OPENAI_URL)
  runAgents({ OpenAI: OpenAI.OpenAI || OpenAI, llm }).catch((e) => {
    process.stderr.write(`${e.stack}\n`);
    process.exitCode = 1;
  });
