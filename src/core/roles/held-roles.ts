import type { Actor } from '../credentials/actor.js';
import type { CatalogStore, TenantStore } from '../ports.js';
import type { Role } from './role.js';
import { loadTenant } from '../tenants/load-tenant.js';

/**
 * The role records behind a user's role names, in the user's order: what a reader of that
 * user may see of the roles it holds (a name that no longer exists is left out).
 */
export async function rolesHeld(
  deps: { tenants: TenantStore; catalogs: CatalogStore },
  actor: Actor,
  tenantId: string,
  names: readonly string[],
): Promise<Role[]> {
  await loadTenant(deps.tenants, actor, 'users:read', tenantId);
  if (names.length === 0) return [];
  const byName = new Map((await deps.catalogs.findRoles(tenantId, names)).map((role) => [role.name, role]));
  return names.flatMap((name) => byName.get(name) ?? []);
}
