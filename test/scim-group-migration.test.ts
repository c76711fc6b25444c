/**
 * Migration 0009 on a database that already holds roles and users (both databases): an
 * existing role keeps, as its group id, the id directories already hold for it (its name,
 * which was its SCIM id before), keeps it through a rename that its holders follow, and an
 * existing user's displayName is what it showed before, its formatted name.
 */
import { Migrator, type Kysely } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { auditEvent } from '../src/core/audit/audit.js';
import { migrateToLatest } from '../src/storage/migrate.js';
import { migrationsFor } from '../src/storage/migrations/index.js';
import { createCatalogStore } from '../src/storage/catalog-store.js';
import type { Db } from '../src/storage/database.js';
import { createTestDatabase, DATABASES, type TestDatabase } from './helpers/databases.js';

async function migrateTo(db: Db, last: string): Promise<void> {
  const run = async (k: Kysely<unknown>) => {
    const migrator = new Migrator({
      db: k,
      provider: { getMigrations: async () => migrationsFor(db.dialect) },
      migrationTableName: 'muster_migrations',
      migrationLockTableName: 'muster_migrations_lock',
    });
    const { error } = await migrator.migrateTo(last);
    if (error) throw error;
  };
  if (db.dialect === 'sqlite') await db.write((conn) => run(conn as unknown as Kysely<unknown>));
  else await run(db.kysely as unknown as Kysely<unknown>);
}

describe.each(DATABASES)('migration 0009 (groups) on %s', (kind) => {
  let database: TestDatabase;
  let db: Db;
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  it('RFC 7644 §3.1: keeps the ids directories hold for existing groups, through a rename their holders follow', async () => {
    database = await createTestDatabase(kind);
    db = database.open();
    await migrateTo(db, '0006-audit');
    const k = db.kysely as unknown as Kysely<any>;
    const now = '2026-01-01T00:00:00.000Z';
    for (const id of ['one', 'two']) {
      await k
        .insertInto('tenants')
        .values({ id, name: id, seat_limit: null, email_domains: '{}', password_policy: '{}', app_key: `app-${id}`, user_count: 1, users_revision: 0, created_at: now, updated_at: now })
        .execute();
      // The same role name in two tenants: each keeps it as its id.
      await k.insertInto('roles').values({ tenant_id: id, name: 'Tour Guides', description: null, admin: 0, created_at: now, updated_at: now }).execute();
    }
    const userId = '00000000-0000-4000-8000-000000000001';
    await k
      .insertInto('users')
      .values({ id: userId, tenant_id: 'one', user_name: 'ada', user_name_key: 'ada', email: 'ada@example.com', email_key: 'ada@example.com', given_name: 'Ada', family_name: 'Lovelace', formatted_name: 'Ada Lovelace', phone_number: null, department_id: null, location_id: null, program_admin_role_id: null, locked_out: 0, approved: 1, password_hash: null, revision: 1, created_at: now, updated_at: now })
      .execute();
    await k.insertInto('user_roles').values({ user_id: userId, tenant_id: 'one', role_name: 'Tour Guides' }).execute();

    await migrateToLatest(db);

    const roles = await k.selectFrom('roles').select(['tenant_id', 'id', 'name', 'revision', 'external_id']).orderBy('tenant_id').execute();
    expect(roles.map((r) => ({ ...r, revision: Number(r.revision) }))).toEqual([
      { tenant_id: 'one', id: 'Tour Guides', name: 'Tour Guides', revision: 1, external_id: null },
      { tenant_id: 'two', id: 'Tour Guides', name: 'Tour Guides', revision: 1, external_id: null },
    ]);
    expect((await k.selectFrom('users').select('display_name').where('id', '=', userId).executeTakeFirstOrThrow()).display_name).toBe('Ada Lovelace');

    // A rename keeps the id; the holder's row follows the new name (ON UPDATE CASCADE) and its revision moves on.
    const catalogs = createCatalogStore(db);
    const actor = { keyId: 'bootstrap', role: 'global-admin' as const };
    const audit = auditEvent({ clock: { now: () => new Date(now) }, ids: { uuid: () => '00000000-0000-4000-8000-0000000000aa', secret: () => 'x' } }, actor, 'one', 'role.updated', 'Tour Guides', { name: 'Tour Leaders' });
    const renamed = await catalogs.updateRole('one', 'Tour Guides', 1, { name: 'Tour Leaders' }, now, audit);
    expect(renamed).toMatchObject({ status: 'updated', role: { id: 'Tour Guides', name: 'Tour Leaders', revision: 2 } });
    expect(await k.selectFrom('user_roles').select('role_name').where('user_id', '=', userId).execute()).toEqual([{ role_name: 'Tour Leaders' }]);
    expect(Number((await k.selectFrom('users').select('revision').where('id', '=', userId).executeTakeFirstOrThrow()).revision)).toBe(2);
    expect((await catalogs.findRoleById('two', 'Tour Guides'))?.name).toBe('Tour Guides');
    // A stale revision, or a name taken in the tenant, changes nothing.
    expect(await catalogs.updateRole('one', 'Tour Guides', 1, { name: 'Other' }, now)).toEqual({ status: 'stale' });
    await k.insertInto('roles').values({ tenant_id: 'one', id: 'r-2', name: 'Taken', description: null, admin: 0, created_at: now, updated_at: now }).execute();
    expect(await catalogs.updateRole('one', 'Tour Guides', 2, { name: 'Taken' }, now)).toEqual({ status: 'conflict' });
    expect(await k.selectFrom('audit_events').select(['action', 'resource_id']).where('tenant_id', '=', 'one').execute()).toEqual([{ action: 'role.updated', resource_id: 'Tour Guides' }]);
  });
});
