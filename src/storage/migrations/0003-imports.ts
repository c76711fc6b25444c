import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * Import jobs. An upload is staged row by row in `import_rows` before the job is accepted,
 * so it survives a crash and is shared by every server process of a PostgreSQL database.
 * `import_chunks` holds the chunks still to do (a chunk's row goes when it commits) and
 * who holds each while it runs; `import_errors` the report of failed rows.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('import_jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    // uploading and abandoned are internal; the API shows queued, running, completed, cancelled, failed.
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('dry_run', 'integer', (c) => c.notNull())
    .addColumn('notify', 'integer', (c) => c.notNull())
    .addColumn('on_conflict', 'text', (c) => c.notNull())
    .addColumn('actor_key_id', 'text', (c) => c.notNull())
    .addColumn('actor_role', 'text', (c) => c.notNull())
    .addColumn('actor_tenant_id', 'text')
    .addColumn('idempotency_key', 'text')
    .addColumn('body_sha256', 'text')
    // Encrypts the passwords of staged rows while they wait; deleted when the job ends.
    .addColumn('seal_key', 'text')
    .addColumn('total', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('processed', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('failed', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('skipped', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .addColumn('upload_lease_until', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text')
    .addColumn('finished_at', 'text')
    // Housekeeping has removed the staged rows and chunks of this ended job.
    .addColumn('cleaned', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // Several NULL keys are allowed on both databases: only given keys are unique.
  await db.schema.createIndex('import_jobs_idempotency').on('import_jobs').columns(['tenant_id', 'idempotency_key']).unique().execute();
  await db.schema.createIndex('import_jobs_tenant').on('import_jobs').columns(['tenant_id', 'created_at']).execute();
  await db.schema.createIndex('import_jobs_state').on('import_jobs').columns(['state', 'cleaned']).execute();

  await db.schema
    .createTable('import_rows')
    .addColumn('job_id', 'text', (c) => c.notNull().references('import_jobs.id').onDelete('cascade'))
    .addColumn('row_number', 'bigint', (c) => c.notNull())
    // The draft as JSON (its passwords sealed), or null when the row could not be read.
    .addColumn('data', 'text')
    // Why the row could not be read, as JSON, or null.
    .addColumn('problem', 'text')
    .addPrimaryKeyConstraint('import_rows_pk', ['job_id', 'row_number'])
    .execute();

  let chunks = db.schema.createTable('import_chunks');
  chunks =
    dialect === 'sqlite'
      ? chunks.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
      : chunks.addColumn('seq', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity());
  await chunks
    .addColumn('job_id', 'text', (c) => c.notNull().references('import_jobs.id').onDelete('cascade'))
    .addColumn('chunk_no', 'integer', (c) => c.notNull())
    .addColumn('first_row', 'bigint', (c) => c.notNull())
    .addColumn('last_row', 'bigint', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('import_chunks_job').on('import_chunks').columns(['job_id', 'chunk_no']).unique().execute();

  await db.schema
    .createTable('import_errors')
    .addColumn('job_id', 'text', (c) => c.notNull().references('import_jobs.id').onDelete('cascade'))
    .addColumn('row_number', 'bigint', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('import_errors_pk', ['job_id', 'row_number', 'seq'])
    .execute();
}
