// One error type for everything the user did wrong or asked for that does not exist. main() prints
// its message as one line on stderr and exits with its code; nothing else reaches the terminal.

/** Exit codes: 1 = the thing asked for does not exist (no DB file, no such call); 2 = bad input. */
export const EXIT_NOT_FOUND = 1;
export const EXIT_USAGE = 2;

export class CliError extends Error {
  constructor(message: string, public readonly exitCode: number = EXIT_USAGE) {
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
