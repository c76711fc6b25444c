import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './helpers/databases.js';
import { createTenant, issueKey } from './helpers/native-fixtures.js';
import { BULK_REQUEST, BULK_RESPONSE, CORE_GROUP, CORE_USER, expectScimError, LIST_RESPONSE, patch, scimClient, scimToken, scimUser } from './helpers/scim.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

describe.each(DATABASES)('SCIM Groups and Bulk on %s', (kind) => {
  let t: TestApp;
  let scim: ReturnType<typeof scimClient>;

  beforeAll(async () => {
    t = await startTestApp(kind);
    await createTenant(t, { id: 'acme', name: 'Acme' });
    scim = scimClient(t, await scimToken(t, 'acme'));
  });
  afterAll(async () => t.close());

  async function user(userName: string): Promise<any> {
    const res = await scim('POST', '/Users', { body: scimUser(userName) });
    expect(res.status, res.text).toBe(201);
    return res.body;
  }

  async function group(displayName: string, members: string[] = []): Promise<any> {
    const res = await scim('POST', '/Groups', { body: { schemas: [CORE_GROUP], displayName, members: members.map((value) => ({ value })) } });
    expect(res.status, res.text).toBe(201);
    return res.body;
  }

  async function memberIds(id: string): Promise<string[]> {
    const res = await scim('GET', `/Groups/${id}`);
    expect(res.status, res.text).toBe(200);
    return (res.body.members ?? []).map((m: any) => m.value).sort();
  }

  async function rolesOf(id: string): Promise<string[]> {
    return (await t.call('GET', `/v1/tenants/acme/users/${id}`)).body.roles;
  }

  describe('Groups are roles', () => {
    it('creates a group: a role with its first members, 201 with Location and ETag', async () => {
      const ada = await user('ada@example.com');
      const res = await scim('POST', '/Groups', { body: { schemas: [CORE_GROUP], displayName: 'Tour Guides', externalId: 'entra-object-id', members: [{ value: ada.id, display: 'Ada' }] } });
      expect(res.status, res.text).toBe(201);
      expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.headers.get('location')).toBe(`${t.baseUrl}/scim/v2/Groups/${res.body.id}`);
      expect(res.headers.get('etag')).toBe('W/"2"');
      expect(res.body).toMatchObject({
        schemas: [CORE_GROUP],
        displayName: 'Tour Guides',
        externalId: 'entra-object-id',
        members: [{ value: ada.id, display: 'ada@example.com', $ref: `${t.baseUrl}/scim/v2/Users/${ada.id}`, type: 'User' }],
        meta: { resourceType: 'Group', location: res.headers.get('location'), version: res.headers.get('etag') },
      });
      expect((await t.call('GET', '/v1/tenants/acme/roles/Tour%20Guides')).status).toBe(200);
      expect(await rolesOf(ada.id)).toEqual(['Tour Guides']);
      const read = await scim('GET', `/Users/${ada.id}`);
      expect(read.body.groups).toEqual([{ value: res.body.id, display: 'Tour Guides', $ref: `${t.baseUrl}/scim/v2/Groups/${res.body.id}`, type: 'direct' }]);
    });

    it('refuses a second group with the same displayName: 409 uniqueness', async () => {
      await group('Duplicated');
      expectScimError(await scim('POST', '/Groups', { body: { schemas: [CORE_GROUP], displayName: 'Duplicated' } }), 409, 'uniqueness');
    });

    it('refuses a displayName that cannot name a role, and a missing one', async () => {
      const bad = await scim('POST', '/Groups', { body: { schemas: [CORE_GROUP], displayName: 'Sales & Marketing' } });
      expect(expectScimError(bad, 400, 'invalidValue').detail).toMatch(/displayName/);
      expectScimError(await scim('POST', '/Groups', { body: { schemas: [CORE_GROUP] } }), 400, 'invalidValue');
    });

    it('creates nothing when a first member does not exist', async () => {
      const res = await scim('POST', '/Groups', { body: { schemas: [CORE_GROUP], displayName: 'Ghosts', members: [{ value: '00000000-0000-4000-8000-000000000000' }] } });
      expectScimError(res, 400, 'invalidValue');
      const found = await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Ghosts"')}`);
      expect(found.body.totalResults).toBe(0);
    });

    it('lists groups, by displayName, without members when excluded', async () => {
      const member = await user('lister@example.com');
      const listed = await group('Listed', [member.id]);
      const res = await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Listed"')}&excludedAttributes=members`);
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ schemas: [LIST_RESPONSE], totalResults: 1, itemsPerPage: 1 });
      expect(res.body.Resources[0].id).toBe(listed.id);
      expect(res.body.Resources[0].members).toBeUndefined();
      const withMembers = await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Listed"')}`);
      expect(withMembers.body.Resources[0].members.map((m: any) => m.value)).toEqual([member.id]);
      // Two more groups of its own: a page of two is then less than all of them.
      await group('ListedToo', []);
      await group('ListedAlso', []);
      const all = await scim('GET', '/Groups?sortBy=displayName&count=2');
      expect(all.body.itemsPerPage).toBe(2);
      expect(all.body.totalResults).toBeGreaterThan(2);
    });

    it('answers whether a user is a member the way Entra ID asks', async () => {
      const inside = await user('inside@example.com');
      const outside = await user('outside@example.com');
      const checked = await group('Checked', [inside.id]);
      const ask = (id: string) => scim('GET', `/Groups?filter=${encodeURIComponent(`id eq "${checked.id}" and members[value eq "${id}"]`)}&excludedAttributes=members`);
      expect((await ask(inside.id)).body.totalResults).toBe(1);
      expect((await ask(outside.id)).body.totalResults).toBe(0);
      expectScimError(await scim('GET', `/Groups?filter=${encodeURIComponent('members pr')}`), 400, 'invalidFilter');
      expectScimError(await scim('GET', `/Groups?filter=${encodeURIComponent('owner eq "x"')}`), 400, 'invalidFilter');
    });

    it('adds members as Okta pushes them and removes them by a value filter', async () => {
      const a = await user('okta-a@example.com');
      const b = await user('okta-b@example.com');
      const pushed = await group('Okta Push');
      const added = await scim('PATCH', `/Groups/${pushed.id}`, { body: patch({ op: 'add', path: 'members', value: [{ value: a.id, display: 'okta-a' }, { value: b.id, display: 'okta-b' }] }) });
      expect(added.status, added.text).toBe(200);
      expect(added.body.members.map((m: any) => m.value).sort()).toEqual([a.id, b.id].sort());
      const removed = await scim('PATCH', `/Groups/${pushed.id}`, { body: patch({ op: 'remove', path: `members[value eq "${a.id}"]` }) });
      expect(removed.status, removed.text).toBe(200);
      expect(await memberIds(pushed.id)).toEqual([b.id]);
      expect(await rolesOf(a.id)).toEqual([]);
      expect(await rolesOf(b.id)).toEqual(['Okta Push']);
    });

    it('adds and removes members as Entra ID does: capitalised ops, remove by value list', async () => {
      const a = await user('entra-a@example.com');
      const b = await user('entra-b@example.com');
      const pushed = await group('Entra Push', [a.id]);
      const res = await scim('PATCH', `/Groups/${pushed.id}`, {
        body: patch({ op: 'Add', path: 'members', value: [{ value: b.id }] }, { op: 'Remove', path: 'members', value: [{ value: a.id }] }),
      });
      expect(res.status, res.text).toBe(200);
      expect(await memberIds(pushed.id)).toEqual([b.id]);
    });

    it('replaces all members, and removes all members (RFC 7644 §3.5.2)', async () => {
      const a = await user('rep-a@example.com');
      const b = await user('rep-b@example.com');
      const c = await user('rep-c@example.com');
      const replaced = await group('Replaced', [a.id, b.id]);
      await scim('PATCH', `/Groups/${replaced.id}`, { body: patch({ op: 'replace', path: 'members', value: [{ value: b.id }, { value: c.id }] }) });
      expect(await memberIds(replaced.id)).toEqual([b.id, c.id].sort());
      await scim('PATCH', `/Groups/${replaced.id}`, { body: patch({ op: 'remove', path: 'members' }) });
      expect(await memberIds(replaced.id)).toEqual([]);
      const put = await scim('PUT', `/Groups/${replaced.id}`, { body: { schemas: [CORE_GROUP], displayName: 'Replaced', members: [{ value: a.id }] } });
      expect(put.status, put.text).toBe(200);
      expect(await memberIds(replaced.id)).toEqual([a.id]);
    });

    it("moves a member's version on when its groups change", async () => {
      const u = await user('versioned@example.com');
      const versioned = await group('Versioned');
      await scim('PATCH', `/Groups/${versioned.id}`, { body: patch({ op: 'add', path: 'members', value: [{ value: u.id }] }) });
      const read = await scim('GET', `/Users/${u.id}`);
      expect(read.headers.get('etag')).toBe('W/"2"');
      expect(read.body.groups.map((g: any) => g.value)).toEqual([versioned.id]);
    });

    it('refuses to change a group id (400 mutability) and accepts its own id and name back', async () => {
      const fixed = await group('Fixed Name');
      expectScimError(await scim('PATCH', `/Groups/${fixed.id}`, { body: patch({ op: 'replace', path: 'id', value: 'Other' }) }), 400, 'mutability');
      const same = await scim('PATCH', `/Groups/${fixed.id}`, { body: patch({ op: 'replace', value: { id: fixed.id, displayName: 'Fixed Name' } }) });
      expect(same.status, same.text).toBe(200);
      expect(same.body.meta.version).toBe(fixed.meta.version);
    });

    it('refuses an unknown member (400 invalidValue) and changes nothing', async () => {
      const a = await user('known@example.com');
      const strict = await group('Strict', [a.id]);
      const res = await scim('PATCH', `/Groups/${strict.id}`, {
        body: patch({ op: 'remove', path: `members[value eq "${a.id}"]` }, { op: 'add', path: 'members', value: [{ value: '00000000-0000-4000-8000-000000000000' }] }),
      });
      expectScimError(res, 400, 'invalidValue');
      expect(await memberIds(strict.id)).toEqual([a.id]);
    });

    it('lets only a global key add members to an admin role', async () => {
      const put = await t.call('PUT', '/v1/tenants/acme/roles/Admins', { body: { admin: true } });
      expect(put.status).toBe(201);
      const admins = (await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Admins"')}`)).body.Resources[0];
      const u = await user('would-be-admin@example.com');
      expectScimError(await scim('PATCH', `/Groups/${admins.id}`, { body: patch({ op: 'add', path: 'members', value: [{ value: u.id }] }) }), 403);
      expect(await rolesOf(u.id)).toEqual([]);
    });

    it('needs a tenant-admin key to read groups', async () => {
      const manager = scimClient(t, (await issueKey(t, 'acme', 'user-manager')).token);
      expectScimError(await manager('GET', '/Groups'), 403);
    });

    it('honours If-Match on a group: 412 when stale', async () => {
      const created = await group('Guarded');
      const u = await user('guarded@example.com');
      const ok = await scim('PATCH', `/Groups/${created.id}`, { body: patch({ op: 'add', path: 'members', value: [{ value: u.id }] }), headers: { 'if-match': created.meta.version } });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.body.meta.version).not.toBe(created.meta.version);
      expectScimError(await scim('PATCH', `/Groups/${created.id}`, { body: patch({ op: 'remove', path: 'members' }), headers: { 'if-match': created.meta.version } }), 412);
      expectScimError(await scim('DELETE', `/Groups/${created.id}`, { headers: { 'if-match': created.meta.version } }), 412);
    });

    it('reads a group of more than 10,000 members only without them (400 tooMany otherwise)', async () => {
      const everyone = await group('Everyone');
      const now = new Date().toISOString();
      const ids = Array.from({ length: 10_001 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = ids.slice(i, i + 500);
        await t.db.kysely
          .insertInto('users')
          .values(chunk.map((id) => ({ id, tenant_id: 'acme', user_name: id, user_name_key: id, email: `${id}@example.com`, email_key: `${id}@example.com`, given_name: null, family_name: null, formatted_name: null, phone_number: null, department_id: null, location_id: null, program_admin_role_id: null, locked_out: 0, approved: 1, password_hash: null, revision: 1, created_at: now, updated_at: now })))
          .execute();
        await t.db.kysely.insertInto('user_roles').values(chunk.map((id) => ({ user_id: id, tenant_id: 'acme', role_name: 'Everyone' }))).execute();
      }
      expectScimError(await scim('GET', `/Groups/${everyone.id}`), 400, 'tooMany');
      const without = await scim('GET', `/Groups/${everyone.id}?excludedAttributes=members`);
      expect(without.status, without.text).toBe(200);
      expect(without.body.members).toBeUndefined();
      // A membership change by value needs only the members it names.
      const removed = await scim('PATCH', `/Groups/${everyone.id}?excludedAttributes=members`, { body: patch({ op: 'remove', path: `members[value eq "${ids[0]}"]` }) });
      expect(removed.status, removed.text).toBe(200);
      expect(await rolesOf(ids[0]!)).toEqual([]);
      await t.db.kysely.deleteFrom('users').where('id', 'in', ids).execute();
    });

    it('deletes a group: 204, its members lose the role', async () => {
      const u = await user('loses@example.com');
      const doomed = await group('Doomed', [u.id]);
      expect((await scim('DELETE', `/Groups/${doomed.id}`)).status).toBe(204);
      expectScimError(await scim('GET', `/Groups/${doomed.id}`), 404);
      expect(await rolesOf(u.id)).toEqual([]);
      expectScimError(await scim('DELETE', `/Groups/${doomed.id}`), 404);
    });
  });

  describe('Bulk (RFC 7644 §3.7)', () => {
    it('runs POST, PUT, PATCH and DELETE in one request, each with its status, location and version', async () => {
      const alice = await user('bulk-alice@example.com');
      const doomed = await user('bulk-doomed@example.com');
      const res = await scim('POST', '/Bulk', {
        body: {
          schemas: [BULK_REQUEST],
          Operations: [
            { method: 'POST', path: '/Users', bulkId: 'qwerty', data: { schemas: [CORE_USER], userName: 'Alice', emails: [{ value: 'bulk-new@example.com' }] } },
            { method: 'PUT', path: `/Users/${alice.id}`, version: 'W/"1"', data: scimUser('bulk-alice@example.com', { name: { givenName: 'Alice', familyName: 'Bulk' } }) },
            { method: 'PATCH', path: `/Users/${alice.id}`, data: patch({ op: 'replace', path: 'active', value: false }) },
            { method: 'DELETE', path: `/Users/${doomed.id}`, version: 'W/"1"' },
          ],
        },
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body.schemas).toEqual([BULK_RESPONSE]);
      const [post, put, patched, deleted] = res.body.Operations;
      expect(post).toMatchObject({ method: 'POST', bulkId: 'qwerty', status: '201', version: 'W/"1"' });
      expect(post.location).toMatch(new RegExp(`^${t.baseUrl}/scim/v2/Users/[0-9a-f-]{36}$`));
      expect(put).toMatchObject({ method: 'PUT', status: '200', location: `${t.baseUrl}/scim/v2/Users/${alice.id}`, version: 'W/"2"' });
      expect(patched).toMatchObject({ method: 'PATCH', status: '200', version: 'W/"3"' });
      expect(deleted).toMatchObject({ method: 'DELETE', status: '204' });
      const after = await scim('GET', `/Users/${alice.id}`);
      expect(after.body).toMatchObject({ name: { familyName: 'Bulk' }, active: false });
      expectScimError(await scim('GET', `/Users/${doomed.id}`), 404);
    });

    it('resolves bulkId references, also to an operation that comes later', async () => {
      const res = await scim('POST', '/Bulk', {
        body: {
          schemas: [BULK_REQUEST],
          Operations: [
            { method: 'POST', path: '/Groups', bulkId: 'ytrewq', data: { schemas: [CORE_GROUP], displayName: 'Bulk Guides', members: [{ type: 'User', value: 'bulkId:qwerty' }] } },
            { method: 'POST', path: '/Users', bulkId: 'qwerty', data: scimUser('bulk-ref@example.com') },
            { method: 'PATCH', path: '/Groups/bulkId:ytrewq', data: patch({ op: 'add', path: 'members', value: [{ value: 'bulkId:other' }] }) },
            { method: 'POST', path: '/Users', bulkId: 'other', data: scimUser('bulk-other@example.com') },
          ],
        },
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body.Operations.map((o: any) => [o.bulkId, o.status])).toEqual([
        ['ytrewq', '201'],
        ['qwerty', '201'],
        [undefined, '200'],
        ['other', '201'],
      ]);
      const userId = res.body.Operations[1].location.split('/').pop();
      const otherId = res.body.Operations[3].location.split('/').pop();
      const groupId = res.body.Operations[0].location.split('/').pop();
      expect(await memberIds(groupId)).toEqual([userId, otherId].sort());
    });

    it('answers a reference that cannot be resolved, or a circle of them, with 409', async () => {
      const res = await scim('POST', '/Bulk', {
        body: {
          schemas: [BULK_REQUEST],
          Operations: [
            { method: 'POST', path: '/Groups', bulkId: 'g1', data: { displayName: 'Never', members: [{ value: 'bulkId:nowhere' }] } },
            { method: 'POST', path: '/Users', bulkId: 'u1', data: scimUser('circle@example.com', { externalId: 'bulkId:g2' }) },
            { method: 'POST', path: '/Groups', bulkId: 'g2', data: { displayName: 'Circle', members: [{ value: 'bulkId:u1' }] } },
          ],
        },
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body.Operations.map((o: any) => o.status)).toEqual(['409', '409', '409']);
      expect(res.body.Operations[0].response.detail).toMatch(/bulkId:nowhere/);
      expect((await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Circle"')}`)).body.totalResults).toBe(0);
    });

    it('keeps going after errors, and stops after failOnErrors of them', async () => {
      await user('bulk-taken@example.com');
      const ops = [
        { method: 'POST', path: '/Users', bulkId: 'a', data: scimUser('bulk-taken@example.com') },
        { method: 'POST', path: '/Users', bulkId: 'b', data: scimUser('bulk-free1@example.com') },
        { method: 'POST', path: '/Users', bulkId: 'c', data: { schemas: [CORE_USER] } },
        { method: 'POST', path: '/Users', bulkId: 'd', data: scimUser('bulk-free2@example.com') },
      ];
      const all = await scim('POST', '/Bulk', { body: { schemas: [BULK_REQUEST], Operations: ops } });
      expect(all.body.Operations.map((o: any) => o.status)).toEqual(['409', '201', '400', '201']);
      expect(all.body.Operations[0].response).toMatchObject({ status: '409', scimType: 'uniqueness' });
      const stopped = await scim('POST', '/Bulk', {
        body: { schemas: [BULK_REQUEST], failOnErrors: 1, Operations: [{ ...ops[1], data: scimUser('bulk-free3@example.com') }, ops[0], { ...ops[3], data: scimUser('bulk-never@example.com') }] },
      });
      expect(stopped.body.Operations.map((o: any) => o.status)).toEqual(['201', '409']);
      const never = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "bulk-never@example.com"')}`);
      expect(never.body.totalResults).toBe(0);
    });

    it('answers a stale version of one operation with 412 for that operation', async () => {
      const u = await user('bulk-stale@example.com');
      const res = await scim('POST', '/Bulk', { body: { schemas: [BULK_REQUEST], Operations: [{ method: 'PATCH', path: `/Users/${u.id}`, version: 'W/"7"', data: patch({ op: 'replace', path: 'active', value: false }) }] } });
      expect(res.body.Operations[0]).toMatchObject({ status: '412', response: { status: '412' } });
    });

    it('creates many users in one request', async () => {
      const Operations = Array.from({ length: 60 }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `many${i}`, data: scimUser(`many${i}@example.com`) }));
      const res = await scim('POST', '/Bulk', { body: { schemas: [BULK_REQUEST], Operations } });
      expect(res.body.Operations).toHaveLength(60);
      expect(res.body.Operations.every((o: any) => o.status === '201')).toBe(true);
      expect(new Set(res.body.Operations.map((o: any) => o.location)).size).toBe(60);
    });

    it('refuses more than maxOperations with 413 naming the limit, doing nothing', async () => {
      const Operations = Array.from({ length: 1001 }, (_, i) => ({ method: 'POST', path: '/Users', data: scimUser(`over${i}@example.com`) }));
      const res = await scim('POST', '/Bulk', { body: { schemas: [BULK_REQUEST], Operations } });
      expect(expectScimError(res, 413).detail).toMatch(/maxOperations \(1000\)/);
      expect((await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "over0@example.com"')}`)).body.totalResults).toBe(0);
    });

    it('refuses a body past maxPayloadSize with 413 naming the limit', async () => {
      const config = await scim('GET', '/ServiceProviderConfig');
      const size = config.body.bulk.maxPayloadSize as number;
      const res = await scim('POST', '/Bulk', { body: { schemas: [BULK_REQUEST], Operations: [{ method: 'POST', path: '/Users', data: { userName: 'x'.repeat(size) } }] } });
      expect(expectScimError(res, 413).detail).toMatch(new RegExp(`maxPayloadSize \\(${size}\\)`));
    });

    it('answers a body that is not a BulkRequest with 400 invalidSyntax', async () => {
      expectScimError(await scim('POST', '/Bulk', { body: { schemas: [BULK_REQUEST] } }), 400, 'invalidSyntax');
      const res = await scim('POST', '/Bulk', { body: { schemas: [BULK_REQUEST], Operations: [{ method: 'GET', path: '/Users' }] } });
      expectScimError(res, 400, 'invalidSyntax');
    });
  });
});
