'use strict';
// CJS app with its own NodeSDK (nodesdk-otel.cjs) holding llm-otel's parts — no `register`. Runs the
// scenarios named on the command line (scenarios-lib.cjs), then, as TEST_END says:
//   shutdown (default)  `await sdk.shutdown()` right after the last call
//   flush-each          a serverless handler: each scenario is an invocation ending in the global
//                       provider's forceFlush(); prints {"flushed":name,"rows":n} (rows on disk by
//                       then), and after the last one the process is SIGKILLed (a frozen or
//                       recycled instance: whatever the flushes did not deliver is lost).
const { sdk } = require('./nodesdk-otel.cjs');
const openai = require('openai');
const { runEnding } = require('./nodesdk-lib.cjs');

runEnding(sdk, openai, process.argv.slice(2)).catch((e) => {
  process.stderr.write(`${e.stack}\n`);
  process.exitCode = 1;
});
