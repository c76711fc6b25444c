import { auditEvent } from '../audit/audit.js';
import type { Actor } from '../credentials/actor.js';
import { assertPermitted, checkUserChange } from '../credentials/privileges.js';
import { DomainError } from '../errors.js';
import type { CoreDeps } from '../ports.js';
import { loadTenant } from '../tenants/load-tenant.js';
import { isUserId } from '../users/user-id.js';
import { prepareUserEmails } from './compose-user-emails.js';

export interface ResentInvitation {
  userId: string;
  /** The outbox message that carries the new code. */
  messageId: string;
  expiresAt: string;
}

/**
 * Sends a user who has no password yet a new invitation: a new code, valid for the tenant's
 * invitation lifetime, in a new message; the user's earlier codes stop working and their unsent
 * messages are cancelled, in the same transaction. A user with a password has nothing to accept
 * (CONFLICT). Since accepting sets a password, the privilege rule for credentials applies.
 */
export async function resendInvitation(deps: CoreDeps, actor: Actor, tenantId: string, userId: string): Promise<ResentInvitation> {
  const tenant = await loadTenant(deps.tenants, actor, 'users:write', tenantId);
  const user = isUserId(userId) ? await deps.users.get(tenantId, userId) : undefined;
  if (!user) throw new DomainError('NOT_FOUND', 'No such user.');
  if (user.hasPassword) throw new DomainError('CONFLICT', 'This user has a password already: there is no invitation to send.');
  const held = user.roles.length > 0 ? await deps.catalogs.findRoles(tenantId, user.roles) : [];
  assertPermitted(checkUserChange(actor, held, ['password']));

  const composer = await prepareUserEmails(deps, tenant);
  const batch = await composer.compose([{ user, invite: true }]);
  const invitation = batch.invitations[0]!;
  const message = batch.messages[0]!;
  const audit = auditEvent(deps, actor, tenantId, 'user.updated', user.id, { invitation: 'resent' }, invitation.createdAt);
  const outcome = await deps.email.invitations.reissue(tenantId, user.id, batch, audit);
  if (outcome === 'missing') throw new DomainError('NOT_FOUND', 'No such user.');
  if (outcome === 'has-password') throw new DomainError('CONFLICT', 'This user has a password already: there is no invitation to send.');
  return { userId: user.id, messageId: message.id, expiresAt: invitation.expiresAt };
}
