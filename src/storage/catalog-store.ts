import type { Kysely, Selectable } from 'kysely';
import type { CatalogStore } from '../core/ports.js';
import type { CatalogEntry, CatalogKind } from '../core/catalogs/catalog.js';
import type { Role } from '../core/roles/role.js';
import { uniqueViolation, type Db, type DialectName } from './database.js';
import { insertAuditEvents } from './audit-store.js';
import type { CatalogEntriesTable, Database, RolesTable } from './schema.js';

function toRole(row: Selectable<RolesTable>): Role {
  return {
    tenantId: row.tenant_id,
    name: row.name,
    description: row.description,
    admin: row.admin === 1,
    id: row.id,
    externalId: row.external_id,
    revision: Number(row.revision),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toEntry(row: Selectable<CatalogEntriesTable>): CatalogEntry {
  return { tenantId: row.tenant_id, kind: row.kind as CatalogKind, code: row.code, name: row.name, createdAt: row.created_at };
}

/** The role as it is now, locked until the transaction ends (PostgreSQL: FOR UPDATE; SQLite's write transaction holds the lock). */
async function currentRole(trx: Kysely<Database>, dialect: DialectName, tenantId: string, name: string) {
  const query = trx.selectFrom('roles').selectAll().where('tenant_id', '=', tenantId).where('name', '=', name);
  return (dialect === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
}

/** A new revision for every holder of the role (and for the tenant's users), as any change of their roles gives. */
async function bumpHolders(trx: Kysely<Database>, tenantId: string, name: string, at: string): Promise<void> {
  const holders = trx.selectFrom('user_roles').select('user_id').where('tenant_id', '=', tenantId).where('role_name', '=', name);
  const bumped = await trx
    .updateTable('users')
    .set((eb) => ({ revision: eb('revision', '+', 1), updated_at: at }))
    .where('tenant_id', '=', tenantId)
    .where('id', 'in', holders)
    .executeTakeFirst();
  if (Number(bumped.numUpdatedRows) > 0) {
    await trx.updateTable('tenants').set((eb) => ({ users_revision: eb('users_revision', '+', 1) })).where('id', '=', tenantId).execute();
  }
}

export function createCatalogStore(db: Db): CatalogStore {
  const k = db.kysely;
  return {
    async putRole(role, check) {
      return db.write(async (trx) => {
        const existed = await currentRole(trx, db.dialect, role.tenantId, role.name);
        const audit = check?.(existed && toRole(existed)) ?? [];
        await trx
          .insertInto('roles')
          .values({
            tenant_id: role.tenantId,
            id: role.id,
            name: role.name,
            description: role.description,
            admin: role.admin ? 1 : 0,
            external_id: role.externalId,
            created_at: role.createdAt,
            updated_at: role.updatedAt,
          })
          // A replaced role keeps its id and external id; its revision moves on.
          .onConflict((oc) =>
            oc
              .columns(['tenant_id', 'name'])
              .doUpdateSet((eb) => ({ description: role.description, admin: role.admin ? 1 : 0, updated_at: role.updatedAt, revision: eb('roles.revision', '+', 1) })),
          )
          .execute();
        // Its holders are, or stop being, administrators: each reads differently, and a change
        // of such a user checked against the role as it was (its revision) must not apply.
        if (existed && (existed.admin === 1) !== role.admin) await bumpHolders(trx, role.tenantId, role.name, role.updatedAt);
        if (audit.length > 0) await insertAuditEvents(trx, audit);
        return !existed;
      });
    },
    async listRoles(tenantId) {
      return (await k.selectFrom('roles').selectAll().where('tenant_id', '=', tenantId).orderBy('name').execute()).map(toRole);
    },
    async findRoles(tenantId, names) {
      if (names.length === 0) return [];
      return (await k.selectFrom('roles').selectAll().where('tenant_id', '=', tenantId).where('name', 'in', [...names]).execute()).map(toRole);
    },
    async deleteRole(tenantId, name, check, at) {
      return db.write(async (trx) => {
        const existed = await currentRole(trx, db.dialect, tenantId, name);
        if (!existed) return false;
        const holders = await trx.selectFrom('user_roles').select((eb) => eb.fn.countAll<number | string | bigint>().as('n')).where('tenant_id', '=', tenantId).where('role_name', '=', name).executeTakeFirstOrThrow();
        const audit = check?.(toRole(existed), Number(holders.n)) ?? [];
        // The holders lose the role (its user_roles rows go with it, by the foreign key): each
        // gets a new revision, so that its ETag does not go stale silently.
        await bumpHolders(trx, tenantId, name, at ?? new Date().toISOString());
        await trx.deleteFrom('roles').where('tenant_id', '=', tenantId).where('name', '=', name).execute();
        if (audit.length > 0) await insertAuditEvents(trx, audit);
        return true;
      });
    },
    async insertRole(role, audit) {
      // The primary key decides, not a prior read: of two concurrent inserts one wins.
      return db.write(async (trx) => {
        const inserted = await trx
          .insertInto('roles')
          .values({
            tenant_id: role.tenantId,
            id: role.id,
            name: role.name,
            description: role.description,
            admin: role.admin ? 1 : 0,
            external_id: role.externalId,
            revision: role.revision,
            created_at: role.createdAt,
            updated_at: role.updatedAt,
          })
          .onConflict((oc) => oc.columns(['tenant_id', 'name']).doNothing())
          .returning('name')
          .executeTakeFirst();
        if (inserted !== undefined && audit) await insertAuditEvents(trx, [audit]);
        return inserted !== undefined;
      });
    },
    async findRoleById(tenantId, id) {
      const row = await k.selectFrom('roles').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row ? toRole(row) : undefined;
    },
    async updateRole(tenantId, id, expectedRevision, change, at, audit) {
      try {
        return await db.write(async (trx) => {
          const current = await trx.selectFrom('roles').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
          if (!current) return { status: 'missing' as const };
          if (Number(current.revision) !== expectedRevision) return { status: 'stale' as const };
          const renamed = change.name !== undefined && change.name !== current.name;
          if (renamed) {
            // Checked here for a clear answer; the primary key still decides between concurrent renames.
            const taken = await trx.selectFrom('roles').select('id').where('tenant_id', '=', tenantId).where('name', '=', change.name!).executeTakeFirst();
            if (taken) return { status: 'conflict' as const };
          }
          // The holders' rows follow the new name through the foreign key (ON UPDATE CASCADE, migration 0009).
          await trx
            .updateTable('roles')
            .set((eb) => ({
              ...(change.name !== undefined && { name: change.name }),
              ...(change.externalId !== undefined && { external_id: change.externalId }),
              updated_at: at,
              revision: eb('revision', '+', 1),
            }))
            .where('tenant_id', '=', tenantId)
            .where('id', '=', id)
            .execute();
          if (renamed) {
            // Each holder now reads differently (its roles).
            await bumpHolders(trx, tenantId, change.name!, at);
          }
          if (audit) await insertAuditEvents(trx, [audit]);
          const row = await trx.selectFrom('roles').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirstOrThrow();
          return { status: 'updated' as const, role: toRole(row) };
        });
      } catch (error) {
        if (uniqueViolation(error) !== undefined) return { status: 'conflict' };
        throw error;
      }
    },
    async putEntry(entry) {
      return db.write(async (trx) => {
        const key = (q: ReturnType<typeof trx.selectFrom<'catalog_entries'>>) =>
          q.where('tenant_id', '=', entry.tenantId).where('kind', '=', entry.kind).where('code', '=', entry.code);
        const existed = await key(trx.selectFrom('catalog_entries')).select('code').executeTakeFirst();
        await trx
          .insertInto('catalog_entries')
          .values({ tenant_id: entry.tenantId, kind: entry.kind, code: entry.code, name: entry.name, created_at: entry.createdAt })
          .onConflict((oc) => oc.columns(['tenant_id', 'kind', 'code']).doUpdateSet({ name: entry.name }))
          .execute();
        return !existed;
      });
    },
    async listEntries(tenantId, kind) {
      return (await k.selectFrom('catalog_entries').selectAll().where('tenant_id', '=', tenantId).where('kind', '=', kind).orderBy('code').execute()).map(toEntry);
    },
    async findCodes(tenantId, kind, codes) {
      if (codes.length === 0) return new Set();
      const rows = await k.selectFrom('catalog_entries').select('code').where('tenant_id', '=', tenantId).where('kind', '=', kind).where('code', 'in', [...codes]).execute();
      return new Set(rows.map((r) => r.code));
    },
    async deleteEntry(tenantId, kind, code) {
      const result = await k.deleteFrom('catalog_entries').where('tenant_id', '=', tenantId).where('kind', '=', kind).where('code', '=', code).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
