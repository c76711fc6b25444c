import Type from 'typebox';
import type { Actor } from '../credentials/actor.js';
import { DomainError } from '../errors.js';
import type { CatalogStore, Clock, Role, TenantStore } from '../ports.js';
import { invalidInput } from '../tenants/create-tenant.js';
import { loadTenant } from '../tenants/load-tenant.js';
import { CODE_PATTERN } from '../users/user.js';
import { compileValidator, PlainText } from '../validation.js';

export const ROLE_NAME_PATTERN = CODE_PATTERN;

export const RoleBodySchema = Type.Object(
  {
    description: Type.Optional(PlainText({ maxLength: 500 })),
    admin: Type.Optional(Type.Boolean({ description: 'Holding this role makes a user an administrator; only a global admin may grant it.' })),
  },
  { additionalProperties: false },
);
const validateRoleBody = compileValidator(RoleBodySchema);
const namePattern = new RegExp(ROLE_NAME_PATTERN);

type Deps = { catalogs: CatalogStore; tenants: TenantStore; clock: Clock };

/** Creates or replaces a role; `created` tells which. */
export async function putRole(deps: Deps, actor: Actor, tenantId: string, name: string, input: unknown): Promise<{ role: Role; created: boolean }> {
  await loadTenant(deps.tenants, actor, 'catalog:write', tenantId);
  if (!namePattern.test(name)) throw invalidInput([{ field: 'name', code: 'INVALID_FIELD', message: `Role names must match ${ROLE_NAME_PATTERN}.` }]);
  const checked = validateRoleBody(input ?? {});
  if (!checked.ok) throw invalidInput(checked.errors);
  const now = deps.clock.now().toISOString();
  const role: Role = { tenantId, name, description: checked.value.description ?? null, admin: checked.value.admin ?? false, createdAt: now, updatedAt: now };
  const created = await deps.catalogs.putRole(role);
  const [stored] = await deps.catalogs.findRoles(tenantId, [name]);
  return { role: stored ?? role, created };
}

export async function listRoles(deps: Deps, actor: Actor, tenantId: string): Promise<Role[]> {
  await loadTenant(deps.tenants, actor, 'catalog:read', tenantId);
  return deps.catalogs.listRoles(tenantId);
}

export async function getRole(deps: Deps, actor: Actor, tenantId: string, name: string): Promise<Role> {
  await loadTenant(deps.tenants, actor, 'catalog:read', tenantId);
  const [role] = namePattern.test(name) ? await deps.catalogs.findRoles(tenantId, [name]) : [];
  if (!role) throw new DomainError('NOT_FOUND', 'No such role.');
  return role;
}

/** Deletes a role; users holding it lose it. */
export async function deleteRole(deps: Deps, actor: Actor, tenantId: string, name: string): Promise<void> {
  await loadTenant(deps.tenants, actor, 'catalog:write', tenantId);
  if (!namePattern.test(name) || !(await deps.catalogs.deleteRole(tenantId, name))) throw new DomainError('NOT_FOUND', 'No such role.');
}
