// The contract between the thread host and the job it runs. A job module exports
// `createJob(context)`; the thread (worker.ts) feeds it the items of each batch and forwards the
// app's requests. Everything a job does happens on the background thread.

import type { Warner } from '../core/warn.js';

export interface JobContext {
  /** The job's options, as the app's side gave them (cloneable data). */
  options: unknown;
  /** Warnings reach the app's stderr once, through the app's thread. */
  warner: Warner;
  /** Says what the thread is doing now (one of the job's activities, or 'idle'). */
  setActivity(activity: string): void;
  /** What the thread said it is doing. */
  activity(): string;
  /** Stops the thread here if the app's thread asked it to (a safe point: no native call under way). */
  stopIfAsked(): void;
  /** Reports how many items the job holds and has dropped (the app's thread reads them). */
  report(pending: number, dropped: number): void;
}

export interface ThreadJob {
  /** One item of a batch. */
  take(item: unknown): void;
  /**
   * A synchronous flush the app's thread waits for: write what can be written by `deadline`
   * (epoch ms). `exit`: the process is ending — afterwards the job writes only when asked.
   * `rows: false`: nothing needs writing now, only answering after the items before it.
   * A promise (network work, e.g. the fleet shipper's last round at exit) is answered when it
   * settles or at `deadline`, whichever comes first: the thread's event loop runs meanwhile.
   */
  flush(request: { exit: boolean; rows: boolean; deadline: number }): void | Promise<void>;
  /** A named asynchronous request (e.g. 'export'); resolves when done. */
  call?(name: string): Promise<void>;
  /** Final flush and close: what must be written, synchronously; what may follow (a network send) in the promise. */
  close(): void | Promise<void>;
}

export type CreateJob = (context: JobContext) => ThreadJob | Promise<ThreadJob>;
