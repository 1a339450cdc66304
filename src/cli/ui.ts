// `llm-otel ui`: serves the dashboard (src/ui) over a read-only reader of the call log, prints one
// line with the URL to open, and serves until Ctrl-C (exit 0). docs/dashboard.md.

import { spawn } from 'node:child_process';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { defaultAssetsDir } from '../ui/assets.js';
import { isLoopback, startDashboard } from '../ui/server.js';
import { dbPath, displayName, openRead } from './call-log.js';
import { usage } from './errors.js';
import { dbOption, nonEmpty } from './options.js';

interface UiOptions {
  db?: string;
  port: number;
  host: string;
  open: boolean;
}

function parsePort(v: string): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) > 65535)
    throw new InvalidArgumentError(`expected a port from 0 to 65535; got ${JSON.stringify(v)}`);
  return Number(v);
}

/** Opens the URL in the desktop's browser; silently does nothing where there is none. */
function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    /* no browser: the printed URL is enough */
  }
}

export function registerUi(program: Command): void {
  const cmd = program
    .command('ui')
    .description('read-only dashboard in your browser, on 127.0.0.1 (Ctrl-C to stop)')
    .addOption(new Option('--port <port>', 'port to listen on (0: any free port)').argParser(parsePort).default(0))
    .addOption(
      new Option('--host <address>', 'address to listen on; anything but loopback serves your prompts to the network (a warning says so)')
        .argParser(nonEmpty)
        .default('127.0.0.1'),
    )
    .option('--no-open', 'do not open a browser');
  dbOption(cmd);
  cmd.action(async (o: UiOptions) => {
    const path = dbPath(o);
    const reader = await openRead(path);
    let dashboard: Awaited<ReturnType<typeof startDashboard>>;
    try {
      dashboard = await startDashboard({ reader, assetsDir: defaultAssetsDir(), host: o.host, port: o.port });
    } catch (e) {
      await reader.close();
      const code = (e as NodeJS.ErrnoException)?.code;
      if (code === 'EADDRINUSE') throw usage(`ui: port ${o.port} is in use (--port 0 picks a free one)`);
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw usage(`ui: cannot listen on ${o.host} (${code})`);
      throw e;
    }
    // Listening for Ctrl-C before the URL is printed: whoever reads the line may stop us at once.
    const stopped = new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    if (!isLoopback(o.host))
      process.stderr.write(
        `llm-otel ui: WARNING: listening on ${o.host}, not loopback: anyone who can reach this address and has the URL below can read every prompt and response in ${displayName(path)}\n`,
      );
    process.stdout.write(`llm-otel ui: ${dashboard.url}\n`);
    if (o.open) openBrowser(dashboard.url);
    await stopped;
    await dashboard.close();
    await reader.close();
  });
}
