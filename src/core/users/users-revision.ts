import type { Actor } from '../credentials/actor.js';
import type { TenantStore } from '../ports.js';
import { loadTenant } from '../tenants/load-tenant.js';

/**
 * The tenant's users revision: a number that grows with every change to the tenant's users,
 * for a caller allowed to read them. NOT_FOUND for a missing or foreign tenant, FORBIDDEN
 * below `reader`.
 */
export async function getUsersRevision(deps: { tenants: TenantStore }, actor: Actor, tenantId: string): Promise<number> {
  return (await loadTenant(deps.tenants, actor, 'users:read', tenantId)).usersRevision;
}
