// Which `openai` the demo's sample app loads: the one the user's project has (resolved from the
// working directory, as their own app would resolve it), else llm-otel's own. So `llm-otel demo`
// from a global or parent-folder install still shows the SDK version the project really uses.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { notFound } from '../errors.js';

export interface DemoSdk {
  /** A file path to create the app's `require` from: `openai` resolves from there to this SDK. */
  from: string;
  version: string;
  /** Set when the project's own openai was passed over, saying why. */
  note?: string;
}

/** The majors the instrumentation hooks (package.json peerDependencies: >=4.0.0 <8). */
const supported = (version: string): boolean => {
  const major = Number(version.split('.')[0]);
  return major >= 4 && major < 8;
};

/** The version of the `openai` that `require` from `from` would load, or null when none resolves. */
function openaiFrom(from: string): string | null {
  let entry: string;
  try {
    entry = createRequire(from).resolve('openai');
  } catch {
    return null;
  }
  // openai's "exports" hide its package.json: walk up from the entry to the package's own manifest.
  for (let dir = dirname(entry); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'openai' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      /* no manifest here, or not JSON: keep walking */
    }
    if (dirname(dir) === dir) return null;
  }
}

/**
 * The SDK for the sample app: the working directory's `openai` when it is a supported major, else
 * the one beside `ownFrom` (llm-otel's own install). Throws a one-line CliError when neither exists.
 */
export function chooseDemoSdk(cwd: string | null, ownFrom: string): DemoSdk {
  let note: string | undefined;
  if (cwd !== null) {
    const from = join(cwd, 'package.json');
    const version = openaiFrom(from);
    if (version !== null && supported(version)) return { from, version };
    if (version !== null) note = `this project's openai ${version} is not one llm-otel supports (4 to 7)`;
  }
  const version = openaiFrom(ownFrom);
  if (version !== null && supported(version)) return { from: ownFrom, version, ...(note ? { note } : {}) };
  throw notFound(
    note
      ? `demo: ${note}; install one with \`npm install openai@6\` in this project, then try again`
      : 'demo: the sample app needs the `openai` package — run `npm install openai` in this project, then try again',
  );
}
