// CallLogWriter: the only code that writes the call log. One transaction per batch: calls,
// messages, runs and the hourly rollup commit together or not at all, so the rollup always
// equals what happened. It never throws: a batch it cannot write now is reported back (false)
// and the caller keeps it for a retry on an unref'd backoff.

import { closeSync, constants as fsConstants, openSync, readSync, type Stats, statSync, writeSync } from 'node:fs';
import type { Statement, Transaction } from 'better-sqlite3';
import { openAppendRegular } from '../src/core/files.js';
import { defaultWarner, errorMessage, type Warner } from '../src/core/warn.js';
import { type Db, openForWriting } from './open.js';
import {
  CALL_COLUMNS,
  type CallItem,
  type CallLogItem,
  type CallRow,
  callValues,
  MESSAGE_COLUMNS,
  type MessageRow,
  messageValues,
  RUN_COLUMNS,
} from './rows.js';
import { APPLICATION_ID, ForeignDatabaseError, SchemaVersionError } from './schema.js';

export { defaultWarner, type Warner };

import { estimateTextTokens } from '../src/tokens/index.js';

export interface PriceResult {
  cost: number | null;
  currency: string | null;
  priceId: number | null;
}
/** Prices a call that arrived without `llm_otel.cost`. `db` is the open call log (null if none). */
export type PriceHook = (call: Readonly<CallRow>, db: Db | null) => PriceResult | null;
/** Token count estimate of one message's content (the cli helper supplies a tokenizer-based one). */
export type EstimateTokens = (text: string, model?: string) => number;
/** Where warnings go: `warn` prints once per key, `reset` re-arms a key after recovery. */

export interface CallLogWriterOptions {
  /** SQLite file of the call log; null writes no DB (e.g. JSONL only). */
  path: string | null;
  /**
   * Fraction (0..1) of successful calls kept in `llm_calls`/`llm_messages`/JSONL. Calls whose status
   * is not `ok` and all runs are always kept. Decided from a hash of the trace id, so the ok calls
   * of one trace are kept or dropped together. `llm_usage_hourly` counts every call, sampled or not.
   */
  sampleRate?: number;
  /** Also append one JSON object per kept call (the call row plus `messages`) to this file. */
  jsonl?: string | null;
  price?: PriceHook;
  /**
   * Fills `llm_messages.token_estimate`: a function, or 'builtin' for llm-otel's gpt-tokenizer
   * estimate (works on the writer thread; costs roughly 50–100 µs per message there). Default: none.
   */
  estimateTokens?: EstimateTokens | 'builtin';
  /**
   * Lock wait of ordinary flushes (ms). Default 50 on the app's thread (it blocks the app) and
   * 1000 on the writer thread.
   */
  busyTimeoutMs?: number;
  /** Extra pragmas applied on open (e.g. `{ cache_size: -8000 }`). */
  pragmas?: Readonly<Record<string, string | number>>;
  /**
   * Checkpoint the WAL at most this often (ms, default 1000), after a commit, instead of SQLite's
   * automatic checkpoint every 1000 pages: far fewer fsyncs and page copies (≈1.5× the insert rate).
   */
  checkpointIntervalMs?: number;
  /** A lock held by someone else is reported only once it lasts this long (ms, default 3000). */
  lockWarnAfterMs?: number;
  /** Backoff after a failure: first retry after retryMinMs, doubling up to retryMaxMs. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Warning sink (default: warnOnce / resetWarning from src/core/warn). */
  warner?: Warner;
  /**
   * Told what the writer is doing before each step that can block (the writer thread publishes it,
   * so the app's thread can say what a thread that stopped answering was stuck in).
   */
  onActivity?: (what: WriterActivity) => void;
}

