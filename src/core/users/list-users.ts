import type { Actor } from '../credentials/actor.js';
import { DomainError } from '../errors.js';
import type { CoreDeps } from '../ports.js';
import { loadTenant } from '../tenants/load-tenant.js';
import { hasForbiddenCharacters, identityKey } from './normalise.js';
import type { User } from './user.js';

export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;

export interface ListUsersQuery {
  email?: string | undefined;
  userName?: string | undefined;
  limit?: number | undefined;
  /** Opaque cursor from a previous page. */
  cursor?: string | undefined;
}

function decodeCursor(cursor: string): number {
  // Only what nextCursor produces is accepted: base64url of a decimal user number.
  const decoded = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const number = /^(0|[1-9][0-9]{0,15})$/.test(decoded) ? Number(decoded) : NaN;
  if (!Number.isSafeInteger(number)) {
    throw new DomainError('INVALID_FIELD', 'The cursor is not valid.', [{ field: 'cursor', code: 'INVALID_FIELD', message: 'The cursor is not valid.' }]);
  }
  return number;
}

/** One page of a tenant's users in creation order; `nextCursor` is null on the last page. */
export async function listUsers(
  deps: CoreDeps,
  tenantId: string,
  actor: Actor,
  query: ListUsersQuery,
): Promise<{ users: User[]; nextCursor: string | null }> {
  await loadTenant(deps.tenants, actor, 'users:read', tenantId);
  for (const field of ['email', 'userName'] as const) {
    const value = query[field];
    if (value !== undefined && hasForbiddenCharacters(value)) {
      const message = `${field} must not contain control characters.`;
      throw new DomainError('INVALID_FIELD', message, [{ field, code: 'INVALID_FIELD', message }]);
    }
  }
  const limit = Math.min(Math.max(query.limit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
  const users = await deps.users.list(tenantId, {
    emailKey: query.email === undefined ? undefined : identityKey(query.email),
    userNameKey: query.userName === undefined ? undefined : identityKey(query.userName),
    afterNumber: query.cursor ? decodeCursor(query.cursor) : undefined,
    limit: limit + 1,
  });
  const page = users.slice(0, limit);
  const last = page[page.length - 1];
  const nextCursor = users.length > limit && last ? Buffer.from(String(last.number)).toString('base64url') : null;
  return { users: page, nextCursor };
}
