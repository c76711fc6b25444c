import { isGlobal, type Actor } from '../credentials/actor.js';
import { DomainError } from '../errors.js';
import type { CoreDeps } from '../ports.js';
import { loadTenant } from '../tenants/load-tenant.js';
import { INVITATION_TOKEN_PREFIX } from './compose-user-emails.js';
import type { EmailMessage, MessageStatus } from './email.js';

export const MAX_MESSAGE_PAGE = 200;
export const DEFAULT_MESSAGE_PAGE = 50;

export interface ListMessagesQuery {
  status?: MessageStatus | undefined;
  userId?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

function decodeCursor(cursor: string): number {
  const seq = Number(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw new DomainError('INVALID_FIELD', 'The cursor is not valid.', [{ field: 'cursor', code: 'INVALID_FIELD', message: 'The cursor is not valid.' }]);
  }
  return seq;
}

/** An invitation code as composed (`inv_` and 32 random bytes, base64url), wherever it appears in a message. */
const INVITATION_CODE = new RegExp(`${INVITATION_TOKEN_PREFIX}[A-Za-z0-9_-]{43}`, 'g');
const WITHHELD = '[invitation code withheld: only a global administrator may read it]';

/**
 * Takes the invitation codes out of the messages of users who hold an admin role, for an
 * actor who may not grant that role: a code sets its user's password, so reading it would be
 * changing an administrator's credentials (the privilege rule).
 */
async function withoutAdminCodes(deps: Pick<CoreDeps, 'users'>, actor: Actor, tenantId: string, messages: EmailMessage[]): Promise<EmailMessage[]> {
  if (isGlobal(actor)) return messages;
  const userIds = [...new Set(messages.flatMap((m) => (m.userId !== null ? [m.userId] : [])))];
  if (userIds.length === 0) return messages;
  const adminRoles = await deps.users.adminRolesOf(tenantId, userIds);
  const hide = (value: string) => value.replace(INVITATION_CODE, WITHHELD);
  return messages.map((m) =>
    m.userId !== null && (adminRoles.get(m.userId)?.length ?? 0) > 0 ? { ...m, subject: hide(m.subject), text: hide(m.text), html: hide(m.html) } : m,
  );
}

/**
 * One page of a tenant's outbox, newest first, bodies included — what was or would have
 * been sent. An undelivered invitation shows its code: only tenant admins may read this, and
 * only a global admin reads the code of a user holding an admin role.
 */
export async function listMessages(
  deps: Pick<CoreDeps, 'tenants' | 'email' | 'users'>,
  actor: Actor,
  tenantId: string,
  query: ListMessagesQuery,
): Promise<{ messages: EmailMessage[]; nextCursor: string | null }> {
  await loadTenant(deps.tenants, actor, 'email:read', tenantId);
  const limit = Math.min(Math.max(query.limit ?? DEFAULT_MESSAGE_PAGE, 1), MAX_MESSAGE_PAGE);
  const page = await deps.email.outbox.list(tenantId, {
    status: query.status,
    userId: query.userId,
    beforeSeq: query.cursor ? decodeCursor(query.cursor) : undefined,
    limit: limit + 1,
  });
  const messages = page.messages.slice(0, limit);
  const last = messages[messages.length - 1];
  const nextCursor = page.messages.length > limit && last ? Buffer.from(String(last.seq)).toString('base64url') : null;
  const shown = await withoutAdminCodes(deps, actor, tenantId, messages.map(({ seq: _seq, ...message }) => message));
  return { messages: shown, nextCursor };
}
