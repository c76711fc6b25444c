/**
 * The provisioning rule (users are provisioned on behalf of an administrator account: tenant
 * admins and above) is the core's: it holds for any caller of the use case, without HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/core/credentials/actor.js';
import { DomainError } from '../src/core/errors.js';
import type { CoreDeps } from '../src/core/ports.js';
import { createTenant } from '../src/core/tenants/create-tenant.js';
import { listUsers } from '../src/core/users/list-users.js';
import { provisioningTenant, provisionUsers } from '../src/core/users/provision-users.js';
import { createDependencies, prepareDatabase } from '../src/dependencies.js';
import type { Db } from '../src/storage/database.js';
import { createTestDatabase, type TestDatabase } from './helpers/databases.js';

const TENANT = 'core-provision';
const GLOBAL: Actor = { keyId: 'bootstrap', role: 'global-admin', tenantId: null };
const ADMIN: Actor = { keyId: 'k-admin', role: 'tenant-admin', tenantId: TENANT };
const MANAGER: Actor = { keyId: 'k-manager', role: 'user-manager', tenantId: TENANT };
const READER: Actor = { keyId: 'k-reader', role: 'reader', tenantId: TENANT };
const OTHER_ADMIN: Actor = { keyId: 'k-other', role: 'tenant-admin', tenantId: 'elsewhere' };

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

describe('provisioning users, in the core, on sqlite', () => {
  let database: TestDatabase;
  let db: Db;
  let core: CoreDeps;
  let appKey: string;

  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
    db = database.open();
    core = createDependencies(db);
    await prepareDatabase(db, core);
    appKey = (await createTenant(core, GLOBAL, { id: TENANT, name: 'Core provisioning' })).appKey;
    await createTenant(core, GLOBAL, { id: 'elsewhere', name: 'Elsewhere' });
  });
  afterAll(async () => {
    await db.close();
    await database.drop();
  });

  const emails = async () => (await listUsers(core, TENANT, GLOBAL, {})).users.map((u) => u.email);

  it('refuses a user manager and a reader with FORBIDDEN, creating nothing', async () => {
    for (const actor of [MANAGER, READER]) {
      const error = await refusal(provisionUsers(core, TENANT, actor, [{ email: `by-${actor.role}@core.test` }], { notify: false }));
      expect(error.code).toBe('FORBIDDEN');
      expect((await refusal(provisioningTenant(core, actor, undefined))).code).toBe('FORBIDDEN');
      // Refused for the role before the application key is looked at: an unknown key tells nothing.
      expect((await refusal(provisioningTenant(core, actor, 'app_no-such-key'))).code).toBe('FORBIDDEN');
    }
    expect(await emails()).toEqual([]);
  });

  it('hides another tenant from a tenant admin (NOT_FOUND), by its id or its application key', async () => {
    expect((await refusal(provisionUsers(core, TENANT, OTHER_ADMIN, [{ email: 'intruder@core.test' }], { notify: false }))).code).toBe('NOT_FOUND');
    expect((await refusal(provisioningTenant(core, OTHER_ADMIN, appKey))).code).toBe('NOT_FOUND');
    expect(await emails()).toEqual([]);
  });

  it('lets a tenant admin and a global admin provision, in the tenant the application key names', async () => {
    expect(await provisioningTenant(core, ADMIN, undefined)).toBe(TENANT);
    expect(await provisioningTenant(core, GLOBAL, appKey)).toBe(TENANT);
    const result = await provisionUsers(core, TENANT, ADMIN, [{ email: 'by-admin@core.test' }], { notify: false });
    expect(result.outcomes.map((o) => o.status)).toEqual(['created']);
    expect(await emails()).toEqual(['by-admin@core.test']);
  });
});