/** The steps of a write that can block on the file system or on another process. */
export const WRITER_ACTIVITIES = [
  'preparing rows',
  'opening',
  'writing',
  'checkpointing',
  'closing',
  'appending to the JSONL file',
] as const;
export type WriterActivity = 'idle' | (typeof WRITER_ACTIVITIES)[number];
/** The steps inside better-sqlite3 (a thread must not be terminated there: it would abort the process). */
export const IN_SQLITE: readonly WriterActivity[] = ['opening', 'writing', 'checkpointing', 'closing'];

export interface WriteOptions {
  /** Ignore the backoff (exit drain, forceFlush). */
  force?: boolean;
  /** Lock wait for this batch (ms); the exit drain waits longer than ordinary flushes. */
  busyTimeoutMs?: number;
}

type Fault = 'busy' | 'full' | 'readonly' | 'corrupt' | 'cantopen' | 'version' | 'foreign' | 'other';

export interface Rollup {
  hour: string;
  service_name: string;
  provider: string;
  model: string;
  user_id: string;
  agent_name: string;
  /** '' for calls without a cost. */
  currency: string;
  calls: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cost: number | null;
  duration_ms_sum: number;
  duration_ms_max: number;
}

/** A batch's totals for one session (llm_usage_sessions). */
export interface SessionTotals {
  session_id: string;
  first_at: string;
  last_at: string;
  calls: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  /** The sum in `currency`; null when no call was priced or currencies were mixed. */
  cost: number | null;
  /** One currency, 'mixed', or null (no priced call). */
  currency: string | null;
  user_id: string | null;
  agent_name: string | null;
}

const ROLLUP_SQL = `
INSERT INTO llm_usage_hourly (hour, service_name, provider, model, user_id, agent_name, currency,
  calls, errors, input_tokens, output_tokens, cost, duration_ms_sum, duration_ms_max, change_seq)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (hour, service_name, provider, model, user_id, agent_name, currency) DO UPDATE SET
  change_seq = excluded.change_seq,
  calls = calls + excluded.calls,
  errors = errors + excluded.errors,
  input_tokens = input_tokens + excluded.input_tokens,
  output_tokens = output_tokens + excluded.output_tokens,
  cost = CASE WHEN excluded.cost IS NULL THEN llm_usage_hourly.cost
              WHEN llm_usage_hourly.cost IS NULL THEN excluded.cost
              ELSE llm_usage_hourly.cost + excluded.cost END,
  duration_ms_sum = duration_ms_sum + excluded.duration_ms_sum,
  duration_ms_max = max(duration_ms_max, excluded.duration_ms_max)`;

// Every SET expression sees the row as it was: `currency` and `cost` below are the old values.
const SESSION_SQL = `
INSERT INTO llm_usage_sessions (session_id, first_at, last_at, calls, errors, input_tokens, output_tokens, cost, currency, user_id, agent_name, change_seq)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (session_id) DO UPDATE SET
  change_seq = excluded.change_seq,
  first_at = min(first_at, excluded.first_at),
  last_at = max(last_at, excluded.last_at),
  calls = calls + excluded.calls,
  errors = errors + excluded.errors,
  input_tokens = input_tokens + excluded.input_tokens,
  output_tokens = output_tokens + excluded.output_tokens,
  cost = CASE WHEN excluded.currency IS NULL THEN cost
              WHEN currency IS NULL THEN excluded.cost
              WHEN currency = excluded.currency THEN cost + excluded.cost END,
  currency = CASE WHEN excluded.currency IS NULL THEN currency
                  WHEN currency IS NULL OR currency = excluded.currency THEN excluded.currency
                  ELSE 'mixed' END,
  user_id = CASE WHEN excluded.last_at >= last_at THEN coalesce(excluded.user_id, user_id) ELSE coalesce(user_id, excluded.user_id) END,
  agent_name = CASE WHEN excluded.last_at >= last_at THEN coalesce(excluded.agent_name, agent_name) ELSE coalesce(agent_name, excluded.agent_name) END`;

