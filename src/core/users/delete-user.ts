import { auditEvent } from '../audit/audit.js';
import type { Actor } from '../credentials/actor.js';
import { assertPermitted, checkUserDelete } from '../credentials/privileges.js';
import { DomainError } from '../errors.js';
import type { CoreDeps } from '../ports.js';
import { loadTenant } from '../tenants/load-tenant.js';
import { isUserId } from './user-id.js';

/**
 * Deletes a user and, with it (in the same transaction, by the foreign keys), its invitations
 * and its unsent messages. A user holding an admin role is deleted only by an actor who may
 * grant that role (ADMIN_ROLE_FORBIDDEN).
 */
export async function deleteUser(deps: CoreDeps, tenantId: string, actor: Actor, id: string): Promise<void> {
  await loadTenant(deps.tenants, actor, 'users:delete', tenantId);
  const current = isUserId(id) ? await deps.users.get(tenantId, id) : undefined;
  if (!current) throw new DomainError('NOT_FOUND', 'No such user.');
  const held = current.roles.length > 0 ? await deps.catalogs.findRoles(tenantId, current.roles) : [];
  assertPermitted(checkUserDelete(actor, held));
  if (!(await deps.users.delete(tenantId, id, auditEvent(deps, actor, tenantId, 'user.deleted', id)))) throw new DomainError('NOT_FOUND', 'No such user.');
}
