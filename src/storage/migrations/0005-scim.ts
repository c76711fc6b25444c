import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * What directory clients (SCIM) say about a user beyond the canonical fields: the identifier
 * the client itself uses (`external_id`, unique per tenant, compared exactly), and the
 * enterprise attributes `employee_number` and `department`, kept as free text (a directory's
 * department name is not one of the tenant's department codes).
 */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('users').addColumn('external_id', 'text').execute();
  await db.schema.alterTable('users').addColumn('employee_number', 'text').execute();
  await db.schema.alterTable('users').addColumn('department', 'text').execute();
  // NULLs are distinct in a unique index on both databases: users without one never collide.
  await db.schema.createIndex('users_tenant_external_id_unique').on('users').columns(['tenant_id', 'external_id']).unique().execute();
}
