import type { Actor } from '../credentials/actor.js';
import { DomainError } from '../errors.js';
import type { CoreDeps } from '../ports.js';
import { loadTenant } from '../tenants/load-tenant.js';
import type { User } from './user.js';
import { isUserId } from './user-id.js';

export async function getUser(deps: CoreDeps, tenantId: string, actor: Actor, id: string): Promise<User> {
  await loadTenant(deps.tenants, actor, 'users:read', tenantId);
  const user = isUserId(id) ? await deps.users.get(tenantId, id) : undefined;
  if (!user) throw new DomainError('NOT_FOUND', 'No such user.');
  return user;
}
