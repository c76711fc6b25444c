import type { Actor } from '../credentials/actor.js';
import { assertPermitted, checkRoleChange } from '../credentials/privileges.js';
import { DomainError } from '../errors.js';
import type { CoreDeps } from '../ports.js';
import type { Role } from './role.js';
import { changeRoleMembers } from './role-members.js';
import { newRole } from './role-catalog.js';

/**
 * Creates a role that does not exist yet (unlike `putRole`, which replaces one), optionally
 * with its first holders. CONFLICT when the name is taken. When the members cannot be added
 * (an unknown user, an admin role from a non-global key) the role is removed again, so that
 * the call has no effect.
 */
export async function createRole(deps: CoreDeps, actor: Actor, tenantId: string, name: string, input: unknown, members: readonly string[] = []): Promise<Role> {
  const role = await newRole(deps, actor, tenantId, name, input);
  assertPermitted(checkRoleChange(actor, undefined, role));
  if (!(await deps.catalogs.insertRole(role))) {
    const message = `A role named "${name}" already exists.`;
    throw new DomainError('CONFLICT', message, [{ field: 'name', code: 'CONFLICT', message }]);
  }
  if (members.length > 0) {
    try {
      await changeRoleMembers(deps, actor, tenantId, name, { add: members, remove: [] });
    } catch (error) {
      await deps.catalogs.deleteRole(tenantId, name);
      throw error;
    }
  }
  const [stored] = await deps.catalogs.findRoles(tenantId, [name]);
  return stored ?? role;
}
