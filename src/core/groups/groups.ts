/**
 * Groups: a role seen as a group of users, as directories (SCIM) push them. A group is a role
 * of the tenant: its stable `id` (issued once, never reused), its `name` (which can change:
 * a rename keeps the id and the holders), the directory's `externalId`, and its members, the
 * users holding the role. The rules are those of every other role change: the naming rule of
 * role names, `catalog:write` to create, rename or delete, `users:write` to change who holds
 * it, the privilege rule (core/credentials/privileges.ts) for granting or withdrawing a role,
 * and an audit event, written in the change's own transaction, for each change.
 */
import { auditEvent } from '../audit/audit.js';
import { authorize, type Actor } from '../credentials/actor.js';
import { assertPermitted, checkMembershipChange, checkRoleChange } from '../credentials/privileges.js';
import { DomainError, fieldError } from '../errors.js';
import type { CoreDeps, RoleMember } from '../ports.js';
import type { Role } from '../roles/role.js';
import { ROLE_NAME_PATTERN } from '../roles/role-catalog.js';
import { MAX_MEMBER_CHANGES, MAX_ROLE_MEMBERS_LISTED } from '../roles/role-members.js';
import { loadTenant } from '../tenants/load-tenant.js';
import { isUserId } from '../users/user-id.js';
import { ATTRIBUTE_MAX } from '../users/user.js';

export { MAX_ROLE_MEMBERS_LISTED };

const namePattern = new RegExp(ROLE_NAME_PATTERN);

/** The most users one group search may ask membership of: each is one lookup. */
export const MAX_MEMBERSHIP_LOOKUPS = 50;

/** What a group is created with. */
export interface NewGroup {
  name: string;
  externalId?: string | null | undefined;
  members?: readonly string[] | undefined;
}

/** A change of a group: absent fields stay; `members` is either a diff or the whole new list. */
export interface GroupChange {
  name?: string | undefined;
  externalId?: string | null | undefined;
  members?: { add: readonly string[]; remove: readonly string[] } | { set: readonly string[] } | undefined;
}

/** Group order: by name (the default), id, externalId, or when created or last changed. */
export type GroupSortKey = 'name' | 'id' | 'externalId' | 'createdAt' | 'updatedAt';

export interface GroupSearch {
  /**
   * Which roles match, given the ids (among `membersAsked`) of the users holding each; every
   * role when absent. The dialect builds it from its own filter language.
   */
  matches?: ((role: Role, memberIds: readonly string[]) => boolean) | undefined;
  /** Users whose memberships `matches` needs to know (at most MAX_MEMBERSHIP_LOOKUPS). */
  membersAsked?: readonly string[] | undefined;
  sortBy?: GroupSortKey | undefined;
  descending?: boolean | undefined;
  offset: number;
  limit: number;
}

function invalid(field: string, message: string): DomainError {
  return new DomainError('INVALID_FIELD', message, [fieldError(field, 'INVALID_FIELD', message)]);
}

/** The naming rule of roles, which group names follow: INVALID_FIELD (field `name`) otherwise. */
export function checkGroupName(name: unknown): string {
  if (typeof name !== 'string' || name === '') {
    throw new DomainError('MISSING_REQUIRED_FIELD', 'A group needs a name.', [fieldError('name', 'MISSING_REQUIRED_FIELD', 'A group needs a name.')]);
  }
  if (!namePattern.test(name)) throw invalid('name', `Role names must match ${ROLE_NAME_PATTERN}: letters, digits, spaces and _ . : - (at most 100).`);
  return name;
}

function checkExternalId(externalId: string | null | undefined): string | null | undefined {
  if (externalId === undefined || externalId === null) return externalId;
  if (externalId.length < 1 || externalId.length > ATTRIBUTE_MAX || /\p{Cc}/u.test(externalId)) {
    throw invalid('externalId', `externalId must be 1 to ${ATTRIBUTE_MAX} characters without control characters.`);
  }
  return externalId;
}

function notFound(): DomainError {
  return new DomainError('NOT_FOUND', 'No such group.');
}

