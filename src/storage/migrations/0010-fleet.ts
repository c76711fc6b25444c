import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * A fleet on one database.
 *
 * Rate-limit counters shared by every instance on one database: one row per limited subject
 * (a credential's id, a client address, a login), its points in the current window and the
 * window's end in epoch milliseconds. The columns are the ones rate-limiter-flexible's
 * PostgreSQL store reads and writes. Created on SQLite too, where a process is alone and keeps
 * its counters in memory, so that both databases have one schema.
 */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('rate_limits')
    .addColumn('key', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('points', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('expire', 'bigint')
    .execute();
  // How much each upload has staged, so that one tenant's uploads cannot take all the space.
  await db.schema.alterTable('import_jobs').addColumn('staged_bytes', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
}
