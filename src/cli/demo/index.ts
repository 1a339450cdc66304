// `llm-otel demo`: starts the loopback OpenAI-wire server, runs the sample app (app.cjs.ts) as a
// child process under `node --import llm-otel/register` — the real instrumentation, the real call
// log, the project's own `openai` when it has one (sdk.ts) — then prints `stats --by model` and the
// agent's `trace` for the calls it just made.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../../config/config.js';
import { buildTrace } from '../../query/trace.js';
import { openRead, openWrite, refuseFleet } from '../call-log.js';
import { CliError, usage } from '../errors.js';
import { renderStats, statsFromCalls } from '../stats.js';
import { renderTrace } from '../trace.js';
import { chooseDemoSdk } from './sdk.js';
import { startDemoServer } from './server.js';

export interface DemoOptions {
  db: string;
  /** Where progress goes (default stdout). */
  print?: (line: string) => void;
}

/** File of this module, from V8 call sites (no __dirname / import.meta in shared sources). */
function thisFile(): string {
  const original = Error.prepareStackTrace;
  try {
    Error.prepareStackTrace = (_e, sites) => sites;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, thisFile);
    const f = (holder.stack as NodeJS.CallSite[] | undefined)?.[0]?.getFileName();
    if (!f) throw new Error('cannot locate the llm-otel package');
    return f.startsWith('file:') ? new URL(f).pathname : f;
  } finally {
    Error.prepareStackTrace = original;
  }
}

/** The package root: this file is dist/<esm|cjs>/src/cli/demo/index.js. */
export function packageRoot(): string {
  return resolve(thisFile(), '..', '..', '..', '..', '..', '..');
}

interface Paths {
  root: string;
  register: string;
  app: string;
}

function locate(): Paths {
  const root = packageRoot();
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports?: Record<string, { import?: string } | string> };
  const reg = pkg.exports?.['./register'];
  const rel = typeof reg === 'string' ? reg : reg?.import;
  if (!rel) throw new CliError('demo: this llm-otel package has no ./register entry');
  return { root, register: join(root, rel), app: join(root, 'dist', 'cjs', 'src', 'cli', 'demo', 'app.cjs.js') };
}

export async function runDemo(o: DemoOptions): Promise<void> {
  const print = o.print ?? ((l: string) => process.stdout.write(l + '\n'));
  const paths = locate();
  let cwd: string | null = null;
  try {
    cwd = process.cwd();
  } catch {
    /* the working directory is gone: only llm-otel's own openai can serve */
  }
  refuseFleet(o.db, 'demo', 'the demo writes a local SQLite call log; give it a file (--db demo.db), not a PostgreSQL URL');
  const sdk = chooseDemoSdk(cwd, paths.app);
  const db = resolve(o.db);
  // Create or check the call log first: a foreign or newer file is refused here, untouched.
  openWrite(db, { create: true }).close();

  const server = await startDemoServer();
  const started = new Date(Date.now() - 1000).toISOString();
  print(`llm-otel demo: a sample agent app against a loopback OpenAI-wire server (${server.url}), no API key needed.`);
  if (sdk.note) print(`note: ${sdk.note}, so the demo uses llm-otel's own openai ${sdk.version}.`);
  print(`running: node --import llm-otel/register demo-app.js   (call log: ${db})\n`);
  const env: NodeJS.ProcessEnv = { ...process.env, LLM_OTEL_DB: db, LLM_OTEL_ENABLED: 'true', LLM_OTEL_SAMPLE_RATE: '1' };
  env.OTEL_SERVICE_NAME ??= 'llm-otel-demo';
  // No collector running is the common first-run case: only forward over OTLP when asked to.
  if (!loadConfig(env).otlpChosen) env.OTEL_TRACES_EXPORTER = 'none';
  let code: number | null;
  try {
    code = await new Promise<number | null>((resolveExit, reject) => {
      const child = spawn(process.execPath, ['--import', pathToFileURL(paths.register).href, paths.app, server.url, sdk.from], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        let i: number;
        while ((i = out.indexOf('\n')) >= 0) {
          print('  ' + out.slice(0, i));
          out = out.slice(i + 1);
        }
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        for (const l of d.split('\n')) if (l.trim()) print('  ! ' + l);
      });
      child.once('error', reject);
      child.once('close', (c) => {
        if (out) print('  ' + out);
        resolveExit(c);
      });
    });
  } finally {
    await server.close();
  }
  if (code !== 0) throw usage(`demo: the sample app exited with code ${code}`);

  const rdb = await openRead(db);
  try {
    const rows = await statsFromCalls(rdb, { by: 'model', since: started });
    if (rows.length === 0) throw usage('demo: the app ran but no calls reached the call log (is LLM_OTEL_ENABLED=false or the DB locked?)');
    print(`\n$ llm-otel stats --by model --since ${started}`);
    print(renderStats(rows, 'model'));
    const trace = await rdb.latestRunTrace('agent', 'trip-planner', started);
    if (trace) {
      print(`\n$ llm-otel trace ${trace}`);
      print(renderTrace(trace, buildTrace(await rdb.traceRows(trace))));
    }
    print('\nnext: llm-otel calls · llm-otel session demo-session-1 · llm-otel latency · llm-otel show <id> · llm-otel sql "SELECT …"');
  } finally {
    await rdb.close();
  }
}
