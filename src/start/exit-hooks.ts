// Flushing at the end of the process without changing how it ends, and never holding it long.
// - 'exit' (normal end, process.exit(), uncaught exception): synchronous work only — open spans are
//   ended, then every call-log sink drains (src/thread/exit-guard.ts, which also ends the process itself
//   if a background thread stopped answering); OTLP cannot send from here.
// - 'beforeExit' (the loop ran dry): open calls are ended, then an async OTLP flush, capped, only
//   if spans ended since the last one. Rows are left to the exit drain (no second wait for the DB).
// - SIGTERM/SIGINT: if the app has its own handler, we only flush and leave the decision to it;
//   otherwise we flush (capped) and re-raise the signal so the exit code stays 128+signal.
// Every wait is bounded: the drain by the sink's exit budget, OTLP by capMs.

import { beforeExitDrain } from '../thread/exit-guard.js';

const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

export interface ExitHooks {
  /** Synchronous: end spans still open (their call will never finish now). */
  abandonOpen(): void;
  /** Synchronous: write everything queued to the local sinks (bounded). */
  drainSync(): void;
  /** Synchronous, when the process is about to end: as drainSync, and report what is lost. */
  drainFinal(): void;
  /** Async best-effort flush of OTLP (the rows are the drain's). */
  flush(): Promise<void>;
  /** Whether spans ended since the last flush. */
  dirty(): boolean;
  capMs: number;
  /** The capped flush ran out of time and the process ends anyway (say what was lost). */
  flushTimedOut?(): void;
}

/**
 * Waits for `p` at most `ms`; resolves true when it settled in time. The timer is deliberately
 * ref'd: it is what keeps the process alive while the flush runs over unref'd sockets.
 */
export function capped(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    p.then(
      () => {
        clearTimeout(t);
        resolve(true);
      },
      () => {
        clearTimeout(t);
        resolve(true);
      },
    );
  });
}

/**
 * process.exit() with the code a natural end would have had. An ESM app whose top-level await
 * never settled ends with 13: Node sets that from an 'exit' listener of its own, which
 * process.exit() removes first — so that listener is run instead (it sets 13, then exits).
 */
function endAsNaturalExit(): void {
  const unsettled = process.listeners('exit').find((l) => l.name === 'handleProcessExit');
  if (unsettled) (unsettled as () => void).call(process);
  else process.exit();
}

export function installExitHooks(h: ExitHooks): () => void {
  let done = false;
  const removeSignalHandlers = (): void => {
    for (const s of SIGNALS) process.removeListener(s, handlers[s]!);
  };
  // Runs on 'exit' just before the sinks drain, so the calls it ends are drained too.
  const cancelExitWork = beforeExitDrain(() => {
    if (done) return;
    done = true;
    // From here on a signal must end the process at once (default action), not wait for a
    // listener that can no longer run.
    removeSignalHandlers();
    try {
      h.abandonOpen();
    } catch {
      /* exit must proceed */
    }
  });
  let flushing = false;
  const onBeforeExit = () => {
    if (flushing || done) return;
    // The loop ran dry: nothing in flight can still finish (a pending request would keep it
    // alive), so calls still open — streams never read — end now and still reach OTLP.
    try {
      h.abandonOpen();
    } catch {
      /* best effort */
    }
    if (!h.dirty()) return;
    flushing = true;
    void capped(h.flush(), h.capMs).then((settled) => {
      flushing = false;
      // A dead or slow collector: its exporter's retry timers would hold the finished app for up to
      // the export timeout. The app had nothing left to do (that is what beforeExit means), so end
      // now, exactly as the natural exit would have: same exit code, same 'exit' listeners.
      if (!settled) {
        try {
          h.flushTimedOut?.();
        } catch {
          /* exit must proceed */
        }
        endAsNaturalExit();
      }
    });
  };
  const onSignal = (sig: NodeJS.Signals) => {
    const appHandlers = process.listeners(sig).filter((l) => l !== handlers[sig]);
    if (appHandlers.length > 0) {
      // The app owns this signal (it may keep running): flush, end nothing.
      try {
        h.drainSync();
      } catch {
        /* keep going */
      }
      void capped(h.flush(), h.capMs);
      return;
    }
    try {
      h.abandonOpen();
      h.drainFinal();
    } catch {
      /* keep going */
    }
    void capped(h.flush(), h.capMs)
      .then((settled) => {
        if (!settled)
          try {
            h.flushTimedOut?.();
          } catch {
            /* the signal must proceed */
          }
      })
      .finally(() => {
        removeSignalHandlers();
        process.kill(process.pid, sig); // default action: terminate with the signal
      });
  };
  const handlers: Partial<Record<NodeJS.Signals, (...a: any[]) => void>> = {};
  process.on('beforeExit', onBeforeExit);
  for (const s of SIGNALS) {
    handlers[s] = () => onSignal(s);
    process.on(s, handlers[s]!);
  }
  return () => {
    cancelExitWork();
    process.removeListener('beforeExit', onBeforeExit);
    removeSignalHandlers();
  };
}
