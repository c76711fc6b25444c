import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * Directory groups that can be renamed, and a display name apart from the formatted name.
 *
 * - `roles.id`: a stable id issued once per role and never given again (a SCIM Group's `id`),
 *   so that a role can be renamed and a deleted role's name reused without the new role taking
 *   the old one's id. New roles get a UUID; an existing role keeps the id directories already
 *   hold for it, its name (which was its SCIM id until now), and keeps it through renames.
 * - `roles.external_id`: the directory client's own identifier for the group.
 * - `roles.revision`: +1 on every change of the role or its membership (the group's version).
 * - `users.display_name`: the name a user is shown by (SCIM `displayName`), separate from
 *   `formatted_name`; existing users keep what they showed before, their formatted name.
 * - `user_roles` follows a renamed role: its foreign key to the role now cascades updates.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await db.schema.alterTable('roles').addColumn('id', 'text').execute();
  await db.schema.alterTable('roles').addColumn('external_id', 'text').execute();
  await db.schema.alterTable('roles').addColumn('revision', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  await sql`update roles set id = name`.execute(db);
  await db.schema.createIndex('roles_tenant_id_unique').on('roles').columns(['tenant_id', 'id']).unique().execute();
  await db.schema.createIndex('roles_tenant_external_id').on('roles').columns(['tenant_id', 'external_id']).execute();

  await db.schema.alterTable('users').addColumn('display_name', 'text').execute();
  await sql`update users set display_name = formatted_name`.execute(db);

  if (dialect === 'postgres') {
    await sql`alter table user_roles drop constraint user_roles_role_fk`.execute(db);
    await sql`alter table user_roles add constraint user_roles_role_fk foreign key (tenant_id, role_name) references roles (tenant_id, name) on delete cascade on update cascade`.execute(db);
    return;
  }
  // SQLite cannot change a foreign key in place: the table is rebuilt with the new one.
  await db.schema
    .createTable('user_roles_next')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('role_name', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('user_roles_pk', ['user_id', 'role_name'])
    .addForeignKeyConstraint('user_roles_role_fk', ['tenant_id', 'role_name'], 'roles', ['tenant_id', 'name'], (c) => c.onDelete('cascade').onUpdate('cascade'))
    .execute();
  await sql`insert into user_roles_next (user_id, tenant_id, role_name) select user_id, tenant_id, role_name from user_roles`.execute(db);
  await db.schema.dropTable('user_roles').execute();
  await db.schema.alterTable('user_roles_next').renameTo('user_roles').execute();
  await db.schema.createIndex('user_roles_role').on('user_roles').columns(['tenant_id', 'role_name']).execute();
}
