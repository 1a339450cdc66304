// Node prints an app's fatal error only after the 'exit' listeners have run. When llm-otel has to
// end the process from its 'exit' listener (a stuck thread: exit-guard.ts), that print would be
// lost, so it is made here the way Node makes it: the source line with a caret, the inspected
// error, the Node.js version.

import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';

let fatal: { error: unknown } | undefined;

/** Keeps the error of an uncaught exception or unhandled rejection (a monitor changes nothing). */
export function watchFatalErrors(): void {
  process.on('uncaughtExceptionMonitor', (error) => {
    // With an 'uncaughtException' handler the app survives it: nothing fatal to report.
    if (process.listenerCount('uncaughtException') === 0) fatal = { error };
  });
}

/** Writes the fatal error Node would have printed, if the process is exiting because of one. */
export function printFatalError(): void {
  if (!fatal) return;
  try {
    process.stderr.write(formatFatal(fatal.error));
  } catch {
    /* stderr closed */
  }
}

export function formatFatal(error: unknown): string {
  const stack = error instanceof Error && typeof error.stack === 'string' ? error.stack : '';
  return `${arrow(stack)}${inspect(error)}\n\nNode.js ${process.version}\n`;
}

/** `file:line`, the source line and a caret under the column of the stack's first frame. */
function arrow(stack: string): string {
  const frame = /^\s+at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/m.exec(stack);
  if (!frame) return '';
  const [, where, lineText, colText] = frame;
  try {
    const path = where!.startsWith('file://') ? fileURLToPath(where!) : where!;
    if (!path.startsWith('/') || statSync(path).size > 8 * 1024 * 1024) return '';
    const line = readFileSync(path, 'utf8').split('\n')[Number(lineText) - 1];
    if (line === undefined) return '';
    return `${where}:${lineText}\n${line}\n${' '.repeat(Math.max(0, Number(colText) - 1))}^\n\n`;
  } catch {
    return '';
  }
}
