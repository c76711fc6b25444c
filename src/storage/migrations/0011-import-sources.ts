import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * Imports as their users expect them: `onConflict=update` counts the existing users it
 * changed (`import_jobs.updated`), and the errors report carries each failed row as it was
 * uploaded, so that a person fixes the rows in place. `import_rows.source` holds a CSV row's
 * cells by column name while it waits (JSON; a JSON or NDJSON row is its own source), and
 * `import_errors.source` the row as the report shows it. Neither ever holds a password: the
 * cells of password columns are left out before they are stored.
 */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('import_jobs').addColumn('updated', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('import_rows').addColumn('source', 'text').execute();
  await db.schema.alterTable('import_errors').addColumn('source', 'text').execute();
}
