// The dashboard's static files (dist/ui: our scripts and styles, and uPlot copied from
// node_modules by scripts/build.mjs), read once at start-up and served from memory. Only files
// found there are served: a request cannot name a path outside that folder.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { besideCaller } from '../thread/locate.js';

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}
export type Assets = Map<string, Asset>;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
};

export function loadAssets(dir: string): Assets {
  const out: Assets = new Map();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new Error(`the dashboard's files are missing (${dir}): run \`npm run build\``, { cause: e });
  }
  for (const name of names) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    out.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  if (!out.has('app.js')) throw new Error(`the dashboard's files are missing (${dir}/app.js): run \`npm run build\``);
  return out;
}

/** dist/ui, from this module's place in dist/esm/src/ui or dist/cjs/src/ui. */
export function defaultAssetsDir(): string {
  const here = besideCaller('.');
  if (!here) throw new Error("cannot tell where the dashboard's files are");
  return join(here, '..', '..', '..', 'ui');
}
