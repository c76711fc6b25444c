import { Migrator, type Kysely } from 'kysely';
import type { Db } from './database.js';
import { migrationsFor } from './migrations/index.js';

/** Applies every pending migration; returns the names applied. Throws when one fails. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({
    db: db.kysely as unknown as Kysely<unknown>,
    provider: { getMigrations: async () => migrationsFor(db.dialect) },
    migrationTableName: 'muster_migrations',
    migrationLockTableName: 'muster_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
