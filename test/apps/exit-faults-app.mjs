// App of test/50-exit-bounds.test.mjs: a few awaited chat calls, then it ends the way it is told.
// Usage: node exit-faults-app.mjs <mode> [calls]
//   normal   the event loop runs dry            exit3   process.exit(3)
//   throw    an uncaught exception              wait    keeps running until signalled
//   unhandled        one failing call that is never awaited (an unhandled rejection)
//   unhandled-hook   the same, with the app's own process.on('unhandledRejection') handler
//   batches  N calls, then waits for the file $TEST_GO to exist, then N more calls
// Environment: TEST_OPENAI_URL. Prints 'calls done' when its own work is over.
import { existsSync } from 'node:fs';
import OpenAI from 'openai';

async function main() {
  const mode = process.argv[2] ?? 'normal';
  const n = Number(process.argv[3] ?? 3);
  const client = new OpenAI({ baseURL: `${process.env.TEST_OPENAI_URL}/v1`, apiKey: 'sk-test-exit-faults', maxRetries: 0 });
  const call = (i) =>
    client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Question ${i}: which ocean contains Bouvet Island?` }] },
      { headers: { 'x-fixture': 'chat-completions-adds-genai-conventions' } },
    );

  if (mode === 'unhandled' || mode === 'unhandled-hook') {
    if (mode === 'unhandled-hook') {
      process.on('unhandledRejection', (reason) => {
        process.stdout.write(`app handler saw ${reason?.constructor?.name} ${reason?.status}\n`);
        process.exit(9);
      });
    }
    // Never awaited: without a handler Node ends the app with this error (exit 1).
    client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'x-scenario': 'error:400' } },
    );
    setTimeout(() => process.stdout.write('still running\n'), 3000);
    return;
  }

  for (let i = 0; i < n; i++) await call(i);
  if (mode === 'batches') {
    process.stdout.write('first batch done\n');
    while (!existsSync(process.env.TEST_GO)) await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < n; i++) await call(n + i);
  }
  process.stdout.write('calls done\n');
  if (mode === 'exit3') process.exit(3);
  if (mode === 'throw') throw new Error('app crashed on purpose');
  if (mode === 'wait') setInterval(() => {}, 1000);
}

// node --test also runs every file under test/: nothing happens without the test's environment.
if (process.env.TEST_OPENAI_URL) await main();
