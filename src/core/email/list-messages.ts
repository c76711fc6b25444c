import type { Actor } from '../credentials/actor.js';
import { DomainError } from '../errors.js';
import type { CoreDeps } from '../ports.js';
import { loadTenant } from '../tenants/load-tenant.js';
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

/**
 * One page of a tenant's outbox, newest first, bodies included — what was or would have
 * been sent. An undelivered invitation shows its code: only tenant admins may read this.
 */
export async function listMessages(
  deps: Pick<CoreDeps, 'tenants' | 'email'>,
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
  return { messages: messages.map(({ seq: _seq, ...message }) => message), nextCursor };
}
