import { defineConfig } from 'vitest/config';

// The suite: unit tests in process, and process-level tests that launch real apps (real openai SDK,
// real SQLite files, real HTTP over loopback). Each file runs in its own child process (pool
// 'forks', like `node --test`): llm-otel installs process-wide hooks and threads.
export default defineConfig({
  test: {
    include: ['test/[0-9][0-9]-*.test.mjs'],
    pool: 'forks',
    maxWorkers: 2,
    // Process-level tests start apps (and under load a background thread) many times over.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    teardownTimeout: 30_000,
    // The package's own build is loaded by Node itself, as an app loads it, not transformed by Vite.
    server: { deps: { external: [/\/dist\/(esm|cjs)\//] } },
    reporters: ['default'],
  },
});
