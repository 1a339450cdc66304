// Ending the process when one of llm-otel's threads will not stop. Node's own exit joins every
// worker thread, and a thread inside a native call that never returns (a syscall on a hung file
// system, a native loop) cannot be interrupted, so the process would stay alive — deaf to
// SIGTERM — forever. C's exit() ends every thread at once: Node's WASI binding reaches it
// (proc_exit with returnOnExit: false), from any Node ≥ 20.

import { createRequire } from 'node:module';
import { join } from 'node:path';

/** A wasm module that only exports an empty `_initialize` and one page of `memory` (WASI needs both). */
const MINIMAL_REACTOR = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00, // magic, version
  0x01,
  0x04,
  0x01,
  0x60,
  0x00,
  0x00, // type section: () -> ()
  0x03,
  0x02,
  0x01,
  0x00, // function section: one function of type 0
  0x05,
  0x03,
  0x01,
  0x00,
  0x01, // memory section: one memory, min 1 page
  0x07,
  0x18,
  0x02, // export section, 2 exports
  0x06,
  0x6d,
  0x65,
  0x6d,
  0x6f,
  0x72,
  0x79,
  0x02,
  0x00, // "memory" → memory 0
  0x0b,
  0x5f,
  0x69,
  0x6e,
  0x69,
  0x74,
  0x69,
  0x61,
  0x6c,
  0x69,
  0x7a,
  0x65,
  0x00,
  0x00, // "_initialize" → func 0
  0x0a,
  0x04,
  0x01,
  0x02,
  0x00,
  0x0b, // code section: empty body
]);

function loadWasi(): any {
  const getBuiltin = (process as unknown as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  // Node 20 prints an ExperimentalWarning when node:wasi is first loaded: not the user's concern.
  const emitWarning = process.emitWarning;
  process.emitWarning = (() => undefined) as typeof process.emitWarning;
  try {
    return typeof getBuiltin === 'function' ? getBuiltin('node:wasi') : createRequire(join(process.cwd(), 'llm-otel-exit.js'))('node:wasi');
  } finally {
    process.emitWarning = emitWarning;
  }
}

/**
 * Ends the process now with `code`, without waiting for any thread. Only for the case where a
 * thread of ours is known to be stuck: it skips Node's own teardown (other threads are not joined).
 * If WASI is unavailable (a permission model that forbids it), SIGKILL still ends the process.
 */
export function hardExit(code: number): void {
  try {
    const { WASI } = loadWasi();
    const wasi = new WASI({ version: 'preview1', returnOnExit: false, args: [], env: {} });
    const wasm = (globalThis as any).WebAssembly; // not in the project's lib typings
    wasi.initialize(new wasm.Instance(new wasm.Module(MINIMAL_REACTOR), {}));
    wasi.wasiImport.proc_exit((code >>> 0) & 0xff);
  } catch {
    /* fall through */
  }
  process.kill(process.pid, 'SIGKILL');
}
