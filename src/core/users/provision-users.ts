/**
 * Users created on behalf of an administrator account (the provisioning API's seed 002: "the
 * application must be working on behalf of an authorized administrator account"): the one
 * create path, open to tenant admins and above only (the `users:provision` action). The rule
 * is the core's, so it holds whichever API or tool calls it.
 */
import { authorize, homeTenant, type Actor } from '../credentials/actor.js';
import type { CoreDeps } from '../ports.js';
import { loadTenantByAppKey } from '../tenants/app-key.js';
import { createUsers, type CreateUsersOptions, type CreateUsersResult } from './create-users.js';

/**
 * The tenant to provision users in: the one an application key names, or the credential's own
 * (`default` for a global key) without one. A credential below tenant admin is FORBIDDEN before
 * the key is looked up; an unknown key, or another tenant's, is NOT_FOUND.
 */
export async function provisioningTenant(deps: Pick<CoreDeps, 'tenants'>, actor: Actor, appKey: string | undefined): Promise<string> {
  authorize(actor, 'users:provision', null);
  if (appKey === undefined || appKey === '') return homeTenant(actor);
  return (await loadTenantByAppKey(deps.tenants, actor, 'users:provision', appKey)).id;
}

/** createUsers for a tenant admin or above: FORBIDDEN (nothing created) for any other credential. */
export async function provisionUsers(
  deps: CoreDeps,
  tenantId: string,
  actor: Actor,
  drafts: readonly unknown[],
  options: CreateUsersOptions = {},
): Promise<CreateUsersResult> {
  authorize(actor, 'users:provision', tenantId);
  return createUsers(deps, tenantId, actor, drafts, options);
}
