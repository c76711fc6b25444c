import { authorize, type Action, type Actor } from '../credentials/actor.js';
import { DomainError } from '../errors.js';
import type { TenantStore } from '../ports.js';
import type { Tenant } from './tenant.js';

/** Authorizes `action` on a tenant and loads it; NOT_FOUND for a missing or foreign tenant. */
export async function loadTenant(tenants: TenantStore, actor: Actor, action: Action, tenantId: string): Promise<Tenant> {
  authorize(actor, action, tenantId);
  const tenant = await tenants.get(tenantId);
  if (!tenant) throw new DomainError('NOT_FOUND', 'No such tenant.');
  return tenant;
}
