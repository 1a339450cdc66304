// One error type for everything the user did wrong or asked for that does not exist. main() prints
// its message as one line on stderr and exits with its code; nothing else reaches the terminal.

/**
 * Exit codes: 1 = the thing asked for does not exist (no DB file, no such call); 2 = bad input;
 * 3 = the output could not be written (disk full, I/O error) after the command had started.
 */
export const EXIT_NOT_FOUND = 1;
export const EXIT_USAGE = 2;
export const EXIT_IO = 3;

export class CliError extends Error {
  constructor(
    message: string,
    public readonly exitCode: number = EXIT_USAGE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function usage(message: string): CliError {
  return new CliError(message, EXIT_USAGE);
}

export function notFound(message: string): CliError {
  return new CliError(message, EXIT_NOT_FOUND);
}

export function ioError(message: string): CliError {
  return new CliError(message, EXIT_IO);
}

/** `no space left on device (ENOSPC)` from Node's `ENOSPC: no space left on device, write`. */
export function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException | undefined;
  const msg = err?.message ?? String(e);
  const m = /^([A-Z][A-Z0-9_]+): ([^,]+)/.exec(msg);
  if (m) return `${m[2]} (${m[1]})`;
  return err?.code ? `${msg} (${err.code})` : msg;
}
