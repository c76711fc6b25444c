import type { Kysely, Selectable } from 'kysely';
import type { TakenKeys, UserSearchQuery, UserStore, UserWriteTx } from '../core/ports.js';
import type { NewUser, User } from '../core/users/user.js';
import { uniqueViolation, type Db, type DialectName } from './database.js';
import type { Database, UsersTable } from './schema.js';
import { insertEmailBatch, revokeInvitations } from './email-store.js';
import { insertAuditEvents } from './audit-store.js';
import { adminRolesOf, changeRoleMembers, listRoleMembers } from './role-members.js';
import { userFilterSql, userOrderSql } from './user-filter-sql.js';
import { insertRows, sqliteRowsOf, unnestRows } from './bulk-insert.js';

/** Rows per INSERT statement: 1000 rows × 22 columns stays under both databases' parameter limits. */
const INSERT_CHUNK = 1000;

type UserRow = Omit<Selectable<UsersTable>, 'password_hash'> & { has_password: number | boolean };

const USER_COLUMNS = [
  'number',
  'id',
  'tenant_id',
  'user_name',
  'user_name_key',
  'email',
  'email_key',
  'given_name',
  'family_name',
  'formatted_name',
  'phone_number',
  'department_id',
  'location_id',
  'program_admin_role_id',
  'locked_out',
  'approved',
  'revision',
  'created_at',
  'updated_at',
  'external_id',
  'employee_number',
  'display_name',
  'department',
] as const;

/** The object without its null or undefined properties. */
function compact<T extends Record<string, string | null | undefined>>(value: T): { [K in keyof T]?: string } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v != null)) as { [K in keyof T]?: string };
}

function toUser(row: UserRow, roles: string[]): User {
  return {
    id: row.id,
    number: Number(row.number),
    tenantId: row.tenant_id,
    userName: row.user_name,
    email: row.email,
    name: compact({ givenName: row.given_name, familyName: row.family_name, formatted: row.formatted_name }),
    phoneNumber: row.phone_number,
    roles,
    access: compact({ departmentId: row.department_id, locationId: row.location_id, programAdminRoleId: row.program_admin_role_id }),
    lockedOut: row.locked_out === 1,
    approved: row.approved === 1,
    hasPassword: row.has_password === 1 || row.has_password === true,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    revision: Number(row.revision),
    externalId: row.external_id,
    displayName: row.display_name,
    employeeNumber: row.employee_number,
    department: row.department,
  };
}

function selectUsers(k: Kysely<Database>) {
  return k
    .selectFrom('users')
    .select(USER_COLUMNS)
    .select((eb) => eb.case().when('password_hash', 'is not', null).then(1).else(0).end().as('has_password'));
}

async function withRoles(k: Kysely<Database>, rows: UserRow[]): Promise<User[]> {
  if (rows.length === 0) return [];
  const roleRows = await k
    .selectFrom('user_roles')
    .select(['user_id', 'role_name'])
    .where('user_id', 'in', rows.map((r) => r.id))
    .orderBy('role_name')
    .execute();
  const rolesByUser = new Map<string, string[]>();
  for (const r of roleRows) rolesByUser.set(r.user_id, [...(rolesByUser.get(r.user_id) ?? []), r.role_name]);
  // Sorted here by code unit, not by the database's collation, so both databases agree.
  return rows.map((row) => toUser(row, (rolesByUser.get(row.id) ?? []).sort()));
}

/** One page of the tenant's users matching a checked filter, and the count of all matches. */
async function searchUsers(k: Kysely<Database>, dialect: DialectName, tenantId: string, query: UserSearchQuery): Promise<{ users: User[]; total: number }> {
  const where = userFilterSql(query.filter, dialect);
  const counted = await k.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).where(where).executeTakeFirstOrThrow();
  const total = Number(counted.n);
  if (query.limit === 0 || query.offset >= total) return { users: [], total };
  let q = selectUsers(k).where('tenant_id', '=', tenantId).where(where);
  for (const order of userOrderSql(query.sortBy, query.descending, dialect)) q = q.orderBy(order);
  const rows = await q.orderBy('number').limit(query.limit).offset(query.offset).execute();
  return { users: await withRoles(k, rows as UserRow[]), total };
}

