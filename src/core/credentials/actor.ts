/**
 * Who is acting, and what each role may do. The rules of PRODUCT.md §2 live here and
 * nowhere else; HTTP layers only find out who the actor is.
 */
import { DomainError } from '../errors.js';

export const KEY_ROLES = ['global-admin', 'tenant-admin', 'user-manager', 'reader'] as const;
export type KeyRole = (typeof KEY_ROLES)[number];

/** An authenticated principal: an API key, or the bootstrap admin token. */
export interface Actor {
  /** The API key id, or `bootstrap` for `MUSTER_ADMIN_TOKEN`. */
  keyId: string;
  role: KeyRole;
  /** The tenant the key is bound to; null for a global key. */
  tenantId: string | null;
  /** Where the request came from, for the audit log; absent outside HTTP (CLI, jobs, tests of the core). */
  context?: ActorContext;
}

export interface ActorContext {
  /** The API the request came through: `native`, or a dialect's name (`simple`, `batch`, `scim`, …). */
  dialect: string;
  /** The request's id (its `x-request-id`). */
  requestId: string;
}

const RANK: Record<KeyRole, number> = {
  reader: 1,
  'user-manager': 2,
  'tenant-admin': 3,
  'global-admin': 4,
};

/** The least role each action needs. */
export const ACTIONS = {
  'tenants:create': 'global-admin',
  'tenants:list': 'global-admin',
  'tenants:read': 'tenant-admin',
  'tenants:update': 'tenant-admin',
  'tenants:set-seats': 'global-admin',
  'keys:manage': 'tenant-admin',
  'catalog:read': 'tenant-admin',
  'catalog:write': 'tenant-admin',
  'users:read': 'reader',
  'users:write': 'user-manager',
  'users:delete': 'tenant-admin',
  /**
   * Creating users on behalf of an administrator account, as the provisioning API's seed
   * requires ("the application must be working on behalf of an authorized administrator
   * account"): tenant admins and above.
   */
  'users:provision': 'tenant-admin',
  /** The outbox shows invitation codes while they are undelivered: tenant admins only. */
  'email:read': 'tenant-admin',
  'email:configure': 'tenant-admin',
  /**
   * Checking a user's password (a sign-in backend): user managers and above. A reader may not,
   * since each check is a password guess and a success may re-hash the stored password.
   */
  'credentials:verify': 'user-manager',
  /** Who changed what: tenant admins and above. */
  'audit:read': 'tenant-admin',
} as const satisfies Record<string, KeyRole>;
export type Action = keyof typeof ACTIONS;

export function isGlobal(actor: Actor): boolean {
  return actor.role === 'global-admin';
}

export function hasRoleAtLeast(actor: Actor, role: KeyRole): boolean {
  return RANK[actor.role] >= RANK[role];
}

/** True when the actor may see the tenant at all (its own tenant, or any for a global key). */
export function canSeeTenant(actor: Actor, tenantId: string): boolean {
  return isGlobal(actor) || actor.tenantId === tenantId;
}

/**
 * Throws NOT_FOUND when the tenant is not the actor's (another tenant's resources are
 * invisible, never "forbidden"), and FORBIDDEN when the actor's role is too low.
 */
export function authorize(actor: Actor, action: Action, tenantId: string | null): void {
  if (tenantId !== null && !canSeeTenant(actor, tenantId)) {
    throw new DomainError('NOT_FOUND', 'No such tenant.');
  }
  if (!hasRoleAtLeast(actor, ACTIONS[action])) {
    throw new DomainError('FORBIDDEN', `This credential's role (${actor.role}) may not do this.`);
  }
}

/**
 * The tenant a request acts in when its API names none (dialects without a tenant in the
 * path): the key's own tenant, or `default` for a global key.
 */
export function homeTenant(actor: Actor): string {
  return actor.tenantId ?? 'default';
}
