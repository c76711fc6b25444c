/**
 * Export: a tenant's users, read page by page in creation order so that a tenant of any size
 * streams out in bounded memory. Who may list the users may export them; authorization
 * happens before the first user is read.
 */
import type { Actor } from '../credentials/actor.js';
import type { TenantStore, UserStore } from '../ports.js';
import { loadTenant } from '../tenants/load-tenant.js';
import type { User } from '../users/user.js';

/** Users read from the database per round while an export streams out. */
export const EXPORT_PAGE = 1000;

export async function exportUsers(deps: { tenants: TenantStore; users: UserStore }, tenantId: string, actor: Actor): Promise<AsyncIterable<User>> {
  const tenant = await loadTenant(deps.tenants, actor, 'users:read', tenantId);
  async function* pages(): AsyncGenerator<User> {
    let afterNumber: number | undefined;
    for (;;) {
      const page = await deps.users.list(tenant.id, { afterNumber, limit: EXPORT_PAGE });
      yield* page;
      if (page.length < EXPORT_PAGE) return;
      afterNumber = page.at(-1)!.number;
    }
  }
  return pages();
}
