// Runs test/2x-helpers/calllog-app.mjs in a child process and collects what it did.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './spans.mjs';

export const APP = join(ROOT, 'test', '2x-helpers', 'calllog-app.mjs');

/**
 * env: CALLLOG_* variables (see calllog-app.mjs). opts.kill: a signal sent once the app prints
 * "app: ready"; opts.spawn: extra spawn options (uid/gid); opts.timeoutMs (default 30 s).
 * Resolves { code, signal, stdout, stderr }.
 */
export function runApp(env, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [APP], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '', ...env, CALLLOG_APP: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.spawn ?? {}),
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`app timed out\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    child.stdout.on('data', (d) => {
      stdout += d;
      if (opts.kill && !sent && stdout.includes('app: ready\n')) {
        sent = true;
        child.kill(opts.kill);
      }
      opts.onStdout?.(stdout, child);
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
