import type { Actor } from '../credentials/actor.js';
import { assertPermitted, checkRoleChange } from '../credentials/privileges.js';
import { DomainError } from '../errors.js';
import type { CoreDeps, Role } from '../ports.js';
import { invalidInput } from '../tenants/create-tenant.js';
import { loadTenant } from '../tenants/load-tenant.js';
import { compileValidator } from '../validation.js';
import { changeRoleMembers } from './role-members.js';
import { ROLE_NAME_PATTERN, RoleBodySchema } from './role-catalog.js';

const validateRoleBody = compileValidator(RoleBodySchema);
const namePattern = new RegExp(ROLE_NAME_PATTERN);

/**
 * Creates a role that does not exist yet (unlike `putRole`, which replaces one), optionally
 * with its first holders. CONFLICT when the name is taken. When the members cannot be added
 * (an unknown user, an admin role from a non-global key) the role is removed again, so that
 * the call has no effect.
 */
export async function createRole(deps: CoreDeps, actor: Actor, tenantId: string, name: string, input: unknown, members: readonly string[] = []): Promise<Role> {
  await loadTenant(deps.tenants, actor, 'catalog:write', tenantId);
  if (!namePattern.test(name)) {
    throw invalidInput([{ field: 'name', code: 'INVALID_FIELD', message: `Role names must match ${ROLE_NAME_PATTERN}: letters, digits, spaces and _ . : - (at most 100).` }]);
  }
  const checked = validateRoleBody(input ?? {});
  if (!checked.ok) throw invalidInput(checked.errors);
  const now = deps.clock.now().toISOString();
  const role: Role = {
    tenantId,
    id: deps.ids.uuid(),
    name,
    description: checked.value.description ?? null,
    admin: checked.value.admin ?? false,
    externalId: null,
    revision: 1,
    createdAt: now,
    updatedAt: now,
  };
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
