import type { Actor } from '../credentials/actor.js';
import { DomainError, fieldError } from '../errors.js';
import type { CoreDeps } from '../ports.js';
import { loadTenant } from '../tenants/load-tenant.js';
import { MAX_PAGE_SIZE } from './list-users.js';
import type { User } from './user.js';
import { checkUserFilter, isUserSortAttribute, type UserSortAttribute } from './user-filter.js';

/** The most users one search returns; a caller asking for more gets this many. */
export const MAX_SEARCH_RESULTS = MAX_PAGE_SIZE;

export interface SearchUsersQuery {
  /** A `UserFilter` tree; checked here, so it may come straight from a dialect's translation. */
  filter?: unknown;
  sortBy?: UserSortAttribute | undefined;
  descending?: boolean | undefined;
  /** How many matching users to skip (0-based). */
  offset?: number | undefined;
  /** At most this many users (0 counts without returning any); capped at MAX_SEARCH_RESULTS. */
  limit?: number | undefined;
}

function invalid(field: string, message: string): DomainError {
  return new DomainError('INVALID_FIELD', message, [fieldError(field, 'INVALID_FIELD', message)]);
}

/**
 * The tenant's users matching a filter, one page of them in a stable order (the sort
 * attribute, users without a value last, then creation order), with the number of all
 * matches. The filter runs in the database; nothing is filtered in memory.
 */
export async function searchUsers(deps: CoreDeps, tenantId: string, actor: Actor, query: SearchUsersQuery): Promise<{ users: User[]; total: number }> {
  await loadTenant(deps.tenants, actor, 'users:read', tenantId);
  const filter = query.filter === undefined ? undefined : checkUserFilter(query.filter);
  if (query.sortBy !== undefined && !isUserSortAttribute(query.sortBy)) throw invalid('sortBy', `Users cannot be sorted by "${String(query.sortBy)}".`);
  const offset = query.offset ?? 0;
  const limit = Math.min(query.limit ?? MAX_SEARCH_RESULTS, MAX_SEARCH_RESULTS);
  if (!Number.isSafeInteger(offset) || offset < 0) throw invalid('offset', 'offset must be a whole number, 0 or more.');
  if (!Number.isSafeInteger(limit) || limit < 0) throw invalid('limit', 'limit must be a whole number, 0 or more.');
  return deps.users.search(tenantId, { filter, sortBy: query.sortBy, descending: query.descending === true, offset, limit });
}
