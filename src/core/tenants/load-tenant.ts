import { authorize, type Action, type Actor } from '../credentials/actor.js';
import { DomainError } from '../errors.js';
import type { TenantStore } from '../ports.js';
import { TENANT_ID_PATTERN, type Tenant } from './tenant.js';

const tenantIdPattern = new RegExp(TENANT_ID_PATTERN);

/** Authorizes `action` on a tenant and loads it; NOT_FOUND for a missing or foreign tenant. */
export async function loadTenant(tenants: TenantStore, actor: Actor, action: Action, tenantId: string): Promise<Tenant> {
  authorize(actor, action, tenantId);
  // An id that is not a slug names no tenant; it never reaches the database.
  const tenant = tenantIdPattern.test(tenantId) ? await tenants.get(tenantId) : undefined;
  if (!tenant) throw new DomainError('NOT_FOUND', 'No such tenant.');
  return tenant;
}
