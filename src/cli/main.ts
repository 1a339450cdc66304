// `llm-otel` command line (docs/cli.md): one file per verb, commander for parsing. Every failure the
// user can cause ends as ONE line on stderr and exit code 2 (1 when the DB file or the thing asked
// for does not exist, 3 when the output cannot be written); no stack traces.

import { Command, CommanderError } from 'commander';
import { VERSION } from '../core/version.js';
import { registerCalls } from './calls.js';
import { registerDemo } from './demo.js';
import { CliError, EXIT_IO, EXIT_USAGE, errnoText } from './errors.js';
import { registerExport } from './export.js';
import { registerLatency } from './latency.js';
import { stdoutFailure, watchStdout } from './output.js';
import { registerPrices } from './prices.js';
import { registerPrune } from './prune.js';
import { registerRuns } from './runs.js';
import { registerSession } from './session.js';
import { registerShow } from './show.js';
import { registerSql } from './sql.js';
import { registerStats } from './stats.js';
import { registerTail } from './tail.js';
import { registerTrace } from './trace.js';
import { registerUi } from './ui.js';
import { visible } from './visible.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('llm-otel')
    .description('Query the llm-otel call log: calls, costs, traces, latency.')
    .version(VERSION, '-V, --version')
    .showSuggestionAfterError(true)
    // Set before the verbs are added: subcommands inherit both.
    .exitOverride()
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
      outputError: () => {
        /* main() prints one line itself */
      },
    });
  registerCalls(program);
  registerShow(program);
  registerTrace(program);
  registerSession(program);
  registerStats(program);
  registerLatency(program);
  registerRuns(program);
  registerExport(program);
  registerTail(program);
  registerSql(program);
  registerPrune(program);
  registerPrices(program);
  registerUi(program);
  registerDemo(program);
  return program;
}

function oneLine(s: string): string {
  return s
    .replace(/^error:\s*/i, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

/** The one error line; the message may quote user input or stored text, so controls are made visible. */
function fail(message: string, code: number): number {
  process.stderr.write(`llm-otel: ${visible(oneLine(message))}\n`);
  return code;
}

/** Resolves once everything written to `stream` so far has been handed to the OS (or failed). */
async function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (!stream.destroyed && !stream.writableEnded) await new Promise<void>((resolve) => stream.write('', () => resolve()));
  // A failed write reports through an 'error' event on a later tick.
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Runs the CLI; resolves to the exit code (never rejects, never prints a stack trace). */
export async function main(argv: string[] = process.argv): Promise<number> {
  watchStdout();
  try {
    await buildProgram().parseAsync(argv);
    await flushed(process.stdout);
    const failed = stdoutFailure();
    if (failed) return fail(`cannot write to standard output: ${errnoText(failed)}`, EXIT_IO);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      if (e.code === 'commander.help' || e.code === 'commander.executeSubCommandAsync') return EXIT_USAGE;
      return fail(e.message, EXIT_USAGE);
    }
    if (e instanceof CliError) return fail(e.message, e.exitCode);
    return fail(e instanceof Error ? e.message : String(e), EXIT_USAGE);
  }
}

/** Entry used by bin/llm-otel.js. */
export function run(): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    () => {
      process.exitCode = EXIT_USAGE;
    },
  );
}