function insertSql(table: string, cols: readonly string[], orIgnore: boolean): string {
  return `INSERT ${orIgnore ? 'OR IGNORE ' : ''}INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`;
}

// The call's price_key is its price row's (looked up by price_id in the same transaction: the row
// that priced it lives in this file's model_prices).
const CALL_SQL = `INSERT OR IGNORE INTO llm_calls (${CALL_COLUMNS.join(', ')}, price_key) VALUES (${CALL_COLUMNS.map(() => '?').join(', ')}, (SELECT price_key FROM model_prices WHERE id = ?))`;

/** One step of the ledgers' change counter per transaction that touches them (change_seq). */
const NEXT_SEQ_SQL = "UPDATE llm_meta SET value = value + 1 WHERE key = 'ledger_seq' RETURNING value";

/** 32-bit FNV-1a: a stable hash so sampling does not depend on how ids were generated. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class CallLogWriter {
  readonly path: string | null;
  private readonly opts: CallLogWriterOptions;
  private readonly warner: Warner;
  private readonly sampleThreshold: number;
  private _db: Db | null = null;
  private stmts: {
    call: Statement;
    message: Statement;
    run: Statement;
    rollup: Statement;
    session: Statement;
    nextSeq: Statement;
  } | null = null;
  /** writeItems as a transaction of the open connection (made once per connection, not per batch). */
  private tx: Transaction<(items: readonly CallLogItem[]) => void> | null = null;
  private busyTimeoutNow = -1;
  private nextAttemptAt = 0;
  private lastCheckpoint = 0;
  private backoffMs = 0;
  private fault: Fault | null = null;
  private faultSince = 0;
  private faultWarned = false;
  private jsonlFd: number | null = null;
  /** Device and inode of the open file (null: in memory, or unknown). */
  private fileId: { dev: number; ino: number } | null = null;
  private jsonlFailed = false;
  private readonly jsonlDone = new WeakSet<object>();
  private closed = false;

  constructor(opts: CallLogWriterOptions) {
    this.opts = opts;
    this.path = opts.path;
    this.warner = opts.warner ?? defaultWarner;
    const rate = opts.sampleRate ?? 1;
    this.sampleThreshold = rate >= 0 ? Math.min(1, rate) : 1; // NaN or negative → keep everything
  }

  /** The open connection, or null while the DB is unavailable / not yet opened. */
  get db(): Db | null {
    return this._db;
  }

  /** The current problem (null when writing works). */
  get failing(): Fault | null {
    return this.fault;
  }
  /** Whether the current problem has been reported to the user. */
  get warnedFailure(): boolean {
    return this.faultWarned;
  }

  /** Whether a successful ("ok") call is kept by sampling. */
  keeps(call: Pick<CallRow, 'status' | 'trace_id'>): boolean {
    if (call.status !== 'ok' || this.sampleThreshold >= 1) return true;
    if (this.sampleThreshold <= 0) return false;
    return fnv1a(call.trace_id) / 0x100000000 < this.sampleThreshold;
  }

  /**
   * Writes the items in one transaction. Returns true when the writer is done with them (written,
   * duplicates ignored, or sampled out), false when they must be kept and offered again later.
   * Never throws.
   */
  writeBatch(items: readonly CallLogItem[], wo: WriteOptions = {}): boolean {
    if (this.closed) return true;
    if (items.length === 0) return true;
    try {
      return this.writeBatchNow(items, wo);
    } finally {
      this.opts.onActivity?.('idle');
    }
  }

  private writeBatchNow(items: readonly CallLogItem[], wo: WriteOptions): boolean {
    // Open first so the price hook can read model_prices; during a backoff the DB is not retried.
    const busyMs = wo.busyTimeoutMs ?? this.opts.busyTimeoutMs ?? 50;
    this.checkFile();
    const db = this.path !== null && (wo.force || Date.now() >= this.nextAttemptAt) ? this.open(busyMs, wo.force === true) : null;
    this.opts.onActivity?.('preparing rows');
    this.prepareItems(items); // JSONL does not wait for the DB
    if (this.path === null) return true;
    if (!db || !this.stmts || !this.tx) return false;
    try {
      this.opts.onActivity?.('writing');
      this.setBusyTimeout(busyMs);
      this.commit(items);
      this.recovered();
      this.maybeCheckpoint();
      return true;
    } catch (e) {
      const fault = classify(e);
      if (fault !== 'other') {
        this.failed(fault, e, wo.force === true);
        return false;
      }
      // Not an I/O problem: some row itself is bad. Write item by item so one bad row cannot block
      // the rest forever; the bad ones are dropped with a warning.
      return this.writeOneByOne(items, wo.force === true);
    }
  }

  /**
   * Closes the connection (checkpointing the WAL into the main file) but stays usable: the next
   * write reopens it. Used by the exit drain, after which late spans may still arrive.
   */
  release(): void {
    this.opts.onActivity?.('closing');
    this.closeDb();
    this.opts.onActivity?.('idle');
  }

  /** Closes the DB and the JSONL file for good. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.opts.onActivity?.('closing');
    this.closeDb();
    this.opts.onActivity?.('idle');
    if (this.jsonlFd !== null) {
      try {
        closeSync(this.jsonlFd);
      } catch {
        /* nothing to do */
      }
      this.jsonlFd = null;
    }
  }

  // ── preparing rows ─────────────────────────────────────────────────────────────────────────────

  /** Pricing, token estimates and the JSONL line: once per item, before the first DB attempt. */
  private prepareItems(items: readonly CallLogItem[]): void {
    let lines = '';
    for (const item of items) {
      if (item.kind !== 'call' || this.jsonlDone.has(item)) continue;
      this.jsonlDone.add(item);
      this.price(item.call);
      if (!this.keeps(item.call)) continue;
      this.estimate(item);
      if (this.opts.jsonl && !this.jsonlFailed) lines += jsonLine(item) + '\n';
    }
    if (lines) this.appendJsonl(lines);
  }

  private price(call: CallRow): void {
    const hook = this.opts.price;
    if (!hook || call.cost !== null) return;
    try {
      const r = hook(call, this._db);
      if (r) {
        call.cost = r.cost;
        call.currency = r.currency;
        call.price_id = r.priceId;
      }
    } catch (e) {
      this.warner.warn('price-hook', `pricing a call failed (${errorMessage(e)}); calls are stored without cost`);
    }
  }

  /** Token counts of recently seen message texts, per model; at most TOKEN_CACHE_MAX texts in all. */
  private readonly tokenCache = new Map<string, Map<string, number>>();
  private tokenCacheSize = 0;

  private estimate(item: CallItem): void {
    const opt = this.opts.estimateTokens;
    if (!opt) return;
    const fn: EstimateTokens = opt === 'builtin' ? estimateTextTokens : opt;
    const model = item.call.response_model ?? item.call.request_model ?? undefined;
    let counted: Map<string, number> | undefined;
    for (const m of item.messages) {
      if (m.content === null || m.token_estimate !== null) continue;
      try {
        // Chat apps resend the whole conversation each turn: count each distinct text once.
        counted ??= this.countedFor(model ?? '');
        let n = counted.get(m.content);
        if (n === undefined) {
          const c = fn(m.content, model);
          n = Number.isFinite(c) ? Math.round(c) : NaN;
          if (this.tokenCacheSize >= TOKEN_CACHE_MAX) {
            this.tokenCache.clear();
            this.tokenCacheSize = 0;
            counted = this.countedFor(model ?? '');
          }
          counted.set(m.content, n);
          this.tokenCacheSize++;
        }
        m.token_estimate = Number.isNaN(n) ? null : n;
      } catch (e) {
        this.warner.warn('token-estimate', `estimating tokens failed (${errorMessage(e)}); token_estimate left empty`);
        return;
      }
    }
  }

  private countedFor(model: string): Map<string, number> {
    let counted = this.tokenCache.get(model);
    if (!counted) {
      counted = new Map();
      this.tokenCache.set(model, counted);
    }
    return counted;
  }

  private appendJsonl(lines: string): void {
    try {
      this.opts.onActivity?.('appending to the JSONL file');
      // O_APPEND: concurrent processes appending whole lines do not interleave mid-line. Regular files
      // only: a FIFO or a device could block this thread (and the call log behind it) for good.
      this.jsonlFd ??= openAppendRegular(this.opts.jsonl!, 0o600);
      writeSync(this.jsonlFd, lines);
    } catch (e) {
      this.jsonlFailed = true;
      this.warner.warn(
        `jsonl:${this.opts.jsonl}`,
        `cannot append to the JSONL call log ${this.opts.jsonl} (${errorMessage(e)}); JSONL output is off`,
      );
    }
  }

  // ── the transaction ────────────────────────────────────────────────────────────────────────────

  private commit(items: readonly CallLogItem[]): void {
    // IMMEDIATE takes the write lock up front, so the busy timeout applies (a deferred transaction
    // upgrading from read to write can fail at once with SQLITE_BUSY in WAL mode).
    this.tx!.immediate(items);
  }

  /** The batch's transaction: calls, messages, runs and the hourly rollup, all or nothing. */
  private writeItems(items: readonly CallLogItem[]): void {
    const st = this.stmts!;
    const rollups = new Map<string, Rollup>();
    const sessions = new Map<string, SessionTotals>();
    for (const item of items) {
      if (item.kind === 'run') {
        st.run.run(RUN_COLUMNS.map((c) => item.run[c]));
        continue;
      }
      const call = item.call;
      if (this.keeps(call)) {
        const values: unknown[] = callValues(call);
        values.push(call.price_id);
        const r = st.call.run(values);
        if (r.changes === 0) continue; // already stored (a retried or repeated export): count once
        const id = r.lastInsertRowid;
        for (const m of item.messages) st.message.run(id, call.span_id, ...messageValues(m));
      }
      addRollup(rollups, call);
      addSession(sessions, call);
    }
    if (rollups.size === 0 && sessions.size === 0) return;
    const seq = (st.nextSeq.get() as { value: number } | undefined)?.value ?? 0;
    for (const u of rollups.values()) {
      st.rollup.run(
        u.hour,
        u.service_name,
        u.provider,
        u.model,
        u.user_id,
        u.agent_name,
        u.currency,
        u.calls,
        u.errors,
        u.input_tokens,
        u.output_tokens,
        u.cost,
        u.duration_ms_sum,
        u.duration_ms_max,
        seq,
      );
    }
    for (const t of sessions.values()) {
      st.session.run(
        t.session_id,
        t.first_at,
        t.last_at,
        t.calls,
        t.errors,
        t.input_tokens,
        t.output_tokens,
        t.cost,
        t.currency,
        t.user_id,
        t.agent_name,
        seq,
      );
    }
  }

  private writeOneByOne(items: readonly CallLogItem[], force: boolean): boolean {
    for (const item of items) {
      try {
        this.commit([item]);
      } catch (e) {
        const fault = classify(e);
        if (fault !== 'other') {
          this.failed(fault, e, force);
          return false; // I/O again: keep everything (rows already written are ignored on retry)
        }
        const id = item.kind === 'call' ? item.call.span_id : item.run.span_id;
        this.warner.warn(`bad-row:${this.path}`, `a call-log row could not be stored and was skipped (span ${id}: ${errorMessage(e)})`);
      }
    }
    this.recovered();
    return true;
  }

  // ── connection life cycle and faults ───────────────────────────────────────────────────────────

  private open(busyMs: number, force: boolean): Db | null {
    if (this._db) return this._db;
    try {
      this.opts.onActivity?.('opening');
      const db = openForWriting(this.path!, {
        busyTimeoutMs: busyMs,
        ...(this.opts.pragmas ? { pragmas: this.opts.pragmas } : {}),
      });
      this._db = db;
      this.busyTimeoutNow = busyMs;
      this.fileId = fileIdentity(this.path!);
      // Checkpoints are ours (maybeCheckpoint); the WAL file is cut back when it grew large.
      db.pragma('wal_autocheckpoint = 0');
      db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
      this.lastCheckpoint = Date.now();
      this.stmts = {
        call: db.prepare(CALL_SQL),
        message: db.prepare(insertSql('llm_messages', ['call_id', 'call_span_id', ...MESSAGE_COLUMNS], false)),
        run: db.prepare(insertSql('llm_runs', RUN_COLUMNS, true)),
        rollup: db.prepare(ROLLUP_SQL),
        session: db.prepare(SESSION_SQL),
        nextSeq: db.prepare(NEXT_SEQ_SQL),
      };
      this.tx = db.transaction((items: readonly CallLogItem[]) => this.writeItems(items));
      return db;
    } catch (e) {
      this.closeDb();
      this.failed(classify(e, true), e, force);
      return null;
    }
  }

  /**
   * Before each batch: is the file at `path` still the one open here? A call log deleted, moved
   * away or replaced while in use would otherwise swallow every later call (SQLite keeps writing
   * to the old file), and one overwritten in place would be damaged further. Closing the
   * connection makes the next write open whatever is at the path now, with all the usual checks.
   * (A stat and a 72-byte read: small beside the transaction.)
   */
  private checkFile(): void {
    if (!this._db || this.fileId === null) return;
    const change = fileChange(this.path!, this.fileId);
    if (!change) return;
    this.closeDb();
    this.warner.warn(
      `calllog:file-changed:${this.path}`,
      `call log ${this.path} ${change} while in use; later calls go to the file at that path now (created if missing)`,
    );
  }

  private maybeCheckpoint(): void {
    const now = Date.now();
    if (now - this.lastCheckpoint < (this.opts.checkpointIntervalMs ?? 1000)) return;
    this.lastCheckpoint = now;
    try {
      this.opts.onActivity?.('checkpointing');
      // PASSIVE: never waits for readers or other writers; what it cannot copy now, a later one will.
      this._db?.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      /* busy or I/O trouble: the next commit reports real problems */
    }
  }

  private setBusyTimeout(ms: number): void {
    if (ms === this.busyTimeoutNow || !this._db) return;
    this._db.pragma(`busy_timeout = ${Math.max(0, Math.floor(ms))}`);
    this.busyTimeoutNow = ms;
  }

  private closeDb(): void {
    const db = this._db;
    this._db = null;
    this.stmts = null;
    this.tx = null;
    if (db) {
      try {
        db.close();
      } catch {
        /* a broken handle: nothing more to do */
      }
    }
  }

  private failed(fault: Fault, e: unknown, force: boolean): void {
    // Transient faults keep the connection; the others reopen from scratch on the next attempt.
    if (fault !== 'busy' && fault !== 'full') this.closeDb();
    const min = this.opts.retryMinMs ?? 250;
    // A lock is another writer's turn, soon over: retried within a second, not after a growing pause
    // that would leave a backlog for the exit to write.
    const max = Math.min(this.opts.retryMaxMs ?? 30_000, fault === 'busy' ? BUSY_RETRY_MAX_MS : Infinity);
    this.backoffMs = this.backoffMs === 0 ? min : Math.min(max, this.backoffMs * 2);
    const now = Date.now();
    this.nextAttemptAt = now + this.backoffMs;
    if (this.fault !== fault) {
      if (this.fault) this.warner.reset(this.warnKey(this.fault));
      this.fault = fault;
      this.faultSince = now;
      this.faultWarned = false;
    }
    // Writers of one file take turns: a short wait for a lock is normal, not worth a warning.
    // Only a lock that outlasts the grace period (or the exit drain) is reported.
    if (fault === 'busy' && !force && now - this.faultSince < (this.opts.lockWarnAfterMs ?? 3000)) return;
    this.faultWarned = true;
    this.warner.warn(this.warnKey(fault), describe(fault, this.path!, e));
  }

  private recovered(): void {
    if (this.fault) this.warner.reset(this.warnKey(this.fault));
    this.fault = null;
    this.faultWarned = false;
    this.backoffMs = 0;
    this.nextAttemptAt = 0;
  }

  private warnKey(f: Fault): string {
    return `calllog:${f}:${this.path}`;
  }
}

