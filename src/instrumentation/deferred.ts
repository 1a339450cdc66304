// Work that may wait until after the app's own continuation: finishing a span (output content,
// token estimates, attribute maps) runs in one setImmediate batch, not inside the `await` the app
// is waiting on. Exit paths drain the batch synchronously (flushDeferred), so nothing is lost.

const KEY = Symbol.for('llm-otel.deferred');
interface Queue {
  jobs: Array<() => void>;
  scheduled: boolean;
}
const g = globalThis as unknown as Record<symbol, Queue | undefined>;
const q: Queue = (g[KEY] ??= { jobs: [], scheduled: false });

function run(): void {
  q.scheduled = false;
  const jobs = q.jobs;
  q.jobs = [];
  for (const job of jobs) {
    try {
      job();
    } catch {
      /* a failed job never affects the others or the app */
    }
  }
}

export function defer(job: () => void): void {
  q.jobs.push(job);
  if (!q.scheduled) {
    q.scheduled = true;
    setImmediate(run).unref();
  }
}

/** Runs every queued job now (shutdown, beforeExit, exit). */
export function flushDeferred(): void {
  while (q.jobs.length > 0) run();
}
