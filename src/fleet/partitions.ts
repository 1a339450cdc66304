// Day partitions of the event tables (llm_calls, llm_messages, llm_runs), made on demand before a
// batch needs them and a day ahead. Each is created in a short transaction of its own, under an
// advisory lock, holding nothing else: creating a partition locks its parent, so doing it inside a
// batch's transaction (which holds row locks on other tables) is how shippers deadlock.

import { dayOf, PARTITIONED_TABLES, partitionName, type SqlClient } from './schema.js';

/** pg_advisory_xact_lock key for partition creation ('LLOP'). */
export const PARTITION_LOCK = 0x4c4c4f50;

export class Partitions {
  /** Days whose three partitions are known to exist on this server. */
  private readonly known = new Set<string>();

  /** Forgets what exists (after a reconnect: the database may be another, or pruned). */
  reset(): void {
    this.known.clear();
  }

  /** The UTC day (YYYY-MM-DD) of an ISO time, or null when it is not one PostgreSQL can place. */
  static day(iso: string): string | null {
    const t = Date.parse(iso);
    if (!Number.isFinite(t) || t < Date.UTC(1, 0, 1) || t >= Date.UTC(10000, 0, 1)) return null;
    return dayOf(iso).day;
  }

  /** Makes sure each day has its partitions. */
  async ensure(client: SqlClient, days: Iterable<string>): Promise<void> {
    for (const day of days) {
      if (this.known.has(day)) continue;
      await this.create(client, day);
      this.known.add(day);
    }
  }

  /** Today's and tomorrow's (UTC), so that the usual batch never waits for a creation. */
  async ahead(client: SqlClient, now = Date.now()): Promise<void> {
    const today = new Date(now).toISOString();
    const tomorrow = new Date(now + 86_400_000).toISOString();
    await this.ensure(client, [dayOf(today).day, dayOf(tomorrow).day]);
  }

  private async create(client: SqlClient, day: string): Promise<void> {
    const next = dayOf(`${day}T00:00:00.000Z`).next;
    for (const table of PARTITIONED_TABLES) {
      const name = partitionName(table, day);
      // Most of the time it exists (another shipper made it): a catalog lookup, no lock.
      const found = await client.query('SELECT to_regclass($1) IS NOT NULL AS present', [name]);
      if (found.rows[0]?.present) continue;
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${name} PARTITION OF ${table} FOR VALUES FROM ('${day}T00:00:00Z') TO ('${next}T00:00:00Z')`,
        );
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    }
  }
}