async function findTaken(
  k: Kysely<Database>,
  tenantId: string,
  emailKeys: readonly string[],
  userNameKeys: readonly string[],
  externalIds: readonly string[] = [],
): Promise<TakenKeys> {
  const taken: TakenKeys = { emailKeys: new Set(), userNameKeys: new Set(), externalIds: new Set() };
  if (emailKeys.length === 0 && userNameKeys.length === 0 && externalIds.length === 0) return taken;
  // One query per key kind joined with UNION ALL, so that each one reads its own unique index
  // (tenant_id, email_key | user_name_key | external_id); an OR of the three makes the planner
  // fall back to a scan of the whole tenant.
  const select = () => k.selectFrom('users').select(['email_key', 'user_name_key', 'external_id']).where('tenant_id', '=', tenantId);
  const parts = [
    ...(emailKeys.length > 0 ? [select().where('email_key', 'in', [...emailKeys])] : []),
    ...(userNameKeys.length > 0 ? [select().where('user_name_key', 'in', [...userNameKeys])] : []),
    ...(externalIds.length > 0 ? [select().where('external_id', 'in', [...externalIds])] : []),
  ];
  const rows = await parts.slice(1).reduce((q, part) => q.unionAll(part), parts[0]!).execute();
  const wantedEmails = new Set(emailKeys);
  const wantedNames = new Set(userNameKeys);
  const wantedExternal = new Set(externalIds);
  for (const row of rows) {
    if (wantedEmails.has(row.email_key)) taken.emailKeys.add(row.email_key);
    if (wantedNames.has(row.user_name_key)) taken.userNameKeys.add(row.user_name_key);
    if (row.external_id !== null && wantedExternal.has(row.external_id)) taken.externalIds!.add(row.external_id);
  }
  return taken;
}

function toRow(u: NewUser) {
  return {
    id: u.id,
    tenant_id: u.tenantId,
    user_name: u.userName,
    user_name_key: u.userNameKey,
    email: u.email,
    email_key: u.emailKey,
    given_name: u.name.givenName ?? null,
    family_name: u.name.familyName ?? null,
    formatted_name: u.name.formatted ?? null,
    phone_number: u.phoneNumber,
    department_id: u.access.departmentId ?? null,
    location_id: u.access.locationId ?? null,
    program_admin_role_id: u.access.programAdminRoleId ?? null,
    locked_out: u.lockedOut ? 1 : 0,
    approved: u.approved ? 1 : 0,
    password_hash: u.passwordHash,
    revision: u.revision,
    created_at: u.createdAt,
    updated_at: u.updatedAt,
    external_id: u.externalId,
    display_name: u.displayName,
    employee_number: u.employeeNumber,
    department: u.department,
  };
}

async function addUsers(k: Kysely<Database>, tenantId: string, delta: number) {
  const row = await k
    .updateTable('tenants')
    .set((eb) => ({ user_count: eb('user_count', '+', delta), users_revision: eb('users_revision', '+', 1) }))
    .where('id', '=', tenantId)
    .returning(['user_count', 'seat_limit', 'users_revision'])
    .executeTakeFirstOrThrow();
  return {
    userCount: Number(row.user_count),
    seatLimit: row.seat_limit === null ? null : Number(row.seat_limit),
    usersRevision: Number(row.users_revision),
  };
}

