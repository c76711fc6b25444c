import { auditEvent } from '../audit/audit.js';
import type { Actor } from '../credentials/actor.js';
import { assertPermitted, checkUserDelete } from '../credentials/privileges.js';
import { DomainError } from '../errors.js';
import type { CoreDeps, UserStore } from '../ports.js';
import { loadTenant } from '../tenants/load-tenant.js';
import { isUserId } from './user-id.js';

/** Reads and tries again when the user changed between the read and the delete. */
const DELETE_ATTEMPTS = 3;

/** What deleting a user reads and writes. */
export type DeleteUserPorts = Pick<CoreDeps, 'tenants' | 'catalogs' | 'clock' | 'ids'> & { users: Pick<UserStore, 'get' | 'delete'> };

/**
 * Deletes a user and, with it (in the same transaction, by the foreign keys), its invitations
 * and its unsent messages. A user holding an admin role is deleted only by an actor who may
 * grant that role (ADMIN_ROLE_FORBIDDEN).
 */
export async function deleteUser(deps: DeleteUserPorts, tenantId: string, actor: Actor, id: string): Promise<void> {
  await loadTenant(deps.tenants, actor, 'users:delete', tenantId);
  // The user is deleted only at the revision its roles were judged at: one given an admin role
  // (or whose role became one) in between is judged again.
  for (let attempt = 1; ; attempt++) {
    const current = isUserId(id) ? await deps.users.get(tenantId, id) : undefined;
    if (!current) throw new DomainError('NOT_FOUND', 'No such user.');
    const held = current.roles.length > 0 ? await deps.catalogs.findRoles(tenantId, current.roles) : [];
    assertPermitted(checkUserDelete(actor, held));
    if (await deps.users.delete(tenantId, id, auditEvent(deps, actor, tenantId, 'user.deleted', id), current.revision)) return;
    if (attempt >= DELETE_ATTEMPTS) throw new DomainError('PRECONDITION_FAILED', 'The user kept changing while it was being deleted; try again.');
  }
}
