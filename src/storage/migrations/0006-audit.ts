import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * The audit log: one row per create, change or delete of a user, tenant or API key, written
 * in the transaction of the change itself. No foreign key to tenants: the record of what
 * happened outlives what it happened to.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  let events = db.schema.createTable('audit_events');
  events =
    dialect === 'sqlite'
      ? events.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
      : events.addColumn('seq', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity());
  await events
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('resource_id', 'text', (c) => c.notNull())
    .addColumn('actor_key_id', 'text', (c) => c.notNull())
    .addColumn('actor_role', 'text', (c) => c.notNull())
    .addColumn('dialect', 'text')
    .addColumn('request_id', 'text')
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_events_tenant').on('audit_events').columns(['tenant_id', 'seq']).execute();
  await db.schema.createIndex('audit_events_action').on('audit_events').columns(['tenant_id', 'action', 'seq']).execute();
  await db.schema.createIndex('audit_events_resource').on('audit_events').columns(['tenant_id', 'resource_id', 'seq']).execute();
  await db.schema.createIndex('audit_events_actor').on('audit_events').columns(['tenant_id', 'actor_key_id', 'seq']).execute();
}
