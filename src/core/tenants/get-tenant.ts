import { authorize, type Actor } from '../credentials/actor.js';
import type { TenantStore } from '../ports.js';
import { loadTenant } from './load-tenant.js';
import type { Tenant } from './tenant.js';

export function getTenant(deps: { tenants: TenantStore }, actor: Actor, tenantId: string): Promise<Tenant> {
  return loadTenant(deps.tenants, actor, 'tenants:read', tenantId);
}

export async function listTenants(deps: { tenants: TenantStore }, actor: Actor): Promise<Tenant[]> {
  authorize(actor, 'tenants:list', null);
  return deps.tenants.list();
}
