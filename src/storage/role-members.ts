/** Who holds a role, and changing that for many users at once: how directory groups map onto roles. */
import type { Kysely } from 'kysely';
import type { AuditEvent } from '../core/audit/audit.js';
import type { RoleMember } from '../core/ports.js';
import { insertAuditEvents } from './audit-store.js';
import type { Database } from './schema.js';

/** Ids per IN list: well under both databases' parameter limits. */
const CHUNK = 500;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

export async function listRoleMembers(
  k: Kysely<Database>,
  tenantId: string,
  role: string,
  options: { limit: number; among?: readonly string[] },
): Promise<RoleMember[]> {
  const query = () =>
    k
      .selectFrom('user_roles')
      .innerJoin('users', 'users.id', 'user_roles.user_id')
      .select(['users.id', 'users.user_name', 'users.number'])
      .where('user_roles.tenant_id', '=', tenantId)
      .where('user_roles.role_name', '=', role);
  let rows: { id: string; user_name: string; number: number }[];
  if (options.among !== undefined) {
    rows = [];
    for (const ids of chunks([...new Set(options.among)])) rows.push(...(await query().where('users.id', 'in', ids).execute()));
    rows.sort((a, b) => Number(a.number) - Number(b.number));
    rows = rows.slice(0, options.limit);
  } else {
    rows = await query().orderBy('users.number').limit(options.limit).execute();
  }
  return rows.map((row) => ({ id: row.id, userName: row.user_name }));
}

/** Runs inside a write transaction (see UserStore.changeRoleMembers). */
export async function changeRoleMembers(
  trx: Kysely<Database>,
  tenantId: string,
  role: string,
  change: { add: readonly string[]; remove: readonly string[] },
  at: string,
  audit?: AuditEvent,
): Promise<{ missing: string[] }> {
  const add = [...new Set(change.add)];
  const remove = [...new Set(change.remove)].filter((id) => !add.includes(id));
  const named = [...new Set([...add, ...remove])];
  const existing = new Set<string>();
  for (const ids of chunks(named)) {
    for (const row of await trx.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where('id', 'in', ids).execute()) existing.add(row.id);
  }
  const missing = named.filter((id) => !existing.has(id));
  if (missing.length > 0) return { missing };

  const changed = new Set<string>();
  for (const ids of chunks(add)) {
    const inserted = await trx
      .insertInto('user_roles')
      .values(ids.map((user_id) => ({ user_id, tenant_id: tenantId, role_name: role })))
      .onConflict((oc) => oc.doNothing())
      .returning('user_id')
      .execute();
    for (const row of inserted) changed.add(row.user_id);
  }
  for (const ids of chunks(remove)) {
    const deleted = await trx
      .deleteFrom('user_roles')
      .where('tenant_id', '=', tenantId)
      .where('role_name', '=', role)
      .where('user_id', 'in', ids)
      .returning('user_id')
      .execute();
    for (const row of deleted) changed.add(row.user_id);
  }
  // A user whose roles changed is a changed user: its revision (ETag) moves on.
  for (const ids of chunks([...changed])) {
    await trx
      .updateTable('users')
      .set((eb) => ({ revision: eb('revision', '+', 1), updated_at: at }))
      .where('tenant_id', '=', tenantId)
      .where('id', 'in', ids)
      .execute();
  }
  if (changed.size > 0) {
    await trx
      .updateTable('roles')
      .set((eb) => ({ updated_at: at, revision: eb('revision', '+', 1) }))
      .where('tenant_id', '=', tenantId)
      .where('name', '=', role)
      .execute();
    await trx.updateTable('tenants').set((eb) => ({ users_revision: eb('users_revision', '+', 1) })).where('id', '=', tenantId).execute();
    if (audit) await insertAuditEvents(trx, [audit]);
  }
  return { missing: [] };
}

/** For each id naming a user of the tenant, the names of the admin roles it holds (none: empty); other ids are absent. */
export async function adminRolesOf(k: Kysely<Database>, tenantId: string, userIds: readonly string[]): Promise<Map<string, string[]>> {
  const held = new Map<string, string[]>();
  for (const ids of chunks([...new Set(userIds)])) {
    for (const row of await k.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where('id', 'in', ids).execute()) held.set(row.id, []);
    const admins = await k
      .selectFrom('user_roles')
      .innerJoin('roles', (join) => join.onRef('roles.tenant_id', '=', 'user_roles.tenant_id').onRef('roles.name', '=', 'user_roles.role_name'))
      .select(['user_roles.user_id', 'roles.name'])
      .where('user_roles.tenant_id', '=', tenantId)
      .where('roles.admin', '=', 1)
      .where('user_roles.user_id', 'in', ids)
      .execute();
    for (const row of admins) held.get(row.user_id)?.push(row.name);
  }
  return held;
}
