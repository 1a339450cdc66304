// Where this module's compiled file lives, without import.meta or __dirname (one source compiles to
// both ESM and CJS): V8's structured call sites name the file of the running function.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function ownFile(): string | null {
  const original = Error.prepareStackTrace;
  try {
    Error.prepareStackTrace = (_e, sites) => sites;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder);
    const sites = holder.stack as NodeJS.CallSite[] | undefined;
    const file = Array.isArray(sites) ? sites[0]?.getFileName() : undefined;
    if (!file) return null;
    return file.startsWith('file:') ? fileURLToPath(file) : file;
  } catch {
    return null;
  } finally {
    Error.prepareStackTrace = original;
  }
}

/** Absolute path of a file next to the compiled exporter modules (null if it cannot be told). */
export function exporterFile(name: string): string | null {
  const own = ownFile();
  return own ? join(dirname(own), name) : null;
}