function fileIdentity(path: string): { dev: number; ino: number } | null {
  if (path === ':memory:' || path === '') return null;
  try {
    const st = statSync(path);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return null;
  }
}

/** How the file at `path` differs from the one opened (`id`), or null when it is the same call log. */
function fileChange(path: string, id: { dev: number; ino: number }): string | null {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'was deleted or moved away' : null;
  }
  if (st.dev !== id.dev || st.ino !== id.ino) return 'was replaced by another file';
  // Same file: its header must still be SQLite's, with our application id (bytes 68–71) — or none
  // yet: in WAL mode a new file's header gets it only at the first checkpoint.
  let fd: number | undefined;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    const head = Buffer.alloc(72);
    const n = readSync(fd, head, 0, 72, 0);
    const appId = n < 72 ? -1 : head.readUInt32BE(68);
    if (n < 72 || head.toString('latin1', 0, 16) !== 'SQLite format 3\u0000' || (appId !== APPLICATION_ID && appId !== 0)) {
      return 'was overwritten';
    }
  } catch {
    return null; // unreadable now: the write itself will say what is wrong
  } finally {
    if (fd !== undefined)
      try {
        closeSync(fd);
      } catch {
        /* nothing to do */
      }
  }
  return null;
}

const BUSY_RETRY_MAX_MS = 1000;
/** Message texts whose token counts the writer keeps (then it starts over). */
const TOKEN_CACHE_MAX = 4096;

