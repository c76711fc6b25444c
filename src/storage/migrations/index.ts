import type { Kysely, Migration } from 'kysely';
import type { DialectName } from '../database.js';
import * as initial from './0001-initial.js';
import * as email from './0002-email.js';

type DialectMigration = { up(db: Kysely<unknown>, dialect: DialectName): Promise<void> };

/** Append-only: a change to the schema is a new entry, never an edit of an old one. */
const MIGRATIONS: Record<string, DialectMigration> = {
  '0001-initial': initial,
  '0002-email': email,
};

export function migrationsFor(dialect: DialectName): Record<string, Migration> {
  return Object.fromEntries(
    Object.entries(MIGRATIONS).map(([name, m]) => [name, { up: (db: Kysely<unknown>) => m.up(db, dialect) }]),
  );
}
