import Type from 'typebox';
import { auditEvent } from '../audit/audit.js';
import type { ActorContext } from '../credentials/actor.js';
import { DomainError } from '../errors.js';
import { checkPassword } from '../passwords/password-policy.js';
import type { CoreDeps } from '../ports.js';
import { invalidInput } from '../tenants/create-tenant.js';
import { compileValidator } from '../validation.js';
import { hashInvitationToken } from './compose-user-emails.js';

export const AcceptInvitationSchema = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 200, writeOnly: true, description: 'The invitation code from the email.' }),
    password: Type.String({ minLength: 1, maxLength: 4096, writeOnly: true, description: "The user's new password, checked against the tenant's policy." }),
    confirmPassword: Type.Optional(Type.String({ maxLength: 4096, writeOnly: true })),
  },
  { additionalProperties: false },
);
const validateInput = compileValidator(AcceptInvitationSchema);

export interface AcceptedInvitation {
  tenantId: string;
  userId: string;
  userName: string;
}

const invalid = () => new DomainError('INVITATION_INVALID', 'This invitation code is not valid.');
const used = () => new DomainError('INVITATION_USED', 'This invitation has already been used; each works once.');
const expired = () => new DomainError('INVITATION_EXPIRED', 'This invitation has expired; ask an administrator for a new one.');

/**
 * Redeems an invitation: the token is the credential. The password is checked against the
 * user's tenant policy and hashed like any other; the invitation can be redeemed once, and
 * not after it expires. Errors never echo the token or the password.
 */
export async function acceptInvitation(
  deps: Pick<CoreDeps, 'email' | 'tenants' | 'hasher' | 'clock' | 'ids'>,
  input: unknown,
  context?: ActorContext,
): Promise<AcceptedInvitation> {
  const checked = validateInput(input);
  if (!checked.ok) throw invalidInput(checked.errors);
  const { token, password, confirmPassword } = checked.value;

  const invitation = await deps.email.invitations.findByTokenHash(hashInvitationToken(token));
  if (!invitation) throw invalid();
  if (invitation.usedAt !== null) throw used();
  const now = deps.clock.now().toISOString();
  if (invitation.expiresAt <= now) throw expired();

  if (confirmPassword !== undefined && confirmPassword !== password) {
    throw new DomainError('PASSWORD_MISMATCH', 'confirmPassword does not match password.', [
      { field: 'confirmPassword', code: 'PASSWORD_MISMATCH', message: 'confirmPassword does not match password.' },
    ]);
  }
  const tenant = await deps.tenants.get(invitation.tenantId);
  if (!tenant) throw invalid();
  const problems = checkPassword(tenant.passwordPolicy, password, { userName: invitation.userName, email: invitation.email });
  if (problems.length > 0) throw invalidInput(problems);

  const passwordHash = await deps.hasher.hash(password);
  const at = deps.clock.now().toISOString();
  // The invitation's holder is the actor: the audit log names the invitation, not an API key.
  const invitee = { keyId: `invitation:${invitation.id}`, role: 'invitee' as const, context };
  const audit = auditEvent(deps, invitee, invitation.tenantId, 'user.updated', invitation.userId, { fields: ['password'] }, at);
  const outcome = await deps.email.invitations.redeem(invitation.id, passwordHash, at, audit);
  switch (outcome) {
    case 'redeemed':
      return { tenantId: invitation.tenantId, userId: invitation.userId, userName: invitation.userName };
    case 'used':
      throw used();
    case 'expired':
      throw expired();
    case 'missing':
      throw invalid();
  }
}
