import { auditEvent } from '../audit/audit.js';
import type { Actor } from '../credentials/actor.js';
import { DomainError } from '../errors.js';
import type { CoreDeps } from '../ports.js';
import { loadTenant } from '../tenants/load-tenant.js';
import { isUserId } from './user-id.js';

export async function deleteUser(deps: CoreDeps, tenantId: string, actor: Actor, id: string): Promise<void> {
  await loadTenant(deps.tenants, actor, 'users:delete', tenantId);
  if (!isUserId(id) || !(await deps.users.delete(tenantId, id, auditEvent(deps, actor, tenantId, 'user.deleted', id)))) throw new DomainError('NOT_FOUND', 'No such user.');
}
