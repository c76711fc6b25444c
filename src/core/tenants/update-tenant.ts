import { auditEvent } from '../audit/audit.js';
import { authorize, hasRoleAtLeast, type Actor } from '../credentials/actor.js';
import { DomainError } from '../errors.js';
import type { Clock, Ids, TenantStore } from '../ports.js';
import { compileValidator } from '../validation.js';
import { invalidInput, mergePasswordPolicy, TenantSettingsSchema } from './create-tenant.js';
import { loadTenant } from './load-tenant.js';
import type { Tenant } from './tenant.js';

const validateSettings = compileValidator(TenantSettingsSchema);

/**
 * Changes a tenant's settings. A tenant admin may change its own domains and password
 * policy; only a global admin changes the seat limit (seats are what the tenant pays for).
 */
export async function updateTenant(deps: { tenants: TenantStore; clock: Clock; ids: Ids }, actor: Actor, tenantId: string, input: unknown): Promise<Tenant> {
  const tenant = await loadTenant(deps.tenants, actor, 'tenants:update', tenantId);
  const checked = validateSettings(input);
  if (!checked.ok) throw invalidInput(checked.errors);
  const body = checked.value;
  if (body.seatLimit !== undefined && !hasRoleAtLeast(actor, 'global-admin')) {
    authorize(actor, 'tenants:set-seats', tenantId);
  }
  const now = deps.clock.now().toISOString();
  const fields = Object.keys(body).sort();
  const updated = await deps.tenants.update(
    tenantId,
    {
      ...(body.name !== undefined && { name: body.name }),
      ...(body.seatLimit !== undefined && { seatLimit: body.seatLimit }),
      ...(body.emailDomains !== undefined && { emailDomains: { ...tenant.emailDomains, ...body.emailDomains } }),
      ...(body.passwordPolicy !== undefined && { passwordPolicy: mergePasswordPolicy(tenant.passwordPolicy, body.passwordPolicy) }),
    },
    now,
    auditEvent(deps, actor, tenantId, 'tenant.updated', tenantId, { fields }, now),
  );
  if (!updated) throw new DomainError('NOT_FOUND', 'No such tenant.');
  return updated;
}
