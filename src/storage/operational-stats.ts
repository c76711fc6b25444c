import { sql } from 'kysely';
import type { Db } from './database.js';
import { migrationsFor } from './migrations/index.js';

/** What /readyz and /metrics read of the database: each a small query or a look at the pool. */
export interface OperationalStats {
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  /** Migrations this build knows that the database has not applied (empty when up to date). */
  pendingMigrations(): Promise<string[]>;
  /** Messages waiting in the outbox (pending or being sent) and given up for good. */
  outbox(): Promise<{ waiting: number; failed: number }>;
  /** Rows of queued and running import jobs not yet processed, and the age of the oldest such job in seconds (0 when none). */
  importBacklog(now: Date): Promise<{ rows: number; oldestSeconds: number }>;
  /** PostgreSQL: connections of this process's pool, open, idle and clients waiting for one. Undefined on SQLite (one connection). */
  pool(): { total: number; idle: number; waiting: number } | undefined;
}

export function createOperationalStats(db: Db): OperationalStats {
  const k = db.kysely;
  const known = Object.keys(migrationsFor(db.dialect));
  return {
    async ping() {
      await sql`select 1`.execute(k);
    },
    async pendingMigrations() {
      const applied = await sql<{ name: string }>`select name from muster_migrations`.execute(k).catch(() => ({ rows: [] as { name: string }[] }));
      const done = new Set(applied.rows.map((r) => r.name));
      return known.filter((name) => !done.has(name));
    },
    async outbox() {
      const rows = await k.selectFrom('email_messages').select(['status', (eb) => eb.fn.countAll().as('n')]).where('status', 'in', ['pending', 'sending', 'failed']).groupBy('status').execute();
      const count = (status: string) => Number(rows.find((r) => r.status === status)?.n ?? 0);
      return { waiting: count('pending') + count('sending'), failed: count('failed') };
    },
    async importBacklog(now) {
      const row = await k
        .selectFrom('import_jobs')
        .select([(eb) => eb.fn.sum<number>(sql`total - processed`).as('rows'), (eb) => eb.fn.min('created_at').as('oldest')])
        .where('state', 'in', ['queued', 'running'])
        .executeTakeFirst();
      const oldest = row?.oldest ? Date.parse(String(row.oldest)) : NaN;
      return { rows: Number(row?.rows ?? 0), oldestSeconds: Number.isNaN(oldest) ? 0 : Math.max(0, (now.getTime() - oldest) / 1000) };
    },
    pool() {
      const pool = db.pool;
      return pool ? { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount } : undefined;
    },
  };
}