/** Reads the tenant's users revision; on PostgreSQL it also locks the tenant row (SQLite's IMMEDIATE transaction already holds the lock). */
async function lockUsersRevision(k: Kysely<Database>, dialect: DialectName, tenantId: string): Promise<number> {
  const query = k.selectFrom('tenants').select('users_revision').where('id', '=', tenantId);
  const row = await (dialect === 'postgres' ? query.forUpdate() : query).executeTakeFirstOrThrow();
  return Number(row.users_revision);
}

function writeTx(k: Kysely<Database>, dialect: DialectName): UserWriteTx {
  return {
    async insertUsers(users) {
      const inserted = new Map<string, number>();
      const sqliteRows = sqliteRowsOf(k);
      for (let start = 0; start < users.length; start += INSERT_CHUNK) {
        const chunk = users.slice(start, start + INSERT_CHUNK);
        if (sqliteRows) {
          // `number` is the table's INTEGER PRIMARY KEY, i.e. the rowid of each inserted row.
          const numbers = await sqliteRows.insert('users', chunk.map(toRow), { onConflictDoNothing: true, rowids: true });
          numbers.forEach((number, i) => {
            if (number !== undefined) inserted.set(chunk[i]!.id, number);
          });
        } else {
          const insert = k.insertInto('users');
          const bulk = dialect === 'postgres' ? await unnestRows(k, 'users', chunk.map(toRow)) : undefined;
          const rows = await (bulk ? insert.columns(bulk.columns as (keyof UsersTable & string)[]).expression(bulk.select) : insert.values(chunk.map(toRow)))
            .onConflict((oc) => oc.doNothing())
            .returning(['id', 'number'])
            .execute();
          for (const row of rows) inserted.set(row.id, Number(row.number));
        }
        const roleRows = chunk
          .filter((u) => inserted.has(u.id))
          .flatMap((u) => u.roles.map((role_name) => ({ user_id: u.id, tenant_id: u.tenantId, role_name })));
        for (let r = 0; r < roleRows.length; r += INSERT_CHUNK * 3) await insertRows(k, 'user_roles', roleRows.slice(r, r + INSERT_CHUNK * 3));
      }
      return inserted;
    },
    findTaken: (tenantId, emailKeys, userNameKeys, externalIds) => findTaken(k, tenantId, emailKeys, userNameKeys, externalIds),
    addUsers: (tenantId, delta) => addUsers(k, tenantId, delta),
    lockUsersRevision: (tenantId) => lockUsersRevision(k, dialect, tenantId),
    async deleteUsers(tenantId, ids) {
      if (ids.length > 0) await k.deleteFrom('users').where('tenant_id', '=', tenantId).where('id', 'in', [...ids]).execute();
    },
    insertEmails: (batch) => insertEmailBatch(k, batch),
    recordAudit: (events) => insertAuditEvents(k, events),
  };
}

/** The user writes of a transaction another store has opened, so that its own writes commit with them (an import chunk). */
export function userWritesIn(trx: Kysely<Database>, dialect: DialectName): UserWriteTx {
  return writeTx(trx, dialect);
}

