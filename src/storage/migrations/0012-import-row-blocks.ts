import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * Imports stage an upload a block at a time: `import_row_blocks` holds each batch of rows as
 * it was parsed (up to a chunk's worth, rows `first_row` to `last_row`) as one JSON array,
 * sealed whole when any of its rows carries a password. A chunk reads its block in one row
 * and removes it in one row when it commits, where a row per user was written, read and
 * deleted before. Jobs staged before this migration keep their rows in `import_rows`, which is
 * still read (and cleaned up) for them.
 */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('import_row_blocks')
    .addColumn('job_id', 'text', (c) => c.notNull().references('import_jobs.id').onDelete('cascade'))
    .addColumn('first_row', 'bigint', (c) => c.notNull())
    .addColumn('last_row', 'bigint', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('import_row_blocks_pk', ['job_id', 'first_row'])
    .execute();
}
