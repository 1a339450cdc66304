// Drop accounting for a bounded queue (the BatchSpanProcessor manner): one warning when drops start,
// and once there is room again one line saying how many were dropped. Both are rate-limited, so a
// queue hovering at its limit cannot flood the app's stderr.

import type { Warner } from './warn.js';

export class DropReporter {
  private total = 0;
  private sinceReport = 0;
  private lastReport = 0;

  constructor(
    private readonly warner: Warner,
    private readonly name: string,
    private readonly quietMs = 60_000,
  ) {}

  /** Drops since start. */
  get count(): number {
    return this.total;
  }

  /** Counts one drop; warns (once until the next report) unless `quiet` (already explained). */
  dropped(describe: () => string, quiet = false): void {
    this.total++;
    this.sinceReport++;
    if (!quiet) this.warner.warn(this.fullKey(), describe());
  }

  /** The queue has room again: report the drops (at most once per quietMs) and re-arm the warning. */
  recovered(): void {
    if (this.sinceReport === 0) return;
    const now = Date.now();
    if (this.lastReport !== 0 && now - this.lastReport < this.quietMs) return;
    const n = this.sinceReport;
    this.sinceReport = 0;
    this.lastReport = now;
    const key = `calllog:queue-recovered:${this.name}`;
    this.warner.reset(key);
    this.warner.warn(key, `call-log queue has room again; ${n} calls were dropped while it was full (${this.total} since start)`);
    this.warner.reset(this.fullKey());
  }

  private fullKey(): string {
    return `calllog:queue-full:${this.name}`;
  }
}
