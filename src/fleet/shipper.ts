// The shipper: copies new call-log rows to the fleet database, on llm-otel's background thread.
// The app's thread never waits for it (it writes only the local spool); this thread's event loop
// runs it between batches. One round: connect if needed (migrating the schema, making today's
// and tomorrow's partitions), then batches of rows after the stored watermark, each in one
// transaction, until none is left. Failures back off with jitter; each change of state — down,
// catching up, caught up — is one warning.

import type { CallLogItem } from '../../exporter/rows.js';
import { errorMessage, type Warner } from '../core/warn.js';
import { BatchApplier, storedWatermark, type WriterInfo } from './apply.js';
import { isEmpty, type ShipBatch, type Watermark } from './batch.js';
import { connect, displayUrl, type FleetConnection } from './connect.js';
import { MemoryQueue } from './memory.js';
import { Partitions } from './partitions.js';
import { pgMigrate } from './schema.js';
import { SpoolReader } from './spool.js';

export interface ShipperOptions {
  url: string;
  /** The spool (the SQLite call log); null: rows come from a memory queue (push()). */
  spool: string | null;
  warner: Warner;
  /** Most calls per transaction (default 500). */
  maxCalls?: number;
  /** A round every this often (ms, default 1000); sooner when a batch's worth is waiting (nudge). */
  intervalMs?: number;
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** Most calls the memory queue holds (default 10000). */
  memoryMaxItems?: number;
  /** Told when a synchronous read of the spool starts and ends (the thread must not be ended inside it). */
  onReading?: (reading: boolean) => void;
}

type State = 'starting' | 'up' | 'down' | 'catching up';

const KEY_DOWN = 'fleet:down';
const KEY_CATCHING_UP = 'fleet:catching-up';
const KEY_CAUGHT_UP = 'fleet:caught-up';
const KEY_DROPPED = 'fleet:dropped';
const KEY_PARKED = 'fleet:parked';
const KEY_SPOOL = 'fleet:spool';

export class Shipper {
  private readonly o: Required<Omit<ShipperOptions, 'spool' | 'onReading'>> & Pick<ShipperOptions, 'spool' | 'onReading'>;
  private readonly where: string;
  private readonly spool: SpoolReader | null;
  readonly memory: MemoryQueue | null;
  private readonly partitions = new Partitions();
  private applier: BatchApplier | null = null;
  private writer: WriterInfo | null = null;
  private conn: FleetConnection | null = null;
  private watermark: Watermark | null = null;
  private state: State = 'starting';
  private backoffMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private stopped = false;
  /** Calls shipped since the database came back (for the "caught up" line). */
  private shippedSinceDown = 0;
  private aheadDay = '';
  /** The last round ended with nothing left to ship. */
  private empty = false;
  /** The round shipped rows: the next comes sooner (rows are arriving). */
  private busy = false;
  private spoolWarned = false;
  private ended = false;
  /** The memory queue's drop count as last shipped. */
  private droppedShipped = 0;
  /** Durations of successful flushes (ms), the latest first dropped past 4096: for benchmarks. */
  readonly flushMs: number[] = [];

  constructor(opts: ShipperOptions) {
    this.o = {
      maxCalls: 500,
      intervalMs: 1000,
      connectTimeoutMs: 5000,
      statementTimeoutMs: 15_000,
      backoffMinMs: 250,
      backoffMaxMs: 5000,
      memoryMaxItems: 10_000,
      ...opts,
    } as Shipper['o'];
    this.where = displayUrl(opts.url);
    this.spool = opts.spool
      ? new SpoolReader({ path: opts.spool, maxCalls: this.o.maxCalls, ...(opts.onReading ? { onActivity: opts.onReading } : {}) })
      : null;
    this.memory = opts.spool
      ? null
      : new MemoryQueue({
          maxItems: this.o.memoryMaxItems,
          maxCalls: this.o.maxCalls,
          onDrop: (n) =>
            this.o.warner.warn(
              KEY_DROPPED,
              `fleet mode without a spool: the in-memory queue for ${this.where} is full; the oldest calls are dropped (${n} so far, counted in llm_otel_writers.dropped_calls)`,
            ),
        });
  }