export function addRollup(map: Map<string, Rollup>, c: CallRow): void {
  const hour = c.started_at.slice(0, 13) + ':00:00.000Z';
  const model = c.request_model ?? c.response_model ?? '';
  const service = c.service_name ?? '';
  const provider = c.provider ?? '';
  const user = c.user_id ?? '';
  const agent = c.agent_name ?? '';
  const currency = c.cost === null ? '' : c.currency || 'USD';
  const key = `${hour}\u0000${service}\u0000${provider}\u0000${model}\u0000${user}\u0000${agent}\u0000${currency}`;
  let r = map.get(key);
  if (!r) {
    r = {
      hour,
      service_name: service,
      provider,
      model,
      user_id: user,
      agent_name: agent,
      currency,
      calls: 0,
      errors: 0,
      input_tokens: 0,
      output_tokens: 0,
      cost: null,
      duration_ms_sum: 0,
      duration_ms_max: 0,
    };
    map.set(key, r);
  }
  const d = c.duration_ms ?? 0;
  r.calls += 1;
  if (c.status !== 'ok') r.errors += 1;
  r.input_tokens += c.input_tokens ?? 0;
  r.output_tokens += c.output_tokens ?? 0;
  if (c.cost !== null) r.cost = (r.cost ?? 0) + c.cost;
  r.duration_ms_sum += d;
  if (d > r.duration_ms_max) r.duration_ms_max = d;
}

