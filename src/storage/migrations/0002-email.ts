import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/** The email outbox, invitations (token hashes only) and per-tenant email templates. */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  // `seq` orders the outbox (oldest first for sending, newest first for reading); the id is
  // the message's public name.
  let messages = db.schema.createTable('email_messages');
  messages =
    dialect === 'sqlite'
      ? messages.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
      : messages.addColumn('seq', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity());
  await messages
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    // A user's messages go with the user: a deleted user is not greeted afterwards.
    .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('from_address', 'text', (c) => c.notNull())
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('text_body', 'text', (c) => c.notNull())
    .addColumn('html_body', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull().unique())
    // The invitation token inside the bodies while undelivered; null once sent.
    .addColumn('secret', 'text')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('next_attempt_at', 'text')
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text')
    .execute();
  await db.schema.createIndex('email_messages_due').on('email_messages').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('email_messages_lease').on('email_messages').columns(['status', 'lease_until']).execute();
  await db.schema.createIndex('email_messages_tenant').on('email_messages').columns(['tenant_id', 'seq']).execute();
  await db.schema.createIndex('email_messages_user').on('email_messages').column('user_id').execute();

  await db.schema
    .createTable('invitations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('invitations_user').on('invitations').column('user_id').execute();

  await db.schema
    .createTable('email_templates')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('text_body', 'text', (c) => c.notNull())
    .addColumn('html_body', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('email_templates_pk', ['tenant_id', 'kind'])
    .execute();
}
