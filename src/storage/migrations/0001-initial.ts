import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/** Tenants, API keys, roles, catalogs, users and their roles. */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('tenants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('seat_limit', 'integer')
    .addColumn('email_domains', 'text', (c) => c.notNull())
    .addColumn('password_policy', 'text', (c) => c.notNull())
    .addColumn('app_key', 'text', (c) => c.notNull().unique())
    .addColumn('user_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('users_revision', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.references('tenants.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('api_keys_tenant').on('api_keys').column('tenant_id').execute();

  await db.schema
    .createTable('roles')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('admin', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('roles_pk', ['tenant_id', 'name'])
    .execute();

  await db.schema
    .createTable('catalog_entries')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('catalog_entries_pk', ['tenant_id', 'kind', 'code'])
    .execute();

  // The user number is the row id on SQLite (AUTOINCREMENT: never reused) and an identity
  // column on PostgreSQL; everything else is the same on both.
  let users = db.schema.createTable('users');
  users =
    dialect === 'sqlite'
      ? users.addColumn('number', 'integer', (c) => c.primaryKey().autoIncrement())
      : users.addColumn('number', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity());
  await users
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('user_name', 'text', (c) => c.notNull())
    .addColumn('user_name_key', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('email_key', 'text', (c) => c.notNull())
    .addColumn('given_name', 'text')
    .addColumn('family_name', 'text')
    .addColumn('formatted_name', 'text')
    .addColumn('phone_number', 'text')
    .addColumn('department_id', 'text')
    .addColumn('location_id', 'text')
    .addColumn('program_admin_role_id', 'text')
    .addColumn('locked_out', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('approved', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('password_hash', 'text')
    .addColumn('revision', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('users_tenant_email_key_unique', ['tenant_id', 'email_key'])
    .addUniqueConstraint('users_tenant_user_name_key_unique', ['tenant_id', 'user_name_key'])
    .execute();
  await db.schema.createIndex('users_tenant_number').on('users').columns(['tenant_id', 'number']).execute();

  await db.schema
    .createTable('user_roles')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('role_name', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('user_roles_pk', ['user_id', 'role_name'])
    .addForeignKeyConstraint('user_roles_role_fk', ['tenant_id', 'role_name'], 'roles', ['tenant_id', 'name'], (c) => c.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('user_roles_role').on('user_roles').columns(['tenant_id', 'role_name']).execute();
}