/** The group (role) with this id; NOT_FOUND when there is none in the tenant. */
export async function getGroup(deps: CoreDeps, actor: Actor, tenantId: string, id: string): Promise<Role> {
  await loadTenant(deps.tenants, actor, 'catalog:read', tenantId);
  const role = id.length <= 100 ? await deps.catalogs.findRoleById(tenantId, id) : undefined;
  if (!role) throw notFound();
  return role;
}

/**
 * Every member of a group in creation order, or `too-many` when it has more than
 * MAX_ROLE_MEMBERS_LISTED (then it can only be shown without them).
 */
export async function allGroupMembers(deps: CoreDeps, actor: Actor, tenantId: string, role: Role): Promise<RoleMember[] | 'too-many'> {
  await loadTenant(deps.tenants, actor, 'users:read', tenantId);
  const members = await deps.users.listRoleMembers(tenantId, role.name, { limit: MAX_ROLE_MEMBERS_LISTED + 1 });
  return members.length > MAX_ROLE_MEMBERS_LISTED ? 'too-many' : members;
}

/** The members of a group among `ids` (the others do not hold it). */
export async function groupMembersAmong(deps: CoreDeps, actor: Actor, tenantId: string, role: Role, ids: readonly string[]): Promise<RoleMember[]> {
  await loadTenant(deps.tenants, actor, 'users:read', tenantId);
  const among = ids.filter(isUserId);
  if (among.length === 0) return [];
  return deps.users.listRoleMembers(tenantId, role.name, { limit: among.length, among });
}

/** Which users `add` adds and `remove` removes when `current` holders become exactly `wanted`. */
export function membershipDiff(current: readonly string[], wanted: readonly string[]): { add: string[]; remove: string[] } {
  const was = new Set(current);
  const is = new Set(wanted);
  return { add: [...is].filter((id) => !was.has(id)), remove: [...was].filter((id) => !is.has(id)) };
}

function unknownMembers(ids: readonly string[]): DomainError {
  const message = `No user of this tenant has the id "${ids[0]}".`;
  return new DomainError('UNKNOWN_REFERENCE', message, ids.map((id) => fieldError('members', 'UNKNOWN_REFERENCE', `No user of this tenant has the id "${id}".`)));
}

/**
 * Checks that every user named exists in the tenant (UNKNOWN_REFERENCE otherwise) and that the
 * actor may give `role` to, or take it from, each of them (the privilege rule).
 */
async function checkMembers(deps: CoreDeps, actor: Actor, tenantId: string, role: Role, named: readonly string[]): Promise<void> {
  if (named.length > MAX_MEMBER_CHANGES) throw new DomainError('BATCH_TOO_LARGE', `One change may name at most ${MAX_MEMBER_CHANGES} members.`);
  const malformed = named.filter((id) => !isUserId(id));
  if (malformed.length > 0) throw unknownMembers(malformed);
  const adminRoles = await deps.users.adminRolesOf(tenantId, named);
  const missing = named.filter((id) => !adminRoles.has(id));
  if (missing.length > 0) throw unknownMembers(missing);
  const members = named.map((id) => ({ id, held: (adminRoles.get(id) ?? []).map((name) => ({ name, admin: true })) }));
  assertPermitted(checkMembershipChange(actor, { name: role.name, admin: role.admin }, members));
}

/** Gives the role to `add` and takes it from `remove` in one transaction, with its audit event. */
async function applyMembers(deps: CoreDeps, actor: Actor, tenantId: string, role: Role, change: { add: readonly string[]; remove: readonly string[] }): Promise<void> {
  const add = [...new Set(change.add)];
  const remove = [...new Set(change.remove)].filter((id) => !add.includes(id));
  if (add.length === 0 && remove.length === 0) return;
  await checkMembers(deps, actor, tenantId, role, [...add, ...remove]);
  const at = deps.clock.now().toISOString();
  const audit = auditEvent(deps, actor, tenantId, 'role.members-changed', role.id, { name: role.name, added: add, removed: remove }, at);
  const { missing } = await deps.users.changeRoleMembers(tenantId, role.name, { add, remove }, at, audit);
  if (missing.length > 0) throw unknownMembers(missing);
}

