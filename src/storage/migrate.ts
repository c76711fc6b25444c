import { Migrator, type Kysely } from 'kysely';
import type { Db } from './database.js';
import { migrationsFor } from './migrations/index.js';

/**
 * Applies every pending migration; returns the names applied. Throws when one fails.
 * On PostgreSQL, Kysely's migration lock keeps two processes starting at once from both
 * migrating. On SQLite Kysely takes no lock (it assumes one connection), so the whole run
 * holds SQLite's write lock instead (BEGIN IMMEDIATE): a second process waits, then finds
 * nothing to do; and as SQLite's DDL is transactional, a failed run leaves nothing behind.
 */
export async function migrateToLatest(db: Db): Promise<string[]> {
  if (db.dialect === 'sqlite') return db.write((conn) => migrate(conn as unknown as Kysely<unknown>, db.dialect));
  return migrate(db.kysely as unknown as Kysely<unknown>, db.dialect);
}

async function migrate(kysely: Kysely<unknown>, dialect: Db['dialect']): Promise<string[]> {
  const migrator = new Migrator({
    db: kysely,
    provider: { getMigrations: async () => migrationsFor(dialect) },
    migrationTableName: 'muster_migrations',
    migrationLockTableName: 'muster_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
