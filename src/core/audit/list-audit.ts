import type { Actor } from '../credentials/actor.js';
import { DomainError, fieldError } from '../errors.js';
import type { CoreDeps } from '../ports.js';
import { loadTenant } from '../tenants/load-tenant.js';
import type { AuditAction, AuditEvent } from './audit.js';

export const MAX_AUDIT_PAGE = 200;
export const DEFAULT_AUDIT_PAGE = 50;

export interface ListAuditQuery {
  action?: AuditAction | undefined;
  /** The acting API key's id (`bootstrap` for MUSTER_ADMIN_TOKEN). */
  actor?: string | undefined;
  resourceId?: string | undefined;
  /** Events at or after this instant (ISO 8601). */
  since?: string | undefined;
  /** Events before this instant (ISO 8601). */
  until?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

function invalid(field: string, message: string): DomainError {
  return new DomainError('INVALID_FIELD', message, [fieldError(field, 'INVALID_FIELD', message)]);
}

function decodeCursor(cursor: string): number {
  const seq = Number(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!Number.isSafeInteger(seq) || seq < 1) throw invalid('cursor', 'The cursor is not valid.');
  return seq;
}

function instant(field: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw invalid(field, `${field} must be a date-time (ISO 8601).`);
  return new Date(time).toISOString();
}

/** One page of a tenant's audit log, newest first, filtered; tenant admins and above. */
export async function listAuditEvents(
  deps: Pick<CoreDeps, 'tenants' | 'audit'>,
  actor: Actor,
  tenantId: string,
  query: ListAuditQuery,
): Promise<{ events: AuditEvent[]; nextCursor: string | null }> {
  await loadTenant(deps.tenants, actor, 'audit:read', tenantId);
  const limit = Math.min(Math.max(query.limit ?? DEFAULT_AUDIT_PAGE, 1), MAX_AUDIT_PAGE);
  const rows = await deps.audit.list(tenantId, {
    action: query.action,
    actorKeyId: query.actor,
    resourceId: query.resourceId,
    since: instant('since', query.since),
    until: instant('until', query.until),
    beforeSeq: query.cursor ? decodeCursor(query.cursor) : undefined,
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const nextCursor = rows.length > limit && last ? Buffer.from(String(last.seq)).toString('base64url') : null;
  return { events: page.map(({ seq: _seq, ...event }) => event), nextCursor };
}
