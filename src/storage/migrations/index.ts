import type { Kysely, Migration } from 'kysely';
import type { DialectName } from '../database.js';
import * as initial from './0001-initial.js';
import * as email from './0002-email.js';
import * as imports from './0003-imports.js';
import * as idempotency from './0004-idempotency.js';
import * as scim from './0005-scim.js';
import * as audit from './0006-audit.js';
import * as groups from './0009-groups.js';
import * as fleet from './0010-fleet.js';
import * as importSources from './0011-import-sources.js';
import * as importRowBlocks from './0012-import-row-blocks.js';

type DialectMigration = { up(db: Kysely<unknown>, dialect: DialectName): Promise<void> };

/** Append-only: a change to the schema is a new entry, never an edit of an old one. */
const MIGRATIONS: Record<string, DialectMigration> = {
  '0001-initial': initial,
  '0002-email': email,
  '0003-imports': imports,
  '0004-idempotency': idempotency,
  '0005-scim': scim,
  '0006-audit': audit,
  '0009-groups': groups,
  '0010-fleet': fleet,
  '0011-import-sources': importSources,
  '0012-import-row-blocks': importRowBlocks,
};

export function migrationsFor(dialect: DialectName): Record<string, Migration> {
  return Object.fromEntries(
    Object.entries(MIGRATIONS).map(([name, m]) => [name, { up: (db: Kysely<unknown>) => m.up(db, dialect) }]),
  );
}