export function addSession(map: Map<string, SessionTotals>, c: CallRow): void {
  if (c.session_id === null || c.session_id === undefined) return;
  let t = map.get(c.session_id);
  if (!t) {
    t = {
      session_id: c.session_id,
      first_at: c.started_at,
      last_at: c.started_at,
      calls: 0,
      errors: 0,
      input_tokens: 0,
      output_tokens: 0,
      cost: null,
      currency: null,
      user_id: null,
      agent_name: null,
    };
    map.set(c.session_id, t);
  }
  t.calls += 1;
  if (c.status !== 'ok') t.errors += 1;
  t.input_tokens += c.input_tokens ?? 0;
  t.output_tokens += c.output_tokens ?? 0;
  if (c.started_at < t.first_at) t.first_at = c.started_at;
  if (c.started_at >= t.last_at) {
    t.last_at = c.started_at;
    t.user_id = c.user_id ?? t.user_id;
    t.agent_name = c.agent_name ?? t.agent_name;
  } else {
    t.user_id ??= c.user_id ?? null;
    t.agent_name ??= c.agent_name ?? null;
  }
  if (c.cost !== null) {
    const cur = c.currency || 'USD';
    if (t.currency === null) {
      t.currency = cur;
      t.cost = c.cost;
    } else if (t.currency === cur) t.cost = (t.cost ?? 0) + c.cost;
    else {
      t.currency = 'mixed';
      t.cost = null;
    }
  }
}