  /** Starts shipping (the first round soon). */
  start(): void {
    this.schedule(0);
  }

  /** A row for the memory queue (no spool); `keep`: stored in llm_calls (sampling). */
  push(item: CallLogItem, keep: boolean): void {
    this.memory?.push(item, keep);
  }

  /** Rows were written: if a batch's worth may be waiting and no round is due soon, start one. */
  nudge(): void {
    if (this.stopped || this.round || this.backoffMs > 0) return;
    if (this.memory && this.memory.pending < this.o.maxCalls) return;
    this.schedule(0);
  }

  /**
   * At exit: one more round within `budgetMs` (what it does not ship stays in the spool for the
   * next start), then no more. Resolves by the budget whatever the database does.
   */
  async finish(budgetMs: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // A database known to be down is not waited for.
    if (budgetMs <= 0 || (this.state === 'down' && !this.round)) return this.end();
    const deadline = Date.now() + budgetMs;
    let t: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((r) => (t = setTimeout(r, budgetMs)));
    // The round under way read its rows before the exit's drain wrote the last ones: then one more.
    let timedOut = false;
    for (let i = 0; i < 8 && Date.now() < deadline && this.state !== 'down'; i++) {
      const work = this.round ?? this.runRound();
      timedOut = await Promise.race([work.then(() => false), expired.then(() => true)]);
      if (timedOut || this.empty) break;
    }
    clearTimeout(t);
    // A database that never answered a short-lived app (still connecting, no error yet) must not
    // pass in silence: nothing is lost — the spool keeps the calls — but nothing reached it either.
    if (timedOut && this.state === 'starting') {
      this.o.warner.warn(
        KEY_DOWN,
        `fleet database ${this.where} had no answer before the app ended; calls are kept ${this.spool ? `in the spool ${this.o.spool} and shipped by the next run` : 'in memory and lost at exit'} (the app is not affected)`,
      );
    }
    this.end();
  }

  /** Stops at once (the connection is dropped; nothing waits). */
  close(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.end();
  }

