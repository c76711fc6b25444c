import type { FastifyRequest } from 'fastify';
import { homeTenant, type Actor } from '../../core/credentials/actor.js';
import { fieldError } from '../../core/errors.js';
import type { CoreDeps } from '../../core/ports.js';
import { MAX_SEARCH_RESULTS } from '../../core/users/search-users.js';
import { publicBase } from '../shared/public-url.js';
import { ScimProtocolError } from './map-error.js';

/** Where SCIM is served. */
export const SCIM_PREFIX = '/scim/v2';

/** What every SCIM operation needs: the core, who acts, in which tenant, and the absolute base URL for locations. */
export interface ScimContext {
  core: CoreDeps;
  actor: Actor;
  /** From the key: a tenant-bound key's tenant, `default` for a global key. */
  tenantId: string;
  /** e.g. `https://muster.example.com/scim/v2`: from MUSTER_PUBLIC_URL when set. */
  base: string;
}

export function contextOf(request: FastifyRequest, core: CoreDeps): ScimContext {
  return { core, actor: request.actor, tenantId: homeTenant(request.actor), base: `${publicBase(request)}${SCIM_PREFIX}` };
}

function invalidValue(field: string, message: string): ScimProtocolError {
  return new ScimProtocolError('INVALID_FIELD', 'invalidValue', message, [fieldError(field, 'INVALID_FIELD', message)]);
}

/** An integer query parameter or search attribute; invalidValue when it is not one. */
function integer(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*-?\d{1,15}\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw invalidValue(field, `${field} must be an integer.`);
  return n;
}

/**
 * `startIndex` and `count` (RFC 7644 §3.4.2.4): 1-based, a start below 1 is 1, a negative
 * count is 0, and a count past `filter.maxResults` is that maximum.
 */
export function pageOf(startIndex: unknown, count: unknown): { startIndex: number; count: number } {
  const start = Math.max(1, integer(startIndex, 'startIndex') ?? 1);
  const wanted = integer(count, 'count');
  return { startIndex: start, count: wanted === undefined ? MAX_SEARCH_RESULTS : Math.min(Math.max(0, wanted), MAX_SEARCH_RESULTS) };
}