/**
 * Creates a group: a new role (not an admin one) named `name`, with its first members. CONFLICT
 * when the name is taken. When the members cannot be added (an unknown user, the privilege
 * rule) nothing is created.
 */
export async function createGroup(deps: CoreDeps, actor: Actor, tenantId: string, group: NewGroup): Promise<Role> {
  await loadTenant(deps.tenants, actor, 'catalog:write', tenantId);
  const name = checkGroupName(group.name);
  const externalId = checkExternalId(group.externalId) ?? null;
  const members = [...new Set(group.members ?? [])];
  if (members.length > 0) authorize(actor, 'users:write', tenantId);
  const now = deps.clock.now().toISOString();
  const role: Role = { tenantId, id: deps.ids.uuid(), name, description: null, admin: false, externalId, revision: 1, createdAt: now, updatedAt: now };
  assertPermitted(checkRoleChange(actor, undefined, role));
  // Checked before anything is written, so that a refused member leaves no role behind.
  if (members.length > 0) await checkMembers(deps, actor, tenantId, role, members);
  const audit = auditEvent(deps, actor, tenantId, 'role.created', role.id, { name, externalId, admin: false }, now);
  if (!(await deps.catalogs.insertRole(role, audit))) {
    const message = `A role named "${name}" already exists.`;
    throw new DomainError('CONFLICT', message, [fieldError('name', 'CONFLICT', message)]);
  }
  if (members.length > 0) {
    try {
      await applyMembers(deps, actor, tenantId, role, { add: members, remove: [] });
    } catch (error) {
      // A member deleted in between: the group is not left half made.
      await deps.catalogs.deleteRole(tenantId, name);
      throw error;
    }
  }
  return (await deps.catalogs.findRoleById(tenantId, role.id)) ?? role;
}

/**
 * Changes a group: its name (a rename keeps its id and its holders), its externalId and its
 * members (a diff, or the whole list). With `expectedRevision`, PRECONDITION_FAILED when the
 * group has changed since. Members are checked (they exist, the privilege rule) before
 * anything is written.
 */
export async function updateGroup(deps: CoreDeps, actor: Actor, tenantId: string, id: string, change: GroupChange, expectedRevision?: number): Promise<Role> {
  await loadTenant(deps.tenants, actor, 'catalog:read', tenantId);
  const renames = change.name !== undefined;
  const name = renames ? checkGroupName(change.name) : undefined;
  const externalId = checkExternalId(change.externalId);
  let role = await getGroup(deps, actor, tenantId, id);
  if (expectedRevision !== undefined && role.revision !== expectedRevision) throw new DomainError('PRECONDITION_FAILED', 'The group has changed since that version (If-Match).');

  const catalogChange = {
    ...(name !== undefined && name !== role.name && { name }),
    ...(externalId !== undefined && externalId !== role.externalId && { externalId }),
  };
  if (Object.keys(catalogChange).length > 0) authorize(actor, 'catalog:write', tenantId);
  if (catalogChange.name !== undefined) assertPermitted(checkRoleChange(actor, role, { name: catalogChange.name, admin: role.admin }));

  let members: { add: readonly string[]; remove: readonly string[] } | undefined;
  if (change.members !== undefined) {
    authorize(actor, 'users:write', tenantId);
    if ('set' in change.members) {
      const current = await allGroupMembers(deps, actor, tenantId, role);
      if (current === 'too-many') throw new DomainError('BATCH_TOO_LARGE', `A group of more than ${MAX_ROLE_MEMBERS_LISTED} members cannot have its members replaced at once.`);
      members = membershipDiff(current.map((m) => m.id), change.members.set);
    } else {
      members = change.members;
    }
    const named = [...new Set([...members.add, ...members.remove])];
    if (named.length > 0) await checkMembers(deps, actor, tenantId, role, named);
  }

  if (Object.keys(catalogChange).length > 0) {
    const at = deps.clock.now().toISOString();
    const detail = {
      name: catalogChange.name ?? role.name,
      fields: Object.keys(catalogChange).sort(),
      ...(catalogChange.name !== undefined && { previousName: role.name }),
      ...(catalogChange.externalId !== undefined && { externalId: catalogChange.externalId }),
    };
    const audit = auditEvent(deps, actor, tenantId, 'role.updated', role.id, detail, at);
    const result = await deps.catalogs.updateRole(tenantId, role.id, role.revision, catalogChange, at, audit);
    if (result.status !== 'updated') {
      if (result.status === 'missing') throw notFound();
      if (result.status === 'stale') throw new DomainError('PRECONDITION_FAILED', 'The group changed while this change was made: read it again.');
      const message = `A role named "${catalogChange.name}" already exists.`;
      throw new DomainError('CONFLICT', message, [fieldError('name', 'CONFLICT', message)]);
    }
    role = result.role;
  }
  if (members !== undefined) await applyMembers(deps, actor, tenantId, role, members);
  return (await deps.catalogs.findRoleById(tenantId, role.id)) ?? role;
}

