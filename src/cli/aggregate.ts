// Cost figures shared by the verbs that print grouped totals.

/** Single-currency total, or null; 'mixed' currency when several. */
export function costSummary(costs: Record<string, number>): { cost: number | null; currency: string | null } {
  const entries = Object.entries(costs);
  if (entries.length === 0) return { cost: null, currency: null };
  if (entries.length === 1) return { cost: round(entries[0]![1]), currency: entries[0]![0] };
  return { cost: null, currency: 'mixed' };
}

export function round(x: number, digits = 10): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
