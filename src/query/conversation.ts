// A session as one conversation: chat APIs re-send the whole history with every call, so each
// call's input starts with messages an earlier call already sent or received. Those are left out
// (counted), and only what is new is shown, in order. Store-neutral.

import type { Row } from './types.js';

export interface ConversationTurn {
  call: Row;
  /** Input messages that repeat an earlier call's messages (left out of `messages`). */
  repeated: number;
  /** New input messages, then the call's output messages. */
  messages: Row[];
}

function sig(m: Row): string {
  return JSON.stringify([m.role ?? null, m.content ?? null, m.tool_calls ?? null, m.tool_call_id ?? null, m.name ?? null]);
}

/**
 * `calls` in time order; `messages` by call id (inputs then outputs, each by position). For each call,
 * the longest prefix of its inputs equal to the start of an earlier call's transcript (its inputs
 * followed by its outputs) is counted as repeated.
 */
export function conversation(calls: readonly Row[], messages: ReadonlyMap<number, readonly Row[]>): ConversationTurn[] {
  const transcripts: string[][] = [];
  const turns: ConversationTurn[] = [];
  for (const call of calls) {
    const all = messages.get(Number(call.id)) ?? [];
    const inputs = all.filter((m) => m.direction !== 'output');
    const outputs = all.filter((m) => m.direction === 'output');
    const sigs = inputs.map(sig);
    let repeated = 0;
    // Most recent first: the usual case (the previous turn) matches at once. Bounded per call.
    for (let t = transcripts.length - 1, tries = 0; t >= 0 && tries < 200; t--, tries++) {
      const prev = transcripts[t]!;
      let k = 0;
      while (k < sigs.length && k < prev.length && sigs[k] === prev[k]) k++;
      if (k > repeated) repeated = k;
      if (repeated === sigs.length) break;
    }
    transcripts.push([...sigs, ...outputs.map(sig)]);
    turns.push({ call, repeated, messages: [...inputs.slice(repeated), ...outputs] });
  }
  return turns;
}
