/**
 * Role membership seen from the role: who holds it, and giving it to or taking it from many
 * users at once. This is what directory groups become (SCIM Groups are roles). The rules are
 * those of changing users' roles one by one: `users:write`, roles that exist, and an `admin`
 * role granted only by a global admin (checked by the same `checkReferences`).
 */
import type { Actor } from '../credentials/actor.js';
import { DomainError, fieldError } from '../errors.js';
import type { CoreDeps, RoleMember } from '../ports.js';
import type { Role } from './role.js';
import { loadTenant } from '../tenants/load-tenant.js';
import { checkReferences } from '../users/check-references.js';
import { isUserId } from '../users/user-id.js';

/** The most members one read lists; a role with more is read without its members. */
export const MAX_ROLE_MEMBERS_LISTED = 10_000;

/** The most users one membership change may name. */
export const MAX_MEMBER_CHANGES = 10_000;

async function existingRole(deps: CoreDeps, tenantId: string, name: string): Promise<Role> {
  const [role] = await deps.catalogs.findRoles(tenantId, [name]);
  if (!role) throw new DomainError('NOT_FOUND', 'No such role.');
  return role;
}

/**
 * Holders of a role in creation order, at most `limit` (capped at MAX_ROLE_MEMBERS_LISTED), or
 * only those among `among` that hold it. A caller that needs every member asks for one more
 * than it can show, to learn that there are more.
 */
export async function listRoleMembers(
  deps: CoreDeps,
  actor: Actor,
  tenantId: string,
  name: string,
  options: { limit: number; among?: readonly string[] },
): Promise<RoleMember[]> {
  await loadTenant(deps.tenants, actor, 'users:read', tenantId);
  await existingRole(deps, tenantId, name);
  const among = options.among?.filter(isUserId);
  return deps.users.listRoleMembers(tenantId, name, { limit: Math.min(Math.max(options.limit, 0), MAX_ROLE_MEMBERS_LISTED + 1), ...(among && { among }) });
}

/**
 * Gives the role to the users in `add` and takes it from those in `remove`, in one
 * transaction; users whose roles change get a new revision. UNKNOWN_REFERENCE (field
 * `members`) when an id names no user of the tenant, and nothing changes.
 */
export async function changeRoleMembers(
  deps: CoreDeps,
  actor: Actor,
  tenantId: string,
  name: string,
  change: { add: readonly string[]; remove: readonly string[] },
): Promise<void> {
  await loadTenant(deps.tenants, actor, 'users:write', tenantId);
  if (change.add.length + change.remove.length > MAX_MEMBER_CHANGES) {
    throw new DomainError('BATCH_TOO_LARGE', `One change may name at most ${MAX_MEMBER_CHANGES} members.`);
  }
  await existingRole(deps, tenantId, name);
  if (change.add.length > 0) {
    const [problems = []] = await checkReferences(deps.catalogs, tenantId, actor, [{ roles: [name], access: {} }]);
    if (problems.length > 0) {
      const first = problems[0]!;
      throw new DomainError(first.code, first.message, problems.map((p) => fieldError('members', p.code, p.message)));
    }
  }
  const unknown = [...change.add, ...change.remove].filter((id) => !isUserId(id));
  const { missing } =
    unknown.length > 0 ? { missing: unknown } : await deps.users.changeRoleMembers(tenantId, name, change, deps.clock.now().toISOString());
  if (missing.length > 0) {
    const message = `No user of this tenant has the id "${missing[0]}".`;
    throw new DomainError('UNKNOWN_REFERENCE', message, missing.map((id) => fieldError('members', 'UNKNOWN_REFERENCE', `No user of this tenant has the id "${id}".`)));
  }
}
