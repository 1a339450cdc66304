// Which copy of @opentelemetry/api llm-otel registers its defaults (context manager, propagators)
// through. OpenTelemetry's global registry is stamped with the version of the API copy that
// created it, and a newer minor refuses an older registry: when llm-otel (on the 2.x line, api
// < 1.10) registers first and the app's own SDK on the 3.x line (api 1.10) starts later, every
// registration of the app's would be refused and its tracing silently off. An older API copy can
// use a newer registry, so llm-otel registers through the app's copy when that one is newer.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import * as ours from '@opentelemetry/api';
import { besideCaller } from '../thread/locate.js';

type Api = Pick<typeof ours, 'context' | 'propagation'>;

/** Version of the @opentelemetry/api package that `entry` (its resolved main file) belongs to. */
function versionOf(entry: string): string | null {
  for (let dir = dirname(entry), i = 0; i < 6; dir = dirname(dir), i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (pkg.name === '@opentelemetry/api') return typeof pkg.version === 'string' ? pkg.version : null;
    } catch {
      // not this folder
    }
  }
  return null;
}

const minorOf = (v: string | null): [number, number] | null => {
  const m = /^(\d+)\.(\d+)\./.exec(v ?? '');
  return m ? [Number(m[1]), Number(m[2])] : null;
};

/**
 * The app's @opentelemetry/api (resolved from its main script, or the working directory) when it is
 * a different copy of the same major with a newer minor than llm-otel's; otherwise llm-otel's own.
 */
export function registrationApi(mainScript: string | undefined = process.argv[1]): Api {
  try {
    const self = besideCaller('app-api.js');
    if (!self) return ours;
    const ourEntry = createRequire(self).resolve('@opentelemetry/api');
    const from = mainScript ? resolve(mainScript) : join(process.cwd(), 'app.js');
    const appRequire = createRequire(from);
    const appEntry = appRequire.resolve('@opentelemetry/api');
    if (appEntry === ourEntry) return ours;
    const a = minorOf(versionOf(appEntry));
    const o = minorOf(versionOf(ourEntry));
    if (!a || !o || a[0] !== o[0] || a[1] <= o[1]) return ours;
    const api = appRequire('@opentelemetry/api') as Api;
    return api?.context && api.propagation ? api : ours;
  } catch {
    return ours; // the app has no API of its own, or it cannot be found: ours is the only one
  }
}