const JSON_COLUMNS = new Set(['tags', 'metadata', 'finish_reasons', 'attributes']);

/** The JSONL form of a call: the row with its JSON columns inlined as JSON, plus `messages`. */
function jsonLine(item: CallItem): string {
  const out: Record<string, unknown> = {};
  for (const c of CALL_COLUMNS) {
    const v = item.call[c];
    out[c] = JSON_COLUMNS.has(c) && typeof v === 'string' ? safeParse(v) : v;
  }
  out.messages = item.messages.map((m: MessageRow) => ({
    ...m,
    tool_calls: m.tool_calls === null ? null : safeParse(m.tool_calls),
  }));
  return JSON.stringify(out);
}

function safeParse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

function classify(e: unknown, opening = false): Fault {
  if (e instanceof SchemaVersionError) return 'version';
  if (e instanceof ForeignDatabaseError) return 'foreign';
  const code = String((e as { code?: unknown } | null)?.code ?? '');
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || (code === 'SQLITE_IOERR_WRITE' && /full/i.test(errorMessage(e)))) return 'full';
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS') return 'readonly';
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return 'corrupt';
  if (
    code.startsWith('SQLITE_CANTOPEN') ||
    code === 'EACCES' ||
    code === 'EPERM' ||
    code === 'ENOTDIR' ||
    code === 'ENOENT' ||
    code === 'EISDIR' ||
    code === 'ENOTREG' ||
    code === 'SQLITE_PERM' ||
    code === 'SQLITE_AUTH'
  )
    return 'cantopen';
  if (code.startsWith('SQLITE_IOERR')) return 'cantopen';
  // While opening, anything else still means "cannot use this file"; while writing it may be a bad row.
  return opening ? 'cantopen' : 'other';
}

function describe(f: Fault, path: string, e: unknown): string {
  const why = errorMessage(e);
  const kept = 'finished calls are kept in memory (bounded) and written when it works again';
  switch (f) {
    case 'busy':
      return `call log ${path} is locked by another process (${why}); ${kept}`;
    case 'full':
      return `call log ${path}: disk or database full (${why}); ${kept}`;
    case 'readonly':
      return `call log ${path} is read-only (${why}); ${kept}`;
    case 'corrupt':
      return `${path} is not a usable SQLite database (${why}); it was left untouched and call logging is paused. Move it away or point LLM_OTEL_DB at another file`;
    case 'cantopen':
      return `cannot open call log ${path} (${why}); ${kept}`;
    case 'version':
    case 'foreign':
      return `${why} Call logging is paused`;
    default:
      return `call log ${path}: ${why}`;
  }
}
