// `llm-otel demo`: a first run without an API key (see src/cli/demo/).

import type { Command } from 'commander';
import { dbPath } from './call-log.js';
import { runDemo } from './demo/index.js';
import { dbOption } from './options.js';

export function registerDemo(program: Command): void {
  const cmd = program
    .command('demo')
    .description('run a sample agent against a built-in loopback OpenAI-wire server (no API key), then show stats and a trace');
  dbOption(cmd);
  cmd.action(async (o: { db?: string }) => {
    await runDemo({ db: dbPath(o) });
  });
}
