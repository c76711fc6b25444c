import { authorize, type Action, type Actor } from '../credentials/actor.js';
import { DomainError } from '../errors.js';
import type { TenantStore } from '../ports.js';
import type { Tenant } from './tenant.js';

/** What a generated application key looks like: `app_` and base64url characters (see `newAppKey`). */
export const APP_KEY_PATTERN = '^app_[A-Za-z0-9_-]{1,128}$';
const appKeyPattern = new RegExp(APP_KEY_PATTERN);

/**
 * The tenant an application key names, authorized for `action`. An unknown key and another
 * tenant's key both answer NOT_FOUND with the same message, so a key cannot be used to learn
 * that another tenant exists; a key of the actor's own tenant with too low a role is FORBIDDEN.
 */
export async function loadTenantByAppKey(tenants: TenantStore, actor: Actor, action: Action, appKey: string): Promise<Tenant> {
  const tenant = appKeyPattern.test(appKey) ? await tenants.getByAppKey(appKey) : undefined;
  if (!tenant) throw new DomainError('NOT_FOUND', 'No such application.');
  try {
    authorize(actor, action, tenant.id);
  } catch (error) {
    if (error instanceof DomainError && error.code === 'NOT_FOUND') throw new DomainError('NOT_FOUND', 'No such application.');
    throw error;
  }
  return tenant;
}
