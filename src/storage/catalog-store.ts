import type { Selectable } from 'kysely';
import type { CatalogEntry, CatalogKind, CatalogStore, Role } from '../core/ports.js';
import type { Db } from './database.js';
import type { CatalogEntriesTable, RolesTable } from './schema.js';

function toRole(row: Selectable<RolesTable>): Role {
  return {
    tenantId: row.tenant_id,
    name: row.name,
    description: row.description,
    admin: row.admin === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toEntry(row: Selectable<CatalogEntriesTable>): CatalogEntry {
  return { tenantId: row.tenant_id, kind: row.kind as CatalogKind, code: row.code, name: row.name, createdAt: row.created_at };
}

export function createCatalogStore(db: Db): CatalogStore {
  const k = db.kysely;
  return {
    async putRole(role) {
      return db.write(async (trx) => {
        const existed = await trx.selectFrom('roles').select('name').where('tenant_id', '=', role.tenantId).where('name', '=', role.name).executeTakeFirst();
        await trx
          .insertInto('roles')
          .values({
            tenant_id: role.tenantId,
            name: role.name,
            description: role.description,
            admin: role.admin ? 1 : 0,
            created_at: role.createdAt,
            updated_at: role.updatedAt,
          })
          .onConflict((oc) =>
            oc.columns(['tenant_id', 'name']).doUpdateSet({ description: role.description, admin: role.admin ? 1 : 0, updated_at: role.updatedAt }),
          )
          .execute();
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
    async deleteRole(tenantId, name) {
      const result = await k.deleteFrom('roles').where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async insertRole(role) {
      // The primary key decides, not a prior read: of two concurrent inserts one wins.
      const inserted = await k
        .insertInto('roles')
        .values({ tenant_id: role.tenantId, name: role.name, description: role.description, admin: role.admin ? 1 : 0, created_at: role.createdAt, updated_at: role.updatedAt })
        .onConflict((oc) => oc.columns(['tenant_id', 'name']).doNothing())
        .returning('name')
        .executeTakeFirst();
      return inserted !== undefined;
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
