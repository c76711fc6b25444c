/**
 * The core's groups (src/core/groups/groups.ts) on a real SQLite file, without HTTP: naming
 * rule, membership diffs, renames that keep the id, the privilege rule and the audit events,
 * paging and sorting of the role catalog.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/core/credentials/actor.js';
import { createGroup, deleteGroup, getGroup, membershipDiff, searchGroups, updateGroup } from '../src/core/groups/groups.js';
import type { CoreDeps } from '../src/core/ports.js';
import { createTenant } from '../src/core/tenants/create-tenant.js';
import { createUsers } from '../src/core/users/create-users.js';
import { getUser } from '../src/core/users/get-user.js';
import { createDependencies, prepareDatabase } from '../src/dependencies.js';
import type { Db } from '../src/storage/database.js';
import { createTestDatabase, type TestDatabase } from './helpers/databases.js';

const GLOBAL: Actor = { keyId: 'bootstrap', role: 'global-admin', tenantId: null };
const ADMIN: Actor = { keyId: 'k-admin', role: 'tenant-admin', tenantId: 'core-groups' };
const MANAGER: Actor = { keyId: 'k-manager', role: 'user-manager', tenantId: 'core-groups' };
const TENANT = 'core-groups';

describe('core groups on sqlite', () => {
  let database: TestDatabase;
  let db: Db;
  let core: CoreDeps;

  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
    db = database.open();
    core = createDependencies(db);
    await prepareDatabase(db, core);
    await createTenant(core, GLOBAL, { id: TENANT, name: 'Core groups' });
  });
  afterAll(async () => {
    await db.close();
    await database.drop();
  });

  async function newUser(email: string, roles: string[] = []): Promise<string> {
    const result = await createUsers(core, TENANT, GLOBAL, [{ email, ...(roles.length > 0 && { roles }) }], { notify: false });
    const outcome = result.outcomes[0]!;
    if (outcome.status !== 'created') throw new Error(JSON.stringify(outcome));
    return outcome.user.id;
  }

  it('computes a membership diff: who is added, who is removed', () => {
    expect(membershipDiff(['a', 'b', 'c'], ['b', 'd', 'd'])).toEqual({ add: ['d'], remove: ['a', 'c'] });
    expect(membershipDiff([], [])).toEqual({ add: [], remove: [] });
  });

  it('creates a group with an issued id, renames it keeping id and holders, and audits each change', async () => {
    const ada = await newUser('ada@core.test');
    const group = await createGroup(core, ADMIN, TENANT, { name: 'Crew', externalId: 'ext-1', members: [ada] });
    expect(group).toMatchObject({ name: 'Crew', externalId: 'ext-1', admin: false, revision: 2 });
    expect(group.id).not.toBe('Crew');
    const renamed = await updateGroup(core, ADMIN, TENANT, group.id, { name: 'Deck Crew' }, group.revision);
    expect(renamed).toMatchObject({ id: group.id, name: 'Deck Crew', revision: 3 });
    expect((await getUser(core, TENANT, GLOBAL, ada)).roles).toEqual(['Deck Crew']);
    const events = await core.audit.list(TENANT, { resourceId: group.id, limit: 10 });
    expect(events.map((e) => e.action).reverse()).toEqual(['role.created', 'role.members-changed', 'role.updated']);
    expect(events[0]).toMatchObject({ actorKeyId: 'k-admin', detail: { name: 'Deck Crew', previousName: 'Crew', fields: ['name'] } });
  });

  it('refuses a stale revision, a taken name and a name outside the naming rule, changing nothing', async () => {
    const a = await createGroup(core, ADMIN, TENANT, { name: 'Alpha' });
    await createGroup(core, ADMIN, TENANT, { name: 'Beta' });
    await expect(updateGroup(core, ADMIN, TENANT, a.id, { name: 'Gamma' }, a.revision + 1)).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
    await expect(updateGroup(core, ADMIN, TENANT, a.id, { name: 'Beta' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(updateGroup(core, ADMIN, TENANT, a.id, { name: 'Alpha & Omega' })).rejects.toMatchObject({ code: 'INVALID_FIELD' });
    expect(await getGroup(core, ADMIN, TENANT, a.id)).toMatchObject({ name: 'Alpha', revision: a.revision });
  });

  it('refuses an unknown member and a user-manager renaming, before anything is written', async () => {
    const g = await createGroup(core, ADMIN, TENANT, { name: 'Strict Core' });
    await expect(updateGroup(core, ADMIN, TENANT, g.id, { members: { add: ['00000000-0000-4000-8000-000000000000'], remove: [] } })).rejects.toMatchObject({ code: 'UNKNOWN_REFERENCE' });
    await expect(createGroup(core, ADMIN, TENANT, { name: 'Ghost Core', members: ['not-a-user'] })).rejects.toMatchObject({ code: 'UNKNOWN_REFERENCE' });
    expect((await searchGroups(core, ADMIN, TENANT, { matches: (role) => role.name === 'Ghost Core', offset: 0, limit: 10 })).total).toBe(0);
    await expect(updateGroup(core, MANAGER, TENANT, g.id, { name: 'Renamed By Manager' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await getGroup(core, ADMIN, TENANT, g.id)).revision).toBe(g.revision);
  });

  it('lets only a global admin change the groups of an administrator', async () => {
    await core.catalogs.putRole({ tenantId: TENANT, id: 'root-role', name: 'Root', description: null, admin: true, externalId: null, revision: 1, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' });
    const admin = await newUser('root@core.test', ['Root']);
    const g = await createGroup(core, ADMIN, TENANT, { name: 'Ordinary' });
    await expect(updateGroup(core, ADMIN, TENANT, g.id, { members: { set: [admin] } })).rejects.toMatchObject({ code: 'ADMIN_ROLE_FORBIDDEN' });
    await updateGroup(core, GLOBAL, TENANT, g.id, { members: { set: [admin] } });
    expect((await getUser(core, TENANT, GLOBAL, admin)).roles).toEqual(['Ordinary', 'Root']);
  });

  it('pages and sorts the catalog, and deletes a group whose id is then gone', async () => {
    const page = await searchGroups(core, ADMIN, TENANT, { sortBy: 'name', descending: true, offset: 1, limit: 2 });
    const all = await searchGroups(core, ADMIN, TENANT, { sortBy: 'name', descending: true, offset: 0, limit: 100 });
    expect(page.total).toBe(all.total);
    expect(page.roles.map((r) => r.name)).toEqual(all.roles.slice(1, 3).map((r) => r.name));
    const doomed = await createGroup(core, ADMIN, TENANT, { name: 'Doomed Core' });
    await deleteGroup(core, ADMIN, TENANT, doomed.id, doomed.revision);
    await expect(getGroup(core, ADMIN, TENANT, doomed.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
