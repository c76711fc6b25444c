import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './helpers/databases.js';
import { createTenant, expectProblem, issueKey, type IssuedKey } from './helpers/native-fixtures.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/test-app.js';

const CATALOGS = ['departments', 'locations', 'program-admin-roles'] as const;

describe.each(DATABASES)('roles and catalogs on %s', (kind) => {
  let t: TestApp;
  let tenantAdmin: IssuedKey;
  let globalKey: IssuedKey;

  beforeAll(async () => {
    t = await startTestApp(kind);
    await createTenant(t, { id: 'acme' });
    await createTenant(t, { id: 'globex' });
    tenantAdmin = await issueKey(t, 'acme', 'tenant-admin');
    globalKey = await issueKey(t, 'acme', 'global-admin');
    await t.call('PUT', '/v1/tenants/acme/roles/editor', { body: { description: 'Edits things' } });
    await t.call('PUT', '/v1/tenants/acme/roles/owner', { body: { description: 'Owns the account', admin: true } });
    await t.call('PUT', '/v1/tenants/acme/departments/SALES', { body: { name: 'Sales' } });
    await t.call('PUT', '/v1/tenants/acme/locations/LDN', { body: { name: 'London' } });
    await t.call('PUT', '/v1/tenants/acme/program-admin-roles/PA-1', { body: {} });
  });
  afterAll(async () => t.close());

  describe('the role catalog', () => {
    it('creates a role with 201 and replaces it with 200', async () => {
      const created = await t.call('PUT', '/v1/tenants/acme/roles/viewer', { body: { description: 'Reads' } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: 'viewer', description: 'Reads', admin: false });
      const replaced = await t.call('PUT', '/v1/tenants/acme/roles/viewer', { body: { description: 'Reads everything' } });
      expect(replaced.status).toBe(200);
      expect(replaced.body).toMatchObject({ name: 'viewer', description: 'Reads everything', admin: false });
      expect(replaced.body.createdAt).toBe(created.body.createdAt);
    });

    it('lists and reads roles', async () => {
      const list = await t.call('GET', '/v1/tenants/acme/roles');
      expect(list.status).toBe(200);
      expect(list.body.roles.map((r: { name: string }) => r.name)).toEqual(expect.arrayContaining(['editor', 'owner']));
      const one = await t.call('GET', '/v1/tenants/acme/roles/owner');
      expect(one.body).toMatchObject({ name: 'owner', description: 'Owns the account', admin: true });
    });

    it('deletes a role with 204, after which it is 404', async () => {
      await t.call('PUT', '/v1/tenants/acme/roles/temp', { body: {} });
      expect((await t.call('DELETE', '/v1/tenants/acme/roles/temp')).status).toBe(204);
      expectProblem(await t.call('GET', '/v1/tenants/acme/roles/temp'), 404, 'NOT_FOUND');
      expectProblem(await t.call('DELETE', '/v1/tenants/acme/roles/temp'), 404, 'NOT_FOUND');
    });

    it('takes a deleted role away from the users who held it', async () => {
      await t.call('PUT', '/v1/tenants/acme/roles/short-lived', { body: {} });
      const user = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'holder@acme.test', roles: ['short-lived', 'editor'] } });
      expect(user.body.roles).toEqual(['editor', 'short-lived']);
      await t.call('DELETE', '/v1/tenants/acme/roles/short-lived');
      const after = await t.call('GET', `/v1/tenants/acme/users/${user.body.id}`);
      expect(after.body.roles).toEqual(['editor']);
    });

    it('refuses a role name outside the allowed characters and unknown body fields', async () => {
      expectProblem(await t.call('PUT', `/v1/tenants/acme/roles/${encodeURIComponent('bad/name')}`, { body: {} }), 400, 'INVALID_FIELD');
      expectProblem(await t.call('PUT', '/v1/tenants/acme/roles/ok', { body: { colour: 'red' } }), 400, 'INVALID_FIELD');
    });

    it('keeps roles per tenant', async () => {
      expect((await t.call('PUT', '/v1/tenants/acme/roles/acme-only', { body: {} })).status).toBeLessThan(300);
      expectProblem(await t.call('GET', '/v1/tenants/globex/roles/acme-only'), 404, 'NOT_FOUND');
      expect((await t.call('GET', '/v1/tenants/globex/roles')).body.roles.map((r: { name: string }) => r.name)).not.toContain('acme-only');
    });
  });

  describe.each(CATALOGS)('the %s catalog', (catalog) => {
    it('creates a code with 201, replaces it with 200, reads, lists and deletes it', async () => {
      const created = await t.call('PUT', `/v1/tenants/acme/${catalog}/X-1`, { body: { name: 'First' } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ code: 'X-1', name: 'First' });
      const replaced = await t.call('PUT', `/v1/tenants/acme/${catalog}/X-1`, { body: { name: 'Renamed' } });
      expect(replaced.status).toBe(200);
      expect((await t.call('GET', `/v1/tenants/acme/${catalog}/X-1`)).body).toMatchObject({ code: 'X-1', name: 'Renamed' });
      const list = await t.call('GET', `/v1/tenants/acme/${catalog}`);
      expect(list.body.items.map((i: { code: string }) => i.code)).toContain('X-1');
      expect((await t.call('DELETE', `/v1/tenants/acme/${catalog}/X-1`)).status).toBe(204);
      expectProblem(await t.call('GET', `/v1/tenants/acme/${catalog}/X-1`), 404, 'NOT_FOUND');
      expectProblem(await t.call('DELETE', `/v1/tenants/acme/${catalog}/X-1`), 404, 'NOT_FOUND');
    });

    it('keeps codes per tenant', async () => {
      expect((await t.call('PUT', `/v1/tenants/acme/${catalog}/ACME-ONLY`, { body: {} })).status).toBe(201);
      const theirs = (await t.call('GET', `/v1/tenants/globex/${catalog}`)).body.items;
      expect(theirs.map((item: { code: string }) => item.code)).not.toContain('ACME-ONLY');
      expectProblem(await t.call('GET', `/v1/tenants/globex/${catalog}/ACME-ONLY`), 404, 'NOT_FOUND');
    });

    it('lets a tenant admin manage codes of its own tenant only', async () => {
      expect((await t.call('PUT', `/v1/tenants/acme/${catalog}/TA-1`, { token: tenantAdmin.token, body: {} })).status).toBe(201);
      expectProblem(await t.call('PUT', `/v1/tenants/globex/${catalog}/TA-1`, { token: tenantAdmin.token, body: {} }), 404, 'NOT_FOUND');
    });
  });

  describe('users referencing roles and codes', () => {
    it('creates a user with existing roles and codes', async () => {
      const res = await t.call('POST', '/v1/tenants/acme/users', {
        body: { email: 'ref-ok@acme.test', roles: ['editor'], access: { departmentId: 'SALES', locationId: 'LDN', programAdminRoleId: 'PA-1' } },
      });
      expect(res.status, res.text).toBe(201);
      expect(res.body).toMatchObject({ roles: ['editor'], access: { departmentId: 'SALES', locationId: 'LDN', programAdminRoleId: 'PA-1' } });
    });

    it('reports UNKNOWN_REFERENCE for each unknown role and code, by field', async () => {
      const res = await t.call('POST', '/v1/tenants/acme/users', {
        body: { email: 'ref-bad@acme.test', roles: ['editor', 'ghost'], access: { departmentId: 'NOPE', locationId: 'LDN', programAdminRoleId: 'PA-9' } },
      });
      const body = expectProblem(res, 400, 'UNKNOWN_REFERENCE');
      expect(body.errors.map((e: { field: string; code: string }) => `${e.field}:${e.code}`)).toEqual([
        'roles.1:UNKNOWN_REFERENCE',
        'access.departmentId:UNKNOWN_REFERENCE',
        'access.programAdminRoleId:UNKNOWN_REFERENCE',
      ]);
      expect((await t.call('GET', '/v1/tenants/acme/users?email=ref-bad@acme.test')).body.users).toEqual([]);
    });

    it("does not accept another tenant's codes", async () => {
      await t.call('PUT', '/v1/tenants/globex/departments/GLOBEX-ONLY', { body: {} });
      const res = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'cross@acme.test', access: { departmentId: 'GLOBEX-ONLY' } } });
      expect(expectProblem(res, 400, 'UNKNOWN_REFERENCE').errors[0].field).toBe('access.departmentId');
    });

    it('reports unknown references per user in a batch', async () => {
      const res = await t.call('POST', '/v1/tenants/acme/users/batch', {
        body: { users: [{ email: 'b-ok@acme.test', roles: ['editor'] }, { email: 'b-bad@acme.test', access: { locationId: 'MARS' } }] },
      });
      expect(res.status).toBe(200);
      expect(res.body.results[0].status).toBe('created');
      expect(res.body.results[1]).toMatchObject({ status: 'failed', error: { code: 'UNKNOWN_REFERENCE', errors: [{ field: 'access.locationId', code: 'UNKNOWN_REFERENCE' }] } });
    });

    it('checks roles and codes a PATCH adds', async () => {
      const user = (await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'patch-ref@acme.test' } })).body;
      const res = await t.call('PATCH', `/v1/tenants/acme/users/${user.id}`, { headers: { 'if-match': '"1"' }, body: { roles: ['ghost'], access: { locationId: 'MARS' } } });
      const body = expectProblem(res, 400, 'UNKNOWN_REFERENCE');
      expect(body.errors.map((e: { field: string }) => e.field)).toEqual(['roles.0', 'access.locationId']);
    });
  });

  describe('admin roles', () => {
    it('refuses a tenant admin creating a user with an admin role (ADMIN_ROLE_FORBIDDEN, 403)', async () => {
      const res = await t.call('POST', '/v1/tenants/acme/users', { token: tenantAdmin.token, body: { email: 'boss1@acme.test', roles: ['owner'] } });
      const body = expectProblem(res, 403, 'ADMIN_ROLE_FORBIDDEN');
      expect(body.errors).toEqual([expect.objectContaining({ field: 'roles.0', code: 'ADMIN_ROLE_FORBIDDEN' })]);
      expect((await t.call('GET', '/v1/tenants/acme/users?email=boss1@acme.test')).body.users).toEqual([]);
    });

    it('refuses a user manager too', async () => {
      const manager = await issueKey(t, 'acme', 'user-manager');
      expectProblem(await t.call('POST', '/v1/tenants/acme/users', { token: manager.token, body: { email: 'boss2@acme.test', roles: ['owner'] } }), 403, 'ADMIN_ROLE_FORBIDDEN');
    });

    it('refuses a tenant admin granting an admin role through PATCH', async () => {
      const user = (await t.call('POST', '/v1/tenants/acme/users', { token: tenantAdmin.token, body: { email: 'climber@acme.test', roles: ['editor'] } })).body;
      const res = await t.call('PATCH', `/v1/tenants/acme/users/${user.id}`, { token: tenantAdmin.token, headers: { 'if-match': '"1"' }, body: { roles: ['editor', 'owner'] } });
      expectProblem(res, 403, 'ADMIN_ROLE_FORBIDDEN');
      expect((await t.call('GET', `/v1/tenants/acme/users/${user.id}`)).body.roles).toEqual(['editor']);
    });

    it('lets a global-admin key create a user with an admin role', async () => {
      const res = await t.call('POST', '/v1/tenants/acme/users', { token: globalKey.token, body: { email: 'boss3@acme.test', roles: ['owner'] } });
      expect(res.status, res.text).toBe(201);
      expect(res.body.roles).toEqual(['owner']);
    });

    it('treats MUSTER_ADMIN_TOKEN as a global admin', async () => {
      const res = await t.call('POST', '/v1/tenants/acme/users', { token: ADMIN_TOKEN, body: { email: 'boss4@acme.test', roles: ['owner', 'editor'] } });
      expect(res.status, res.text).toBe(201);
      expect(res.body.roles).toEqual(['editor', 'owner']);
    });

    it('lets a tenant admin change the other fields of a user holding an admin role, but not its roles', async () => {
      const boss = (await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'boss5@acme.test', roles: ['owner'] } })).body;
      const res = await t.call('PATCH', `/v1/tenants/acme/users/${boss.id}`, { token: tenantAdmin.token, headers: { 'if-match': '"1"' }, body: { name: { givenName: 'Boss' }, roles: ['owner'] } });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ name: { givenName: 'Boss' }, roles: ['owner'] });
      const more = await t.call('PATCH', `/v1/tenants/acme/users/${boss.id}`, { token: tenantAdmin.token, headers: { 'if-match': '"2"' }, body: { roles: ['owner', 'editor'] } });
      expectProblem(more, 403, 'ADMIN_ROLE_FORBIDDEN');
      expect((await t.call('GET', `/v1/tenants/acme/users/${boss.id}`)).body.roles).toEqual(['owner']);
    });
  });
});

describe.each(DATABASES)('the bootstrap admin token on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind, { adminToken: undefined });
  });
  afterAll(async () => t.close());

  it('is refused when MUSTER_ADMIN_TOKEN is not set', async () => {
    expectProblem(await t.call('GET', '/v1/tenants', { token: ADMIN_TOKEN }), 401, 'UNAUTHORIZED');
  });
});
