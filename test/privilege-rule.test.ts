/**
 * The privilege rule, tried as an attacker would on every API: nobody creates, changes or
 * deletes a user, role or key so that someone ends up with more power than the actor may
 * grant. Each attack is refused with 403 and a stable code; a global admin may do each thing.
 * Also: what an invitation no longer does once the user's email, password or lock changes,
 * and the audit events of role changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteUser } from '../src/core/users/delete-user.js';
import { createImportRunner, type ImportRunner } from '../src/workers/import-runner.js';
import { DATABASES } from './helpers/databases.js';
import { errorLines, upload } from './helpers/imports.js';
import { createTenant, expectProblem, issueKey, type IssuedKey } from './helpers/native-fixtures.js';
import { BULK_REQUEST, CORE_GROUP, CORE_USER, patch, scimClient } from './helpers/scim.js';
import { startTestApp, type CallResult, type TestApp } from './helpers/test-app.js';

const PASSWORD = 'correct horse battery 42';
const ATTACKER_PASSWORD = 'attacker was here 1337';
const TOKEN_PATTERN = /inv_[A-Za-z0-9_-]{43}/;

describe.each(DATABASES)('the privilege rule on %s', (kind) => {
  let t: TestApp;
  let tenantAdmin: IssuedKey;
  let manager: IssuedKey;
  let n = 0;

  async function createUser(body: Record<string, unknown>, token?: string): Promise<{ id: string; etag: string }> {
    const res = await t.call('POST', '/v1/tenants/acme/users?notify=false', { body, ...(token !== undefined && { token }) });
    expect(res.status, res.text).toBe(201);
    return { id: res.body.id, etag: res.headers.get('etag')! };
  }
  async function read(id: string): Promise<{ body: any; etag: string }> {
    const res = await t.call('GET', `/v1/tenants/acme/users/${id}`);
    expect(res.status, res.text).toBe(200);
    return { body: res.body, etag: res.headers.get('etag')! };
  }
  async function patchUser(id: string, body: unknown, token?: string): Promise<CallResult> {
    const { etag } = await read(id);
    return t.call('PATCH', `/v1/tenants/acme/users/${id}`, { body, headers: { 'if-match': etag }, ...(token !== undefined && { token }) });
  }
  /** An administrator: a user holding the admin role `owner`, created by the global admin. */
  async function administrator(): Promise<{ id: string; email: string; userName: string }> {
    n++;
    const email = `ceo-${n}@acme.test`;
    const { id } = await createUser({ email, userName: `ceo-${n}`, password: PASSWORD, roles: ['owner'] });
    return { id, email, userName: `ceo-${n}` };
  }
  async function verifies(login: string, password: string): Promise<boolean> {
    const res = await t.call('POST', '/v1/tenants/acme/credentials/verify', { body: { login, password } });
    expect(res.status, res.text).toBe(200);
    return res.body.valid;
  }
  /** The audit events of the role named `name`, newest first (a role's events name it by its id, and carry its name). */
  async function auditOf(name: string): Promise<any[]> {
    const res = await t.call('GET', '/v1/tenants/acme/audit?limit=200');
    expect(res.status, res.text).toBe(200);
    return res.body.events.filter((e: any) => e.resource.type === 'role' && e.detail.name === name);
  }
  async function role(name: string): Promise<CallResult> {
    return t.call('GET', `/v1/tenants/acme/roles/${name}`);
  }

  beforeAll(async () => {
    t = await startTestApp(kind);
    await createTenant(t, { id: 'acme', name: 'Acme' });
    for (const [name, admin] of [['owner', true], ['staff', false], ['Administrator', true], ['900', true]] as const) {
      expect((await t.call('PUT', `/v1/tenants/acme/roles/${name}`, { body: { admin } })).status).toBe(201);
    }
    tenantAdmin = await issueKey(t, 'acme', 'tenant-admin');
    manager = await issueKey(t, 'acme', 'user-manager');
  });
  afterAll(async () => t.close());

  describe("a role's admin flag", () => {
    it('is not set by a tenant admin: users a user manager gave the role do not become administrators', async () => {
      expect((await t.call('PUT', '/v1/tenants/acme/roles/boss', { token: tenantAdmin.token, body: {} })).status).toBe(201);
      const minion = await createUser({ email: 'minion@acme.test', roles: ['boss'] }, manager.token);
      const flip = await t.call('PUT', '/v1/tenants/acme/roles/boss', { token: tenantAdmin.token, body: { admin: true } });
      const problem = expectProblem(flip, 403, 'ADMIN_ROLE_FORBIDDEN');
      expect(problem.errors).toEqual([expect.objectContaining({ field: 'admin', code: 'ADMIN_ROLE_FORBIDDEN' })]);
      expect((await role('boss')).body.admin).toBe(false);
      // Nothing changed, so nothing moved: the holder's ETag is the one it had.
      expect((await read(minion.id)).etag).toBe(minion.etag);
      expect((await auditOf('boss')).map((e) => e.action)).toEqual(['role.created']);
    });

    it('is not given to a new role by a tenant admin', async () => {
      expectProblem(await t.call('PUT', '/v1/tenants/acme/roles/kingmaker', { token: tenantAdmin.token, body: { admin: true } }), 403, 'ADMIN_ROLE_FORBIDDEN');
      expect((await role('kingmaker')).status).toBe(404);
    });

    it("is not cleared by a tenant admin (the reverse flip), by a PUT without it, or by deleting the role", async () => {
      for (const body of [{ admin: false }, {}, { description: 'no longer special' }]) {
        expectProblem(await t.call('PUT', '/v1/tenants/acme/roles/owner', { token: tenantAdmin.token, body }), 403, 'ADMIN_ROLE_FORBIDDEN');
      }
      expectProblem(await t.call('DELETE', '/v1/tenants/acme/roles/owner', { token: tenantAdmin.token }), 403, 'ADMIN_ROLE_FORBIDDEN');
      expect((await role('owner')).body).toMatchObject({ name: 'owner', admin: true });
      // A description change that keeps the flag is a tenant admin's to make.
      const described = await t.call('PUT', '/v1/tenants/acme/roles/owner', { token: tenantAdmin.token, body: { admin: true, description: 'Runs the place' } });
      expect(described.status, described.text).toBe(200);
      expect(described.body).toMatchObject({ admin: true, description: 'Runs the place' });
    });

    it('is set and cleared by a global admin, audited with the actor, and moves every holder to a new revision', async () => {
      expect((await t.call('PUT', '/v1/tenants/acme/roles/deputy', { body: {} })).status).toBe(201);
      const holder = await createUser({ email: 'deputy@acme.test', roles: ['deputy'] }, manager.token);
      const bystander = await createUser({ email: 'bystander@acme.test' }, manager.token);
      const set = await t.call('PUT', '/v1/tenants/acme/roles/deputy', { body: { admin: true } });
      expect(set.status, set.text).toBe(200);
      expect(set.body.admin).toBe(true);
      const afterSet = await read(holder.id);
      expect(afterSet.etag).not.toBe(holder.etag);
      expect((await read(bystander.id)).etag).toBe(bystander.etag);

      // Now an administrator: the user manager who created it may no longer change its password.
      expectProblem(await patchUser(holder.id, { password: ATTACKER_PASSWORD }, manager.token), 403, 'ADMIN_ROLE_FORBIDDEN');

      expect((await t.call('PUT', '/v1/tenants/acme/roles/deputy', { body: { admin: false } })).status).toBe(200);
      expect((await read(holder.id)).etag).not.toBe(afterSet.etag);
      const events = await auditOf('deputy');
      expect(events.map((e: any) => [e.action, e.actor.keyId, e.detail.admin])).toEqual([
        ['role.updated', 'bootstrap', false],
        ['role.updated', 'bootstrap', true],
        ['role.created', 'bootstrap', false],
      ]);
      expect(events[1]).toMatchObject({ resource: { type: 'role', id: events[2].resource.id }, dialect: 'native', detail: { fields: ['admin'], wasAdmin: false } });
    });
  });

  describe('deleting a role', () => {
    it("takes it from its holders with a new revision for each, and is audited with the actor", async () => {
      expect((await t.call('PUT', '/v1/tenants/acme/roles/temp', { token: tenantAdmin.token, body: {} })).status).toBe(201);
      const a = await createUser({ email: 'temp-a@acme.test', roles: ['staff', 'temp'] }, manager.token);
      const b = await createUser({ email: 'temp-b@acme.test', roles: ['temp'] }, manager.token);
      const res = await t.call('DELETE', '/v1/tenants/acme/roles/temp', { token: tenantAdmin.token });
      expect(res.status, res.text).toBe(204);
      for (const before of [a, b]) {
        const after = await read(before.id);
        expect(after.etag).not.toBe(before.etag);
        expect(after.body.roles).not.toContain('temp');
      }
      expect((await read(a.id)).body.roles).toEqual(['staff']);
      const [deleted] = await auditOf('temp');
      expect(deleted).toMatchObject({ action: 'role.deleted', actor: { keyId: tenantAdmin.id, role: 'tenant-admin' }, detail: { admin: false, holders: 2 } });
    });

    it('through SCIM (a group) is checked and audited the same way', async () => {
      const scim = scimClient(t, tenantAdmin.token);
      const member = await createUser({ email: 'group-member@acme.test' }, manager.token);
      const created = await scim('POST', '/Groups', { body: { schemas: [CORE_GROUP], displayName: 'Squad', members: [{ value: member.id }] } });
      expect(created.status, created.text).toBe(201);
      const holder = await read(member.id);
      expect((await scim('DELETE', `/Groups/${created.body.id}`)).status).toBe(204);
      const after = await read(member.id);
      expect(after.etag).not.toBe(holder.etag);
      expect(after.body.roles).toEqual([]);
      expect((await auditOf('Squad'))[0]).toMatchObject({ action: 'role.deleted', resource: { type: 'role', id: created.body.id }, actor: { keyId: tenantAdmin.id }, dialect: 'scim', detail: { holders: 1 } });

      const owner = (await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "owner"')}`)).body.Resources[0];
      const refused = await scim('DELETE', `/Groups/${owner.id}`);
      expect(refused.status, refused.text).toBe(403);
      expect((await role('owner')).status).toBe(200);
    });

    it('of an admin role is for a global admin only', async () => {
      expect((await t.call('PUT', '/v1/tenants/acme/roles/regent', { body: { admin: true } })).status).toBe(201);
      const holder = await createUser({ email: 'regent@acme.test', roles: ['regent'] });
      expectProblem(await t.call('DELETE', '/v1/tenants/acme/roles/regent', { token: tenantAdmin.token }), 403, 'ADMIN_ROLE_FORBIDDEN');
      expect((await read(holder.id)).body.roles).toEqual(['regent']);
      expect((await t.call('DELETE', '/v1/tenants/acme/roles/regent')).status).toBe(204);
      expect((await read(holder.id)).body.roles).toEqual([]);
      expect((await auditOf('regent'))[0]).toMatchObject({ action: 'role.deleted', actor: { keyId: 'bootstrap' }, detail: { admin: true, holders: 1 } });
    });
  });

  describe('renaming an admin role', () => {
    it("is for a global admin only, through SCIM PATCH, PUT and Bulk: its holders' roles would change, and its name could be given to a role without the flag", async () => {
      expect((await t.call('PUT', '/v1/tenants/acme/roles/steward', { body: { admin: true } })).status).toBe(201);
      const holder = await createUser({ email: 'steward@acme.test', roles: ['steward'] });
      const before = await read(holder.id);
      const scim = scimClient(t, tenantAdmin.token);
      const group = (await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "steward"')}`)).body.Resources[0];
      const attempts = [
        await scim('PATCH', `/Groups/${group.id}`, { body: patch({ op: 'replace', value: { id: group.id, displayName: 'Butler' } }) }),
        await scim('PATCH', `/Groups/${group.id}`, { body: patch({ op: 'replace', path: 'displayName', value: 'Butler' }) }),
        await scim('PUT', `/Groups/${group.id}`, { body: { schemas: [CORE_GROUP], displayName: 'Butler', members: [{ value: holder.id }] } }),
      ];
      for (const refused of attempts) expect(refused.status, refused.text).toBe(403);
      const bulk = await scim('POST', '/Bulk', { body: { schemas: [BULK_REQUEST], Operations: [{ method: 'PATCH', path: `/Groups/${group.id}`, data: patch({ op: 'replace', path: 'displayName', value: 'Butler' }) }] } });
      expect(bulk.status, bulk.text).toBe(200);
      expect(bulk.body.Operations[0].status).toBe('403');
      expect((await role('steward')).body).toMatchObject({ name: 'steward', admin: true });
      expect((await role('Butler')).status).toBe(404);
      const after = await read(holder.id);
      expect(after.body.roles).toEqual(['steward']);
      expect(after.etag).toBe(before.etag);

      // A role without the flag is a tenant admin's to rename, and its holders keep it.
      const crew = await scim('POST', '/Groups', { body: { schemas: [CORE_GROUP], displayName: 'Crew', members: [{ value: holder.id }] } });
      expect(crew.status, crew.text).toBe(403); // the holder is an administrator: its roles are not the tenant admin's to change
      const sailor = await createUser({ email: 'sailor@acme.test' });
      const deck = await scim('POST', '/Groups', { body: { schemas: [CORE_GROUP], displayName: 'Crew', members: [{ value: sailor.id }] } });
      expect(deck.status, deck.text).toBe(201);
      const renamed = await scim('PATCH', `/Groups/${deck.body.id}`, { body: patch({ op: 'replace', path: 'displayName', value: 'Deckhands' }) });
      expect(renamed.status, renamed.text).toBe(200);
      expect((await read(sailor.id)).body.roles).toEqual(['Deckhands']);
    });
  });

  describe('an administrator, through the native API', () => {
    it('keeps its password: a user manager or tenant admin setting one is refused, and the old one still signs in', async () => {
      const ceo = await administrator();
      for (const key of [manager, tenantAdmin]) {
        const res = await patchUser(ceo.id, { password: ATTACKER_PASSWORD }, key.token);
        const problem = expectProblem(res, 403, 'ADMIN_ROLE_FORBIDDEN');
        expect(problem.errors).toEqual([expect.objectContaining({ field: 'password', code: 'ADMIN_ROLE_FORBIDDEN' })]);
        expect(res.text).not.toContain(ATTACKER_PASSWORD);
      }
      expect(await verifies(ceo.email, ATTACKER_PASSWORD)).toBe(false);
      expect(await verifies(ceo.email, PASSWORD)).toBe(true);
    });

    it('keeps its email, user name, lock and approval state and roles against a user manager', async () => {
      const ceo = await administrator();
      const before = await read(ceo.id);
      const attempts: [Record<string, unknown>, string][] = [
        [{ email: 'attacker@acme.test' }, 'email'],
        [{ userName: 'attacker' }, 'userName'],
        [{ lockedOut: true }, 'lockedOut'],
        [{ approved: false }, 'approved'],
        [{ roles: ['owner', 'staff'] }, 'roles'],
        [{ roles: [] }, 'roles'],
      ];
      for (const [body, field] of attempts) {
        const problem = expectProblem(await patchUser(ceo.id, body, manager.token), 403, 'ADMIN_ROLE_FORBIDDEN');
        expect(problem.errors[0]).toMatchObject({ field, code: 'ADMIN_ROLE_FORBIDDEN' });
      }
      const after = await read(ceo.id);
      expect(after.etag).toBe(before.etag);
      expect(after.body).toMatchObject({ email: ceo.email, userName: ceo.userName, lockedOut: false, approved: true, roles: ['owner'] });
    });

    it('may still have its other fields, and unchanged values, written by a user manager', async () => {
      const ceo = await administrator();
      const res = await patchUser(ceo.id, { name: { givenName: 'Chief' }, phoneNumber: '+44 20 7946 0001', email: ceo.email, roles: ['owner'] }, manager.token);
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ name: { givenName: 'Chief' }, email: ceo.email, roles: ['owner'] });
    });

    it('is deleted by a global admin only', async () => {
      const ceo = await administrator();
      expectProblem(await t.call('DELETE', `/v1/tenants/acme/users/${ceo.id}`, { token: tenantAdmin.token }), 403, 'ADMIN_ROLE_FORBIDDEN');
      expect((await read(ceo.id)).body.id).toBe(ceo.id);
      expect((await t.call('DELETE', `/v1/tenants/acme/users/${ceo.id}`)).status).toBe(204);
    });

    it('is not deleted by a tenant admin who judged it before it was given an admin role', async () => {
      const target = await createUser({ email: `promoted-${++n}@acme.test`, roles: ['staff'] }, manager.token);
      const tenantActor = { keyId: tenantAdmin.id, role: 'tenant-admin' as const, tenantId: 'acme' };
      let promoted = false;
      // The real core and database; a global admin grants the admin role between the tenant
      // admin's judgement of the user's roles and its delete.
      const racing = {
        ...t.core,
        catalogs: {
          ...t.core.catalogs,
          findRoles: async (tenantId: string, names: readonly string[]) => {
            const found = await t.core.catalogs.findRoles(tenantId, names);
            if (!promoted) {
              promoted = true;
              const res = await patchUser(target.id, { roles: ['staff', 'owner'] });
              expect(res.status, res.text).toBe(200);
            }
            return found;
          },
        },
      };
      await expect(deleteUser(racing, 'acme', tenantActor, target.id)).rejects.toMatchObject({ code: 'ADMIN_ROLE_FORBIDDEN' });
      expect(promoted).toBe(true);
      expect((await read(target.id)).body.roles).toEqual(['owner', 'staff']);
    });

    it('is changed by a global admin', async () => {
      const ceo = await administrator();
      const res = await patchUser(ceo.id, { password: 'a new password 2026', email: `new-${ceo.email}`, lockedOut: false, roles: ['owner', 'staff'] });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ email: `new-${ceo.email}`, roles: ['owner', 'staff'] });
      expect(await verifies(`new-${ceo.email}`, 'a new password 2026')).toBe(true);
    });

    it('is not made by a user manager granting an admin role to an ordinary user', async () => {
      const plain = await createUser({ email: `plain-${++n}@acme.test` }, manager.token);
      expectProblem(await patchUser(plain.id, { roles: ['owner'] }, manager.token), 403, 'ADMIN_ROLE_FORBIDDEN');
      expectProblem(await t.call('POST', '/v1/tenants/acme/users', { token: manager.token, body: { email: `made-${n}@acme.test`, roles: ['owner'] } }), 403, 'ADMIN_ROLE_FORBIDDEN');
      expect((await read(plain.id)).body.roles).toEqual([]);
    });
  });

  describe('an administrator, through SCIM', () => {
    it('keeps its password, user name and active state against PATCH, PUT and Bulk', async () => {
      const ceo = await administrator();
      const scim = scimClient(t, tenantAdmin.token);
      const patched = await scim('PATCH', `/Users/${ceo.id}`, { body: patch({ op: 'replace', path: 'password', value: ATTACKER_PASSWORD }) });
      expect(patched.status, patched.text).toBe(403);
      const put = await scim('PUT', `/Users/${ceo.id}`, {
        body: { schemas: [CORE_USER], userName: 'taken-over', emails: [{ value: ceo.email, primary: true }] },
      });
      expect(put.status, put.text).toBe(403);
      const bulk = await scim('POST', '/Bulk', {
        body: {
          schemas: [BULK_REQUEST],
          Operations: [
            { method: 'PATCH', path: `/Users/${ceo.id}`, data: patch({ op: 'replace', path: 'active', value: false }) },
            { method: 'PATCH', path: `/Users/${ceo.id}`, data: patch({ op: 'replace', path: 'password', value: ATTACKER_PASSWORD }) },
            { method: 'DELETE', path: `/Users/${ceo.id}` },
          ],
        },
      });
      expect(bulk.status, bulk.text).toBe(200);
      expect(bulk.body.Operations.map((o: any) => o.status)).toEqual(['403', '403', '403']);
      const after = await read(ceo.id);
      expect(after.body).toMatchObject({ userName: ceo.userName, lockedOut: false, roles: ['owner'] });
      expect(await verifies(ceo.email, PASSWORD)).toBe(true);
      expect(await verifies(ceo.email, ATTACKER_PASSWORD)).toBe(false);
    });
  });

  describe('admin roles granted through the dialects', () => {
    it('are refused for tenant keys by batch, account, provisioning and app alike, and nobody is created', async () => {
      const acmeAppKey = (await t.call('GET', '/v1/tenants/acme')).body.appKey;
      const batch = await t.call('POST', '/compat/batch/users', { token: manager.token, body: [{ email: 'd-batch@acme.test', roles: [{ id: 'owner' }] }] });
      // The batch dialect reports each record's refusal in its 400 report, as its seed does for any failed record.
      expect(batch.status, batch.text).toBe(400);
      expect(batch.body.failedResults[0]).toMatchObject({ code: 'ADMIN_ROLE_FORBIDDEN', errors: [{ field: 'roles.0.id', code: 'ADMIN_ROLE_FORBIDDEN' }] });
      const account = await t.call('POST', '/api/account/acme/configuration/le-users/users?v=4.0', { token: manager.token, body: [{ email: 'd-account@acme.test', profileIds: [900] }] });
      expect(account.status, account.text).toBe(403);
      expect(account.body.code).toBe('ADMIN_ROLE_FORBIDDEN');
      const provisioning = await t.call('POST', '/provisioning/users.svc/', {
        token: tenantAdmin.token,
        body: [{ EmailAddress: 'd-provisioning@acme.test', FirstName: 'P', LastName: 'Q', Password: PASSWORD, Roles: [2] }],
      });
      expect(provisioning.status, provisioning.text).toBe(403);
      expect(provisioning.body.Errors[0]).toMatchObject({ Code: 'ADMIN_ROLE_FORBIDDEN' });
      const appBody = { userName: 'd-app', email: 'd-app@acme.test', password: PASSWORD, confirmPassword: PASSWORD, roles: [{ name: 'owner' }] };
      const app = await t.call('POST', `/${acmeAppKey}/users`, { token: manager.token, body: appBody });
      expect(app.status, app.text).toBe(403);
      expect(app.body.error).toBe('ADMIN_ROLE_FORBIDDEN');
      for (const email of ['d-batch', 'd-account', 'd-provisioning', 'd-app']) {
        expect((await t.call('GET', `/v1/tenants/acme/users?email=${email}@acme.test`)).body.users).toEqual([]);
      }
      // The global admin may.
      const global = await t.call('POST', `/${acmeAppKey}/users`, { body: appBody });
      expect(global.status, global.text).toBe(201);
    });
  });

  describe('imports', () => {
    let runner: ImportRunner;
    beforeAll(() => {
      runner = createImportRunner({ deps: t.core, pollIntervalMs: 20 });
    });
    afterAll(async () => runner.stop());

    for (const onConflict of ['fail', 'skip', 'update'] as const) {
      it(`grant no admin role and change no administrator for a tenant admin (onConflict=${onConflict})`, async () => {
        const ceo = await administrator();
        const before = await read(ceo.id);
        const csv = ['email,roles,password', `imported-admin-${onConflict}@acme.test,owner,${PASSWORD}`, `${ceo.email},staff,${ATTACKER_PASSWORD}`, `imported-ok-${onConflict}@acme.test,staff,${PASSWORD}`].join('\n');
        const accepted = await upload(t.baseUrl, 'acme', `${csv}\n`, { token: tenantAdmin.token, query: `?notify=false&onConflict=${onConflict}` });
        expect(accepted.status, accepted.text).toBe(202);
        const location = accepted.headers.get('location')!;
        await runner.drain();
        const job = (await t.call('GET', location, { token: tenantAdmin.token })).body;
        expect(job).toMatchObject({ state: 'completed', created: 1, failed: onConflict === 'skip' ? 1 : 2, skipped: onConflict === 'skip' ? 1 : 0 });
        const errors = await errorLines(t.baseUrl, location, tenantAdmin.token);
        expect(errors[0]).toMatchObject({ row: 1, code: 'ADMIN_ROLE_FORBIDDEN', field: expect.stringMatching(/^roles/) });
        // Under onConflict=update the row naming the administrator is a change of it, refused by the same rule.
        if (onConflict === 'update') expect(errors.filter((e) => e.row === 2).map((e) => e.code)).toContain('ADMIN_ROLE_FORBIDDEN');
        expect((await t.call('GET', `/v1/tenants/acme/users?email=imported-admin-${onConflict}@acme.test`)).body.users).toEqual([]);
        expect((await read(ceo.id)).etag).toBe(before.etag);
        expect(await verifies(ceo.email, PASSWORD)).toBe(true);
      });
    }

    it('reports in a dry run under onConflict=update the change of an administrator that the live run would refuse, and changes nothing', async () => {
      const ceo = await administrator();
      const before = await read(ceo.id);
      const csv = ['email,password', `${ceo.email},${ATTACKER_PASSWORD}`].join('\n');
      const accepted = await upload(t.baseUrl, 'acme', `${csv}\n`, { token: tenantAdmin.token, query: '?notify=false&onConflict=update&dryRun=true' });
      expect(accepted.status, accepted.text).toBe(202);
      const location = accepted.headers.get('location')!;
      await runner.drain();
      const job = (await t.call('GET', location, { token: tenantAdmin.token })).body;
      expect(job).toMatchObject({ state: 'completed', created: 0, updated: 0, failed: 1 });
      const errors = await errorLines(t.baseUrl, location, tenantAdmin.token);
      expect(errors.map((e) => [e.row, e.code])).toEqual([[1, 'ADMIN_ROLE_FORBIDDEN']]);
      expect((await read(ceo.id)).etag).toBe(before.etag);
      expect(await verifies(ceo.email, PASSWORD)).toBe(true);
    });
  });

  describe('API keys', () => {
    it('are issued no higher than their issuer', async () => {
      expectProblem(await t.call('POST', '/v1/tenants/acme/api-keys', { token: tenantAdmin.token, body: { name: 'up', role: 'global-admin' } }), 403, 'FORBIDDEN');
      expectProblem(await t.call('POST', '/v1/tenants/acme/api-keys', { token: manager.token, body: { name: 'up', role: 'user-manager' } }), 403, 'FORBIDDEN');
      const peer = await t.call('POST', '/v1/tenants/acme/api-keys', { token: tenantAdmin.token, body: { name: 'peer', role: 'tenant-admin' } });
      expect(peer.status, peer.text).toBe(201);
      const global = await t.call('POST', '/v1/tenants/acme/api-keys', { body: { name: 'root', role: 'global-admin' } });
      expect(global.status, global.text).toBe(201);
    });
  });

  describe('pending invitations', () => {
    const accept = (token: string, password: string) => t.call('POST', '/v1/invitations/accept', { token: null, body: { token, password } });
    async function invited(email: string): Promise<{ id: string; code: string; messageId: string }> {
      const res = await t.call('POST', '/v1/tenants/acme/users', { token: manager.token, body: { email } });
      expect(res.status, res.text).toBe(201);
      const [message] = (await t.call('GET', `/v1/tenants/acme/messages?userId=${res.body.id}`)).body.messages;
      expect(message.status).toBe('pending');
      return { id: res.body.id, code: TOKEN_PATTERN.exec(message.text)![0], messageId: message.id };
    }
    async function messagesOf(userId: string): Promise<any[]> {
      return (await t.call('GET', `/v1/tenants/acme/messages?userId=${userId}`)).body.messages;
    }

    it('are revoked by an email correction, and the message to the mistyped address is cancelled', async () => {
      const user = await invited('newhire@acme.tset');
      expect((await patchUser(user.id, { email: 'newhire@acme.test' }, manager.token)).status).toBe(200);
      const [message] = await messagesOf(user.id);
      expect(message).toMatchObject({ id: user.messageId, to: 'newhire@acme.tset', status: 'cancelled' });
      expect(message.text).not.toContain(user.code);
      expect(message.html).not.toContain(user.code);
      const res = await accept(user.code, ATTACKER_PASSWORD);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('INVITATION_INVALID');
      expect(await verifies('newhire@acme.test', ATTACKER_PASSWORD)).toBe(false);
    });

    it('are revoked by a password set through the native API or SCIM', async () => {
      const native = await invited(`set-native@acme.test`);
      expect((await patchUser(native.id, { password: PASSWORD }, manager.token)).status).toBe(200);
      expect((await accept(native.code, ATTACKER_PASSWORD)).body.code).toBe('INVITATION_INVALID');
      expect((await messagesOf(native.id))[0].status).toBe('cancelled');
      expect(await verifies('set-native@acme.test', PASSWORD)).toBe(true);

      const viaScim = await invited(`set-scim@acme.test`);
      const scim = scimClient(t, tenantAdmin.token);
      const res = await scim('PATCH', `/Users/${viaScim.id}`, { body: patch({ op: 'replace', path: 'password', value: PASSWORD }) });
      expect(res.status, res.text).toBe(200);
      expect((await accept(viaScim.code, ATTACKER_PASSWORD)).body.code).toBe('INVITATION_INVALID');
      expect(await verifies('set-scim@acme.test', PASSWORD)).toBe(true);
    });

    it('are revoked by a lock-out, and stay revoked after the unlock', async () => {
      const user = await invited('locked@acme.test');
      expect((await patchUser(user.id, { lockedOut: true }, manager.token)).status).toBe(200);
      expect((await patchUser(user.id, { lockedOut: false }, manager.token)).status).toBe(200);
      expect((await accept(user.code, ATTACKER_PASSWORD)).body.code).toBe('INVITATION_INVALID');
      expect((await messagesOf(user.id))[0].status).toBe('cancelled');
    });

    it('are revoked by a deletion', async () => {
      const user = await invited('deleted@acme.test');
      expect((await t.call('DELETE', `/v1/tenants/acme/users/${user.id}`, { token: tenantAdmin.token })).status).toBe(204);
      expect((await accept(user.code, ATTACKER_PASSWORD)).body.code).toBe('INVITATION_INVALID');
      expect(await messagesOf(user.id)).toEqual([]);
    });

    it("of an administrator show their code to a global admin only: reading it would be setting an administrator's password", async () => {
      const res = await t.call('POST', '/v1/tenants/acme/users', { body: { email: `invited-ceo-${++n}@acme.test`, roles: ['owner'] } });
      expect(res.status, res.text).toBe(201);
      const asGlobal = (await t.call('GET', `/v1/tenants/acme/messages?userId=${res.body.id}`)).body.messages;
      const code = TOKEN_PATTERN.exec(asGlobal[0].text)![0];
      const asTenantAdmin = await t.call('GET', `/v1/tenants/acme/messages?userId=${res.body.id}`, { token: tenantAdmin.token });
      expect(asTenantAdmin.status).toBe(200);
      expect(asTenantAdmin.body.messages).toHaveLength(1);
      expect(asTenantAdmin.text).not.toContain(code);
      expect(asTenantAdmin.text).not.toMatch(TOKEN_PATTERN);
      expect(asTenantAdmin.body.messages[0].text).toContain('withheld');
      // A tenant admin still reads the codes of everyone else.
      const plain = await invited(`invited-plain-${n}@acme.test`);
      const plainMessages = await t.call('GET', `/v1/tenants/acme/messages?userId=${plain.id}`, { token: tenantAdmin.token });
      expect(plainMessages.text).toContain(plain.code);
    });

    it('survive a change of anything else, and then redeem', async () => {
      const user = await invited('kept@acme.test');
      expect((await patchUser(user.id, { name: { givenName: 'Kept' }, email: 'kept@acme.test' }, manager.token)).status).toBe(200);
      expect((await messagesOf(user.id))[0].status).toBe('pending');
      expect((await accept(user.code, PASSWORD)).status).toBe(200);
    });
  });
});