export function createUserStore(db: Db): UserStore {
  const k = db.kysely;
  return {
    transaction: (work) => db.writeOrRollback((trx) => work(writeTx(trx, db.dialect))),
    findTaken: (tenantId, emailKeys, userNameKeys, externalIds) => findTaken(k, tenantId, emailKeys, userNameKeys, externalIds),
    search: (tenantId, query) => searchUsers(k, db.dialect, tenantId, query),
    listRoleMembers: (tenantId, role, options) => listRoleMembers(k, tenantId, role, options),
    adminRolesOf: (tenantId, userIds) => adminRolesOf(k, tenantId, userIds),
    changeRoleMembers: (tenantId, role, change, at, audit) => db.write((trx) => changeRoleMembers(trx, tenantId, role, change, at, audit)),
    async get(tenantId, id) {
      const row = await selectUsers(k).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row ? (await withRoles(k, [row as UserRow]))[0] : undefined;
    },
    async list(tenantId, query) {
      let q = selectUsers(k).where('tenant_id', '=', tenantId);
      if (query.emailKey !== undefined) q = q.where('email_key', '=', query.emailKey);
      if (query.userNameKey !== undefined) q = q.where('user_name_key', '=', query.userNameKey);
      if (query.afterNumber !== undefined) q = q.where('number', '>', query.afterNumber);
      const rows = await q.orderBy('number').limit(query.limit).execute();
      return withRoles(k, rows as UserRow[]);
    },
    async update(tenantId, id, expectedRevision, change, audit, revoke) {
      try {
        return await db.write(async (trx) => {
          const updated = await trx
            .updateTable('users')
            .set((eb) => ({
              revision: eb('revision', '+', 1),
              updated_at: change.updatedAt,
              ...(change.userName !== undefined && { user_name: change.userName, user_name_key: change.userNameKey! }),
              ...(change.email !== undefined && { email: change.email, email_key: change.emailKey! }),
              ...(change.name !== undefined && {
                given_name: change.name.givenName ?? null,
                family_name: change.name.familyName ?? null,
                formatted_name: change.name.formatted ?? null,
              }),
              ...(change.phoneNumber !== undefined && { phone_number: change.phoneNumber }),
              ...(change.access !== undefined && {
                department_id: change.access.departmentId ?? null,
                location_id: change.access.locationId ?? null,
                program_admin_role_id: change.access.programAdminRoleId ?? null,
              }),
              ...(change.lockedOut !== undefined && { locked_out: change.lockedOut ? 1 : 0 }),
              ...(change.approved !== undefined && { approved: change.approved ? 1 : 0 }),
              ...(change.passwordHash !== undefined && { password_hash: change.passwordHash }),
              ...(change.externalId !== undefined && { external_id: change.externalId }),
              ...(change.displayName !== undefined && { display_name: change.displayName }),
              ...(change.employeeNumber !== undefined && { employee_number: change.employeeNumber }),
              ...(change.department !== undefined && { department: change.department }),
            }))
            .where('tenant_id', '=', tenantId)
            .where('id', '=', id)
            .where('revision', '=', expectedRevision)
            .returning('id')
            .executeTakeFirst();
          if (!updated) {
            const exists = await trx.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
            return { status: exists ? 'stale' : 'not-found' } as const;
          }
          if (change.roles !== undefined) {
            await trx.deleteFrom('user_roles').where('user_id', '=', id).execute();
            if (change.roles.length > 0) {
              await trx.insertInto('user_roles').values(change.roles.map((role_name) => ({ user_id: id, tenant_id: tenantId, role_name }))).execute();
            }
          }
          if (revoke) await revokeInvitations(trx, tenantId, id, revoke.cancelMessagesTo);
          await addUsers(trx, tenantId, 0);
          if (audit) await insertAuditEvents(trx, [audit]);
          const row = await selectUsers(trx).where('id', '=', id).executeTakeFirstOrThrow();
          return { status: 'updated', user: (await withRoles(trx, [row as UserRow]))[0]! } as const;
        });
      } catch (error) {
        const which = uniqueViolation(error);
        if (which === 'email') return { status: 'duplicate', code: 'DUPLICATE_EMAIL' };
        if (which === 'userName') return { status: 'duplicate', code: 'DUPLICATE_USERNAME' };
        if (which === 'externalId') return { status: 'duplicate', code: 'CONFLICT' };
        throw error;
      }
    },
    async delete(tenantId, id, audit, expectedRevision) {
      return db.write(async (trx) => {
        let query = trx.deleteFrom('users').where('tenant_id', '=', tenantId).where('id', '=', id);
        if (expectedRevision !== undefined) query = query.where('revision', '=', expectedRevision);
        const deleted = await query.returning('id').executeTakeFirst();
        if (deleted) await addUsers(trx, tenantId, -1);
        if (deleted && audit) await insertAuditEvents(trx, [audit]);
        return !!deleted;
      });
    },
  };
}
