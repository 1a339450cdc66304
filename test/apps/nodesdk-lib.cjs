'use strict';
// Shared by nodesdk-app.cjs / .mjs: the scenarios (scenarios-lib.cjs), then the ending TEST_END asks for.
const api = require('@opentelemetry/api');
const Database = require('better-sqlite3');
const { runScenarios } = require('./scenarios-lib.cjs');

function rowCount() {
  try {
    const db = new Database(process.env.TEST_DB, { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT count(*) n FROM llm_calls').get().n;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

async function runEnding(sdk, openai, names) {
  if (!sdk) return; // node --test also runs every file under test/: nothing without the test's environment
  if (process.env.TEST_END === 'flush-each') {
    // NodeSDK keeps its provider private; the global API hands it out behind a proxy.
    const provider = api.trace.getTracerProvider().getDelegate();
    for (const name of names) {
      await runScenarios(openai, [name]);
      await provider.forceFlush();
      process.stdout.write(`${JSON.stringify({ flushed: name, rows: rowCount() })}\n`);
    }
    process.kill(process.pid, 'SIGKILL');
    return;
  }
  await runScenarios(openai, names);
  await sdk.shutdown();
  process.stdout.write('shut down\n');
}

module.exports = { runEnding };
