// Synchronous drain on process 'exit' without leaking: one listener per copy of this module, which
// holds sinks only through WeakRefs (the pino lib/transport.js idea). A sink that is garbage
// collected or shut down simply disappears from the set.

export interface ExitDrainable { drainOnExit(): void }

const live = new Set<WeakRef<ExitDrainable>>();
const registry = new FinalizationRegistry<WeakRef<ExitDrainable>>((ref) => {
  live.delete(ref);
  uninstallIfIdle();
});
let installed = false;

function onExit(): void {
  for (const ref of [...live]) {
    const target = ref.deref();
    if (!target) continue;
    try { target.drainOnExit(); } catch { /* never turn an exit into a crash */ }
  }
}

function uninstallIfIdle(): void {
  if (installed && live.size === 0) {
    process.removeListener('exit', onExit);
    installed = false;
  }
}

/** Runs `target.drainOnExit()` when the process exits; the returned function cancels it. */
export function drainOnExit(target: ExitDrainable): () => void {
  const ref = new WeakRef(target);
  live.add(ref);
  registry.register(target, ref, ref);
  if (!installed) {
    process.on('exit', onExit);
    installed = true;
  }
  return () => {
    live.delete(ref);
    registry.unregister(ref);
    uninstallIfIdle();
  };
}
