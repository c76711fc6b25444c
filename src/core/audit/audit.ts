/**
 * The audit log: who (the API key), what (action, resource, tenant), when, through which API
 * (the dialect) and in which request. Each event is written in the transaction of the change
 * it records, so a change that rolls back leaves no event and no change goes unrecorded.
 */
import type { Actor, ActorContext } from '../credentials/actor.js';
import type { Clock, Ids } from '../ports.js';

export const AUDIT_ACTIONS = [
  'user.created',
  'user.updated',
  'user.deleted',
  'tenant.created',
  'tenant.updated',
  'api-key.issued',
  'api-key.revoked',
  'role.created',
  'role.updated',
  'role.deleted',
  'role.members-changed',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type AuditResourceType = 'user' | 'tenant' | 'api-key' | 'role';

/** Names of what changed, and other facts that are not secrets (never a password, hash or token). */
export type AuditDetail = Record<string, string | number | boolean | string[] | null>;

export interface AuditEvent {
  id: string;
  /** The tenant the change happened in (for a global key issued through a tenant, that tenant). */
  tenantId: string;
  action: AuditAction;
  resourceType: AuditResourceType;
  resourceId: string;
  /** The API key id, or `bootstrap` for MUSTER_ADMIN_TOKEN. */
  actorKeyId: string;
  actorRole: string;
  /** The API the request came through: `native`, a dialect's name, or null outside HTTP. */
  dialect: string | null;
  requestId: string | null;
  detail: AuditDetail;
  /** ISO 8601, UTC. */
  at: string;
}

const RESOURCE_OF: Record<AuditAction, AuditResourceType> = {
  'user.created': 'user',
  'user.updated': 'user',
  'user.deleted': 'user',
  'tenant.created': 'tenant',
  'tenant.updated': 'tenant',
  'api-key.issued': 'api-key',
  'api-key.revoked': 'api-key',
  'role.created': 'role',
  'role.updated': 'role',
  'role.deleted': 'role',
  'role.members-changed': 'role',
};

/** Who acted: an API key's actor, or another principal (an invitation's holder). */
export type AuditActor = Pick<Actor, 'keyId'> & { role: Actor['role'] | 'invitee'; context?: ActorContext | undefined };

/** An event of `action` on `resourceId` in `tenantId` by `actor`, now. */
export function auditEvent(
  deps: { clock: Clock; ids: Ids },
  actor: AuditActor,
  tenantId: string,
  action: AuditAction,
  resourceId: string,
  detail: AuditDetail = {},
  at: string = deps.clock.now().toISOString(),
): AuditEvent {
  return {
    id: deps.ids.uuid(),
    tenantId,
    action,
    resourceType: RESOURCE_OF[action],
    resourceId,
    actorKeyId: actor.keyId,
    actorRole: actor.role,
    dialect: actor.context?.dialect ?? null,
    requestId: actor.context?.requestId ?? null,
    detail,
    at,
  };
}