  private end(): void {
    this.ended = true;
    this.conn?.destroy();
    this.conn = null;
    this.spool?.close();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.round) void this.runRound();
    }, ms);
    this.timer.unref();
  }

  private runRound(): Promise<void> {
    this.busy = false;
    const r = this.shipAll()
      .then(
        () => {
          this.backoffMs = 0;
          // While rows keep coming, a round every quarter interval: the lag stays short.
          return this.busy ? Math.ceil(this.o.intervalMs / 4) : this.o.intervalMs;
        },
        (e: unknown) => {
          this.failed(e);
          return this.backoffMs;
        },
      )
      .then((next) => {
        this.round = null;
        this.schedule(next);
      });
    this.round = r;
    return r;
  }

  private async shipAll(): Promise<void> {
    const conn = await this.connection();
    const client = conn.client;
    if (this.spool && this.watermark === null) this.watermark = await storedWatermark(client, this.writer!);
    const today = new Date().toISOString().slice(0, 10);
    if (today !== this.aheadDay) {
      await this.partitions.ahead(client);
      this.aheadDay = today;
    }
    for (;;) {
      const batch = this.next();
      this.empty = isEmpty(batch) && batch.dropped === this.droppedShipped;
      if (this.empty) {
        this.caughtUp();
        return;
      }
      if (this.conn !== conn) throw new Error('the connection was lost');
      const started = performance.now();
      const result = await this.applier!.apply(client, batch);
      if (result.kind === 'busy') return; // another process ships this spool now: its turn
      if (result.kind === 'moved') {
        this.watermark = result.stored;
        continue;
      }
      this.record(performance.now() - started);
      this.droppedShipped = batch.dropped;
      this.busy = true;
      if (this.spool) this.watermark = batch.to;
      else this.memory!.ack();
      this.shippedSinceDown += result.inserted;
      if (result.parked.length > 0) {
        this.o.warner.warn(
          KEY_PARKED,
          `${this.where} refused a row (${result.parked[0]!.error}); it was set aside in llm_otel_parked so later rows are not held up (counted in llm_otel_writers.parked_rows)`,
        );
      }
      if (this.state === 'down') this.comingBack(batch);
      // A backlog: the next batch at once, but let other work on this thread run in between.
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  private next(): ShipBatch {
    if (!this.spool) return this.memory!.next();
    const spool = this.spool;
    return this.fromSpool(() => spool.read(this.watermark!));
  }

  /** A read of the spool; its trouble is the spool's, not the database's: its own line, a retry later. */
  private fromSpool<T>(read: () => T): T {
    try {
      const v = read();
      if (this.spoolWarned) {
        this.spoolWarned = false;
        this.o.warner.reset(KEY_SPOOL);
      }
      return v;
    } catch (e) {
      this.spoolWarned = true;
      this.o.warner.warn(KEY_SPOOL, `fleet mode: cannot read the spool ${this.o.spool} (${errorMessage(e)}); shipping resumes when it can`);
      throw Object.assign(new Error(errorMessage(e)), { spool: true });
    }
  }

  private async connection(): Promise<FleetConnection> {
    if (this.conn) return this.conn;
    const spool = this.spool;
    const writer: WriterInfo = spool
      ? { writerId: this.fromSpool(() => spool.writerId()), source: this.o.spool! }
      : { writerId: this.memory!.writerId, source: 'memory' };
    const conn = await connect({
      url: this.o.url,
      connectTimeoutMs: this.o.connectTimeoutMs,
      statementTimeoutMs: this.o.statementTimeoutMs,
      onBroken: (e) => {
        if (this.conn === conn) {
          this.conn = null;
          conn.destroy();
          this.failed(e);
        }
      },
    });
    try {
      await pgMigrate(conn.client, this.where);
    } catch (e) {
      conn.destroy();
      throw e;
    }
    this.conn = conn;
    this.writer = writer;
    this.applier ??= new BatchApplier(this.partitions, writer);
    this.partitions.reset();
    this.aheadDay = '';
    // The stored watermark is read again on every connection: another process may have shipped.
    this.watermark = null;
    return conn;
  }

  private record(ms: number): void {
    this.flushMs.push(ms);
    if (this.flushMs.length > 4096) this.flushMs.splice(0, this.flushMs.length - 4096);
  }

  private failed(e: unknown): void {
    this.conn?.destroy();
    this.conn = null;
    // Ended on purpose (the connection destroyed at exit): what the round in flight says is not news.
    if (this.ended) return;
    const min = this.o.backoffMinMs;
    const base = this.backoffMs === 0 ? min : Math.min(this.o.backoffMaxMs, this.backoffMs * 2);
    // Jitter: shippers of a fleet that lost the database together do not come back in step.
    this.backoffMs = Math.round(base / 2 + (Math.random() * base) / 2);
    if (this.state === 'down' || (e as { spool?: boolean } | null)?.spool === true) return;
    this.state = 'down';
    this.shippedSinceDown = 0;
    this.o.warner.reset(KEY_CATCHING_UP);
    this.o.warner.reset(KEY_CAUGHT_UP);
    this.o.warner.warn(
      KEY_DOWN,
      `fleet database ${this.where} cannot be reached (${errorMessage(e)}); calls are kept ${this.spool ? `in the spool ${this.o.spool}` : 'in memory (bounded)'} and shipped when it is back (the app is not affected)`,
    );
  }

  private comingBack(batch: ShipBatch): void {
    this.state = 'catching up';
    this.o.warner.reset(KEY_DOWN);
    if (!batch.more) return; // nothing to catch up on: "caught up" follows at once
    this.o.warner.warn(KEY_CATCHING_UP, `fleet database ${this.where} is reachable again; shipping the calls kept meanwhile`);
  }

  private caughtUp(): void {
    if (this.state === 'up') return;
    const was = this.state;
    this.state = 'up';
    if (was === 'starting') return;
    this.o.warner.reset(KEY_DOWN);
    this.o.warner.reset(KEY_CATCHING_UP);
    this.o.warner.warn(
      KEY_CAUGHT_UP,
      `fleet database ${this.where}: caught up (${this.shippedSinceDown} calls shipped since it came back)`,
    );
  }
}

/** The shipper's share of an exit's budget (ms): what is left after the spool's drain, at most this. */
export const EXIT_SHARE_MS = 500;
