import Type from 'typebox';
import { auditEvent } from '../audit/audit.js';
import type { Actor } from '../credentials/actor.js';
import { assertPermitted, checkRoleChange } from '../credentials/privileges.js';
import { DomainError } from '../errors.js';
import type { CatalogStore, Clock, Ids, TenantStore } from '../ports.js';
import type { Role } from './role.js';
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

type Deps = { catalogs: CatalogStore; tenants: TenantStore; clock: Clock; ids: Ids };

/**
 * A role as it would be stored new, from its name and body as a client sent them: the tenant
 * must allow the actor to write catalogs, the name must match ROLE_NAME_PATTERN and the body
 * RoleBodySchema. Who may then store it is the privilege rule's question, not this one's.
 */
export async function newRole(
  deps: { tenants: TenantStore; clock: Clock; ids: Ids },
  actor: Actor,
  tenantId: string,
  name: string,
  input: unknown,
): Promise<Role> {
  await loadTenant(deps.tenants, actor, 'catalog:write', tenantId);
  if (!namePattern.test(name)) {
    throw invalidInput([{ field: 'name', code: 'INVALID_FIELD', message: `Role names must match ${ROLE_NAME_PATTERN}: letters, digits, spaces and _ . : - (at most 100).` }]);
  }
  const checked = validateRoleBody(input ?? {});
  if (!checked.ok) throw invalidInput(checked.errors);
  const now = deps.clock.now().toISOString();
  return {
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
}

/**
 * Creates or replaces a role; `created` tells which. Only a global admin creates a role with
 * `admin: true` or sets or clears the flag of an existing one (ADMIN_ROLE_FORBIDDEN); a
 * replacement without `admin` clears it. A change of the flag gives every holder a new
 * revision. Each creation or change is audited.
 */
export async function putRole(deps: Deps, actor: Actor, tenantId: string, name: string, input: unknown): Promise<{ role: Role; created: boolean }> {
  const role = await newRole(deps, actor, tenantId, name, input);
  const now = role.createdAt;
  const created = await deps.catalogs.putRole(role, (before) => {
    assertPermitted(checkRoleChange(actor, before, role));
    // The role's id names it in the audit log, as it outlives a rename; the name is in the detail.
    if (!before) return [auditEvent(deps, actor, tenantId, 'role.created', role.id, { name, admin: role.admin }, now)];
    const fields = [...(before.admin !== role.admin ? ['admin'] : []), ...(before.description !== role.description ? ['description'] : [])];
    if (fields.length === 0) return [];
    return [auditEvent(deps, actor, tenantId, 'role.updated', before.id, { name, fields, admin: role.admin, ...(fields.includes('admin') && { wasAdmin: before.admin }) }, now)];
  });
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

/**
 * Deletes a role; users holding it lose it, and each gets a new revision. Only a global admin
 * deletes an admin role (ADMIN_ROLE_FORBIDDEN). The deletion is audited with the holders' count.
 */
export async function deleteRole(deps: Deps, actor: Actor, tenantId: string, name: string): Promise<void> {
  await loadTenant(deps.tenants, actor, 'catalog:write', tenantId);
  const at = deps.clock.now().toISOString();
  const deleted =
    namePattern.test(name) &&
    (await deps.catalogs.deleteRole(
      tenantId,
      name,
      (before, holders) => {
        assertPermitted(checkRoleChange(actor, before, undefined));
        return [auditEvent(deps, actor, tenantId, 'role.deleted', before.id, { name, admin: before.admin, holders }, at)];
      },
      at,
    ));
  if (!deleted) throw new DomainError('NOT_FOUND', 'No such role.');
}