/** Deletes a group: its role, which its holders lose. */
export async function deleteGroup(deps: CoreDeps, actor: Actor, tenantId: string, id: string, expectedRevision?: number): Promise<void> {
  await loadTenant(deps.tenants, actor, 'catalog:write', tenantId);
  const role = await getGroup(deps, actor, tenantId, id);
  if (expectedRevision !== undefined && role.revision !== expectedRevision) throw new DomainError('PRECONDITION_FAILED', 'The group has changed since that version (If-Match).');
  assertPermitted(checkRoleChange(actor, role, undefined));
  const at = deps.clock.now().toISOString();
  // Checked again on the role as the deleting transaction holds it (the same role, still as
  // it was judged), and audited there: the holders lose it, each with a new revision.
  const deleted = await deps.catalogs.deleteRole(
    tenantId,
    role.name,
    (before, holders) => {
      if (before.id !== role.id) throw notFound();
      assertPermitted(checkRoleChange(actor, before, undefined));
      return [auditEvent(deps, actor, tenantId, 'role.deleted', before.id, { name: before.name, admin: before.admin, holders }, at)];
    },
    at,
  );
  if (!deleted) throw notFound();
}

const SORT_KEYS: Record<GroupSortKey, (role: Role) => string> = {
  name: (r) => r.name,
  id: (r) => r.id,
  externalId: (r) => r.externalId ?? '',
  createdAt: (r) => r.createdAt,
  updatedAt: (r) => r.updatedAt,
};

/**
 * One page of the tenant's groups that `matches` (every group without it), sorted, and how
 * many match in all. A role catalog is short: it is read whole and filtered here; the
 * memberships `matches` needs are read from the users asked about.
 */
export async function searchGroups(deps: CoreDeps, actor: Actor, tenantId: string, search: GroupSearch): Promise<{ roles: Role[]; total: number }> {
  await loadTenant(deps.tenants, actor, 'catalog:read', tenantId);
  let roles = await deps.catalogs.listRoles(tenantId);
  if (search.matches) {
    const asked = [...new Set(search.membersAsked ?? [])];
    if (asked.length > MAX_MEMBERSHIP_LOOKUPS) throw invalid('filter', `A group search may ask about at most ${MAX_MEMBERSHIP_LOOKUPS} members.`);
    const holders = new Map<string, string[]>();
    if (asked.length > 0) {
      await loadTenant(deps.tenants, actor, 'users:read', tenantId);
      for (const userId of asked.filter(isUserId)) {
        const user = await deps.users.get(tenantId, userId);
        for (const roleName of user?.roles ?? []) holders.set(roleName, [...(holders.get(roleName) ?? []), userId]);
      }
    }
    const matches = search.matches;
    roles = roles.filter((role) => matches(role, holders.get(role.name) ?? []));
  }
  const key = SORT_KEYS[search.sortBy ?? 'name'];
  const sign = search.descending ? -1 : 1;
  roles = [...roles].sort((a, b) => (key(a) < key(b) ? -sign : key(a) > key(b) ? sign : 0));
  const offset = Math.max(0, search.offset);
  return { roles: roles.slice(offset, offset + Math.max(0, search.limit)), total: roles.length };
}
