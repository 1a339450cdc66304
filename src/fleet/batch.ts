// What one flush ships: rows in the call log's own shape (column names as in SQLite), and where
// the writer's shipping stands before and after them.

export type Row = Record<string, unknown>;

export interface Watermark {
  /** The last llm_calls.id of the source shipped. */
  callId: number;
  /** The last llm_runs.id shipped. */
  runId: number;
  /** The last ledger change_seq shipped. */
  ledgerSeq: number;
}

export interface CallWithMessages {
  call: Row;
  messages: Row[];
}

export interface ShipBatch {
  calls: CallWithMessages[];
  runs: Row[];
  /** model_prices rows named by the calls (with price_key). */
  prices: Row[];
  hourly: Row[];
  sessions: Row[];
  /** The watermark the batch starts from (null: a memory queue, which has none). */
  from: Watermark | null;
  /** The watermark once it is shipped. */
  to: Watermark;
  /** The source dropped this many calls so far (memory queue). */
  dropped: number;
  /** More rows were waiting beyond this batch. */
  more: boolean;
}

export function isEmpty(b: ShipBatch): boolean {
  return b.calls.length === 0 && b.runs.length === 0 && b.hourly.length === 0 && b.sessions.length === 0;
}
