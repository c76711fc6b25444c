import type { Selectable } from 'kysely';
import type { TenantStore } from '../core/ports.js';
import type { Tenant } from '../core/tenants/tenant.js';
import { insertAuditEvents } from './audit-store.js';
import type { Db } from './database.js';
import type { TenantsTable } from './schema.js';

function toTenant(row: Selectable<TenantsTable>): Tenant {
  return {
    id: row.id,
    name: row.name,
    seatLimit: row.seat_limit,
    emailDomains: JSON.parse(row.email_domains),
    passwordPolicy: JSON.parse(row.password_policy),
    appKey: row.app_key,
    userCount: Number(row.user_count),
    usersRevision: Number(row.users_revision),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function createTenantStore(db: Db): TenantStore {
  const k = db.kysely;
  // Read on every request that acts in a tenant: compiled once, run with the id as its parameter.
  const byId = k.selectFrom('tenants').selectAll().where('id', '=', '').compile();
  return {
    async get(id) {
      const { rows } = await k.executeQuery<Selectable<TenantsTable>>({ ...byId, parameters: [id] });
      return rows[0] && toTenant(rows[0]);
    },
    async getByAppKey(appKey) {
      const row = await k.selectFrom('tenants').selectAll().where('app_key', '=', appKey).executeTakeFirst();
      return row && toTenant(row);
    },
    async list() {
      return (await k.selectFrom('tenants').selectAll().orderBy('id').execute()).map(toTenant);
    },
    async insert(t, audit) {
      const insert = (trx: typeof k) =>
        trx
          .insertInto('tenants')
          .values({
            id: t.id,
            name: t.name,
            seat_limit: t.seatLimit,
            email_domains: JSON.stringify(t.emailDomains),
            password_policy: JSON.stringify(t.passwordPolicy),
            app_key: t.appKey,
            user_count: t.userCount,
            users_revision: t.usersRevision,
            created_at: t.createdAt,
            updated_at: t.updatedAt,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .executeTakeFirst();
      if (!audit) return Number((await insert(k)).numInsertedOrUpdatedRows ?? 0) > 0;
      return db.write(async (trx) => {
        const inserted = Number((await insert(trx)).numInsertedOrUpdatedRows ?? 0) > 0;
        if (inserted) await insertAuditEvents(trx, [audit]);
        return inserted;
      });
    },
    async update(id, change, at, audit) {
      const update = (trx: typeof k) =>
        trx
          .updateTable('tenants')
          .set({
            updated_at: at,
            ...(change.name !== undefined && { name: change.name }),
            ...(change.seatLimit !== undefined && { seat_limit: change.seatLimit }),
            ...(change.emailDomains !== undefined && { email_domains: JSON.stringify(change.emailDomains) }),
            ...(change.passwordPolicy !== undefined && { password_policy: JSON.stringify(change.passwordPolicy) }),
          })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirst();
      const row = audit
        ? await db.write(async (trx) => {
            const changed = await update(trx);
            if (changed) await insertAuditEvents(trx, [audit]);
            return changed;
          })
        : await update(k);
      return row && toTenant(row);
    },
  };
}
