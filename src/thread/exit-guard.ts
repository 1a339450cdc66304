// Process 'exit', in one place: first the work registered to run before the drain (the SDK ends
// calls that can no longer finish), then every call-log sink drains synchronously. Sinks are held
// through WeakRefs (the pino lib/transport.js idea): one that is garbage collected or shut down
// simply disappears from the set.
//
// Bounded by construction: a sink whose background thread stopped answering says so
// (abandonThreadAtExit). Node's own exit would then wait forever to join that thread, so once
// the app's own 'exit' listeners have run, the process ends here with the same exit code.

import { existsSync } from 'node:fs';
import { printFatalError, watchFatalErrors } from './fatal-report.js';
import { hardExit } from './hard-exit.js';

export interface ExitDrainable {
  drainOnExit(): void;
}

const live = new Set<WeakRef<ExitDrainable>>();
const beforeDrain = new Set<() => void>();
const registry = new FinalizationRegistry<WeakRef<ExitDrainable>>((ref) => {
  live.delete(ref);
  uninstallIfIdle();
});
let installed = false;
let watching = false;
let exiting = false;
/** A background thread that was told to stop at a safe point (abandonThreadAtExit). */
export interface StoppingThread {
  /** Its OS thread id (0 if unknown). */
  tid: number;
  /** True once it waits where Node's own exit can end it (stopped, or idle). */
  settled(): boolean;
  /** Asks the runtime to stop its JavaScript; false when that is unsafe now (inside a native library). */
  terminate(): boolean;
}

const abandoned = new Map<object, StoppingThread>();

function onExit(code: number): void {
  if (exiting) return;
  exiting = true;
  for (const fn of [...beforeDrain]) {
    try {
      fn();
    } catch {
      /* never turn an exit into a crash */
    }
  }
  for (const ref of [...live]) {
    const target = ref.deref();
    if (!target) continue;
    try {
      target.drainOnExit();
    } catch {
      /* never turn an exit into a crash */
    }
  }
  if (abandoned.size > 0 && !threadsJoinable([...abandoned.values()])) endWithoutJoining(code);
}

const SETTLE_WAIT_MS = 250;

/**
 * Whether Node's own exit can join every stopping thread. Each gets SETTLE_WAIT_MS to reach a
 * safe point; one still busy is terminated if that is safe (it was running JavaScript) and gets as
 * long again to end. One inside a call that never returns cannot be joined: false.
 */
function threadsJoinable(threads: StoppingThread[]): boolean {
  const gone = (t: StoppingThread): boolean => t.tid !== 0 && process.platform === 'linux' && !existsSync(`/proc/self/task/${t.tid}`);
  if (waitUntil(() => threads.every((t) => t.settled() || gone(t)), SETTLE_WAIT_MS)) return true;
  const busy = threads.filter((t) => !t.settled() && !gone(t));
  if (!busy.every((t) => t.terminate())) return false;
  // Ended for sure only when the OS no longer lists it (Linux); elsewhere it cannot be told.
  return waitUntil(() => busy.every(gone), SETTLE_WAIT_MS);
}

function waitUntil(done: () => boolean, ms: number): boolean {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + ms;
  for (;;) {
    if (done()) return true;
    if (Date.now() >= deadline) return false;
    Atomics.wait(nap, 0, 0, 5);
  }
}

/**
 * Runs the 'exit' listeners after ours (the app's), as Node would, then ends the process with the
 * exit code they leave — skipping only Node's join of the stuck thread.
 */
function endWithoutJoining(code: number): void {
  const all = process.listeners('exit');
  const rest = all.slice(all.indexOf(onExit as (...a: any[]) => void) + 1);
  for (const listener of rest) {
    try {
      listener.call(process, code);
    } catch (e) {
      // What Node does with an exception thrown by an 'exit' listener: print it, exit code 7.
      try {
        process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
      } catch {
        /* stderr closed */
      }
      process.exitCode = 7;
    }
  }
  // Node prints an uncaught error after the 'exit' listeners: so do we, before ending.
  printFatalError();
  const final = process.exitCode;
  hardExit(typeof final === 'number' ? final : final !== undefined && final !== null && final !== '' ? Number(final) || 0 : code);
}

function install(): void {
  if (installed) return;
  // First in line: the drain must happen before app listeners that may log or exit.
  process.prependListener('exit', onExit);
  installed = true;
  if (!watching) {
    watching = true;
    watchFatalErrors();
  }
}

function uninstallIfIdle(): void {
  if (installed && live.size === 0 && beforeDrain.size === 0 && abandoned.size === 0) {
    process.removeListener('exit', onExit);
    installed = false;
  }
}

/** Runs `target.drainOnExit()` when the process exits; the returned function cancels it. */
export function drainOnExit(target: ExitDrainable): () => void {
  const ref = new WeakRef(target);
  live.add(ref);
  registry.register(target, ref, ref);
  install();
  return () => {
    live.delete(ref);
    registry.unregister(ref);
    uninstallIfIdle();
  };
}

/** Runs `fn` on process 'exit' before the sinks drain (it may still hand them calls). */
export function beforeExitDrain(fn: () => void): () => void {
  beforeDrain.add(fn);
  install();
  return () => {
    beforeDrain.delete(fn);
    uninstallIfIdle();
  };
}

/**
 * A background thread (`owner` identifies it; `tid` is its OS thread id, 0 if unknown) was told
 * to stop at a safe point. At exit it is given a moment to get there; if it does not, the process
 * ends without waiting for it.
 */
export function abandonThreadAtExit(owner: object, thread: StoppingThread): void {
  abandoned.set(owner, thread);
  install();
}
