// `llm-otel ui`: the local dashboard comes in a later release; until then say so plainly.

import type { Command } from 'commander';
import { usage } from './errors.js';
import { dbOption } from './options.js';

export function registerUi(program: Command): void {
  const cmd = program
    .command('ui')
    .description('local dashboard on 127.0.0.1 (not yet implemented)')
    .option('--port <port>', 'port to listen on');
  dbOption(cmd);
  cmd.action(() => {
    throw usage('ui: not yet implemented — the dashboard is coming in a later release; use `llm-otel stats`, `calls`, `trace` meanwhile');
  });
}
