// Where a compiled module lives, without import.meta or __dirname (one source compiles to both ESM
// and CJS): V8's structured call sites name the file of the running function. The thread needs
// absolute paths: its own entry (worker.js) and the job module it runs.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The file of the function `depth` frames up from the caller of this one (0: the caller). */
function callerFile(depth: number): string | null {
  const original = Error.prepareStackTrace;
  try {
    Error.prepareStackTrace = (_e, sites) => sites;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, callerFile);
    const sites = holder.stack as NodeJS.CallSite[] | undefined;
    const file = Array.isArray(sites) ? sites[1 + depth]?.getFileName() : undefined;
    if (!file) return null;
    return file.startsWith('file:') ? fileURLToPath(file) : file;
  } catch {
    return null;
  } finally {
    Error.prepareStackTrace = original;
  }
}

/** Absolute path of `name` in the folder of the module that calls this (null if it cannot be told). */
export function besideCaller(name: string): string | null {
  const file = callerFile(0);
  return file ? join(dirname(file), name) : null;
}

/** Absolute path of the thread's entry, worker.js next to this module. */
export function threadEntry(): string | null {
  return besideCaller('worker.js');
}
