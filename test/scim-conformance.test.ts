/**
 * What a directory client can trust of /scim/v2, each case named by the RFC section it holds
 * Muster to: no PATCH answers 200 without doing what it says, groups keep provider-issued ids
 * across renames, displayName and name.formatted are two attributes, /Schemas says what is
 * really required, conditional reads, and unsupported endpoints said to be so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './helpers/databases.js';
import { createTenant, issueKey } from './helpers/native-fixtures.js';
import { CORE_GROUP, CORE_USER, ENTERPRISE_USER, ERROR, expectScimError, patch, scimClient, scimUser } from './helpers/scim.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/test-app.js';

describe.each(DATABASES)('SCIM conformance on %s', (kind) => {
  let t: TestApp;
  let scim: ReturnType<typeof scimClient>;
  let keyId: string;

  beforeAll(async () => {
    t = await startTestApp(kind);
    await createTenant(t, { id: 'conform', name: 'Conformance' });
    const key = await issueKey(t, 'conform', 'tenant-admin');
    keyId = key.id;
    scim = scimClient(t, key.token);
  });
  afterAll(async () => t.close());

  async function user(userName: string, extra: Record<string, unknown> = {}): Promise<any> {
    const res = await scim('POST', '/Users', { body: scimUser(userName, extra) });
    expect(res.status, res.text).toBe(201);
    return res.body;
  }

  async function group(displayName: string, members: string[] = [], extra: Record<string, unknown> = {}): Promise<any> {
    const res = await scim('POST', '/Groups', { body: { schemas: [CORE_GROUP], displayName, members: members.map((value) => ({ value })), ...extra } });
    expect(res.status, res.text).toBe(201);
    return res.body;
  }

  async function read(path: string): Promise<any> {
    const res = await scim('GET', path);
    expect(res.status, res.text).toBe(200);
    return res.body;
  }

  describe('PATCH of the enterprise extension as a whole', () => {
    const EXTENSION = { employeeNumber: '2', department: 'D2' };

    it('RFC 7644 §3.5.2.3: replace with the extension URN as a key of the value stores its attributes and moves meta.version on', async () => {
      const u = await user('ext-replace@example.com', { [ENTERPRISE_USER]: { employeeNumber: '1', department: 'D1' } });
      const res = await scim('PATCH', `/Users/${u.id}`, { body: patch({ op: 'replace', value: { [ENTERPRISE_USER]: EXTENSION } }) });
      expect(res.status, res.text).toBe(200);
      expect(res.body[ENTERPRISE_USER]).toEqual(EXTENSION);
      expect(res.body.meta.version).not.toBe(u.meta.version);
      expect((await read(`/Users/${u.id}`))[ENTERPRISE_USER]).toEqual(EXTENSION);
      expect((await t.call('GET', `/v1/tenants/conform/users/${u.id}`)).body).toMatchObject({ employeeNumber: '2', department: 'D2' });
    });

    it('RFC 7644 §3.5.2.3: replace with path set to the extension URN stores them, leaving attributes not given as they were', async () => {
      const u = await user('ext-path@example.com', { [ENTERPRISE_USER]: { employeeNumber: '1', department: 'D1' } });
      const res = await scim('PATCH', `/Users/${u.id}`, { body: patch({ op: 'Replace', path: ENTERPRISE_USER, value: { department: 'D3' } }) });
      expect(res.status, res.text).toBe(200);
      expect(res.body[ENTERPRISE_USER]).toEqual({ employeeNumber: '1', department: 'D3' });
      expect(res.body.meta.version).toBe('W/"2"');
    });

    it('RFC 7644 §3.5.2.1: add of the extension, with its URN as path or as a key of the value, stores its attributes', async () => {
      const u = await user('ext-add@example.com');
      const byKey = await scim('PATCH', `/Users/${u.id}`, { body: patch({ op: 'add', value: { [ENTERPRISE_USER]: { employeeNumber: '7' }, displayName: 'Ext Add' } }) });
      expect(byKey.status, byKey.text).toBe(200);
      expect(byKey.body).toMatchObject({ displayName: 'Ext Add', [ENTERPRISE_USER]: { employeeNumber: '7' } });
      const byPath = await scim('PATCH', `/Users/${u.id}`, { body: patch({ op: 'add', path: ENTERPRISE_USER.toLowerCase(), value: { Department: 'D9' } }) });
      expect(byPath.status, byPath.text).toBe(200);
      expect((await read(`/Users/${u.id}`))[ENTERPRISE_USER]).toEqual({ employeeNumber: '7', department: 'D9' });
    });

    it('RFC 7644 §3.5.2.2: remove of the extension URN clears its attributes and moves meta.version on', async () => {
      const u = await user('ext-remove@example.com', { [ENTERPRISE_USER]: EXTENSION });
      const res = await scim('PATCH', `/Users/${u.id}`, { body: patch({ op: 'remove', path: ENTERPRISE_USER }) });
      expect(res.status, res.text).toBe(200);
      expect(res.body[ENTERPRISE_USER]).toBeUndefined();
      expect(res.body.schemas).toEqual([CORE_USER]);
      expect(res.body.meta.version).not.toBe(u.meta.version);
      expect((await t.call('GET', `/v1/tenants/conform/users/${u.id}`)).body).toMatchObject({ employeeNumber: null, department: null });
    });

    it('RFC 7644 §3.5.2: an extension value that is not an object is 400 invalidValue, nothing changed', async () => {
      const u = await user('ext-bad@example.com', { [ENTERPRISE_USER]: EXTENSION });
      expectScimError(await scim('PATCH', `/Users/${u.id}`, { body: patch({ op: 'replace', path: ENTERPRISE_USER, value: 'D2' }) }), 400, 'invalidValue');
      expect((await read(`/Users/${u.id}`)).meta.version).toBe(u.meta.version);
    });
  });

  describe('PATCH operations Muster cannot apply are errors, not a quiet 200', () => {
    it('RFC 7644 §3.5.2.2: remove of active is 400 mutability and the user stays as it was', async () => {
      const u = await user('remove-active@example.com', { active: false });
      expectScimError(await scim('PATCH', `/Users/${u.id}`, { body: patch({ op: 'remove', path: 'active' }) }), 400, 'mutability');
      const after = await read(`/Users/${u.id}`);
      expect(after.active).toBe(false);
      expect(after.meta.version).toBe(u.meta.version);
    });

    it('RFC 7644 §3.5.2.2: remove of a required attribute (userName), of the one email Muster keeps or of the write-only password is 400 mutability', async () => {
      const u = await user('remove-required@example.com');
      expectScimError(await scim('PATCH', `/Users/${u.id}`, { body: patch({ op: 'remove', path: 'userName' }) }), 400, 'mutability');
      expectScimError(await scim('PATCH', `/Users/${u.id}`, { body: patch({ op: 'remove', path: 'emails' }) }), 400, 'mutability');
      expectScimError(await scim('PATCH', `/Users/${u.id}`, { body: patch({ op: 'remove', path: 'emails[type eq "work"]' }) }), 400, 'mutability');
      expectScimError(await scim('PATCH', `/Users/${u.id}`, { body: patch({ op: 'remove', path: 'password' }) }), 400, 'mutability');
      expect((await read(`/Users/${u.id}`)).meta.version).toBe(u.meta.version);
    });

    it('RFC 7644 §3.5.2: a path naming an attribute no User schema has is 400 invalidPath, with or without a path', async () => {
      const u = await user('unknown-attr@example.com');
      expectScimError(await scim('PATCH', `/Users/${u.id}`, { body: patch({ op: 'replace', path: 'favouriteColour', value: 'blue' }) }), 400, 'invalidPath');
      expectScimError(await scim('PATCH', `/Users/${u.id}`, { body: patch({ op: 'add', value: { shoeSize: 42 } }) }), 400, 'invalidPath');
      expectScimError(await scim('PATCH', `/Users/${u.id}`, { body: patch({ op: 'replace', path: 'name.nickname', value: 'x' }) }), 400, 'invalidPath');
      expectScimError(await scim('PATCH', `/Users/${u.id}`, { body: patch({ op: 'replace', path: `${ENTERPRISE_USER}:badge`, value: 'x' }) }), 400, 'invalidPath');
      expect((await read(`/Users/${u.id}`)).meta.version).toBe(u.meta.version);
    });

    it('RFC 7643 §4.1: attributes of the User schemas that the README lists as ignored are accepted and not stored', async () => {
      const u = await user('ignored-attr@example.com');
      const res = await scim('PATCH', `/Users/${u.id}`, {
        body: patch({ op: 'Add', path: 'title', value: 'Tour Guide' }, { op: 'Replace', path: `${ENTERPRISE_USER}:manager`, value: { value: 'm-1' } }, { op: 'add', path: 'name.middleName', value: 'J' }),
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body.title).toBeUndefined();
      expect(res.body.meta.version).toBe(u.meta.version);
    });
  });

  describe('users: displayName and name.formatted (RFC 7643 §4.1.1)', () => {
    it('RFC 7643 §4.1.1: POST keeps displayName and name.formatted apart', async () => {
      const u = await user('babs@example.com', { displayName: 'Babs J (Sales)', name: { formatted: 'Barbara Jensen', givenName: 'Barbara', familyName: 'Jensen' } });
      expect(u).toMatchObject({ displayName: 'Babs J (Sales)', name: { formatted: 'Barbara Jensen' } });
      expect(await read(`/Users/${u.id}`)).toMatchObject({ displayName: 'Babs J (Sales)', name: { formatted: 'Barbara Jensen' } });
      const found = await read(`/Users?filter=${encodeURIComponent('displayName eq "Babs J (Sales)"')}`);
      expect(found.Resources.map((r: any) => r.id)).toEqual([u.id]);
      expect((await t.call('GET', `/v1/tenants/conform/users/${u.id}`)).body).toMatchObject({ displayName: 'Babs J (Sales)', name: { formatted: 'Barbara Jensen' } });
    });

    it('RFC 7643 §4.1.1: the native API reads and writes the same displayName, its other fields as before', async () => {
      const created = await t.call('POST', '/v1/tenants/conform/users', { body: { email: 'native-display@example.com', displayName: 'Nat', name: { givenName: 'Nathalie' } } });
      expect(created.status, created.text).toBe(201);
      expect(created.body).toMatchObject({ displayName: 'Nat', name: { givenName: 'Nathalie' }, email: 'native-display@example.com' });
      expect((await read(`/Users/${created.body.id}`)).displayName).toBe('Nat');
      const cleared = await t.call('PATCH', `/v1/tenants/conform/users/${created.body.id}`, { body: { displayName: null }, headers: { 'if-match': created.headers.get('etag')! } });
      expect(cleared.status, cleared.text).toBe(200);
      expect(cleared.body.displayName).toBeNull();
      expect((await read(`/Users/${created.body.id}`)).displayName).toBeUndefined();
    });

    it('RFC 7643 §4.1.1: PUT with a new displayName and the old formatted name changes only displayName', async () => {
      const u = await user('babs2@example.com', { displayName: 'Babs', name: { formatted: 'Barbara Jensen' } });
      const res = await scim('PUT', `/Users/${u.id}`, { body: scimUser('babs2@example.com', { displayName: 'Barbara (Ops)', name: { formatted: 'Barbara Jensen' } }) });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ displayName: 'Barbara (Ops)', name: { formatted: 'Barbara Jensen' } });
      const patched = await scim('PATCH', `/Users/${u.id}`, { body: patch({ op: 'replace', path: 'name.formatted', value: 'B. Jensen' }) });
      expect(patched.body).toMatchObject({ displayName: 'Barbara (Ops)', name: { formatted: 'B. Jensen' } });
    });
  });

  describe('the User schema says what is required (RFC 7643 §7)', () => {
    it('RFC 7643 §7: /Schemas marks emails optional and emails.value required, and the server behaves so', async () => {
      const schema = await read(`/Schemas/${CORE_USER}`);
      const emails = schema.attributes.find((a: any) => a.name === 'emails');
      expect(emails.required).toBe(false);
      expect(emails.subAttributes.find((a: any) => a.name === 'value').required).toBe(true);
      expect(schema.attributes.find((a: any) => a.name === 'userName').required).toBe(true);
      expect(schema.attributes.find((a: any) => a.name === 'displayName').description).not.toMatch(/same value as name\.formatted/i);

      // emails left out: accepted when userName is an address, refused when it is not.
      const res = await scim('POST', '/Users', { body: { schemas: [CORE_USER], userName: 'no-emails@example.com' } });
      expect(res.status, res.text).toBe(201);
      expect(res.body.emails).toEqual([{ value: 'no-emails@example.com', type: 'work', primary: true }]);
      expectScimError(await scim('POST', '/Users', { body: { schemas: [CORE_USER], userName: 'no-address' } }), 400, 'invalidValue');
      // An element without its required value is refused for what it lacks.
      const missing = expectScimError(await scim('POST', '/Users', { body: { schemas: [CORE_USER], userName: 'value-less@example.com', emails: [{ primary: true }] } }), 400, 'invalidValue');
      expect(missing.detail).toMatch(/emails\[0\]\.value is required/);
    });

    it('RFC 7643 §4.2: /Schemas makes a group displayName readWrite, as renames are', async () => {
      const schema = await read(`/Schemas/${CORE_GROUP}`);
      expect(schema.attributes.find((a: any) => a.name === 'displayName')).toMatchObject({ mutability: 'readWrite', required: true });
    });
  });

  describe('groups: provider-issued ids, renames, externalId', () => {
    it('RFC 7643 §4.2: Okta renames a group with replace {id, displayName}; the holders keep the role under its new name', async () => {
      const a = await user('okta-rename@example.com');
      const g = await group('Okta Old', [a.id]);
      const res = await scim('PATCH', `/Groups/${g.id}`, { body: patch({ op: 'replace', value: { id: g.id, displayName: 'Okta New' } }) });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ id: g.id, displayName: 'Okta New', members: [{ value: a.id }] });
      expect(res.body.meta.version).not.toBe(g.meta.version);
      expect((await t.call('GET', `/v1/tenants/conform/users/${a.id}`)).body.roles).toEqual(['Okta New']);
      expect((await read(`/Users/${a.id}`)).groups).toEqual([{ value: g.id, display: 'Okta New', $ref: `${t.baseUrl}/scim/v2/Groups/${g.id}`, type: 'direct' }]);
      // The native role API, by name, follows.
      expect((await t.call('GET', '/v1/tenants/conform/roles/Okta%20New')).status).toBe(200);
      expect((await t.call('GET', '/v1/tenants/conform/roles/Okta%20Old')).status).toBe(404);
      // A later sync of the renamed group works.
      const later = await scim('PATCH', `/Groups/${g.id}`, { body: patch({ op: 'remove', path: `members[value eq "${a.id}"]` }) });
      expect(later.status, later.text).toBe(200);
    });

    it("RFC 7643 §4.2: Entra ID's Replace displayName and a PUT with a new name rename the group", async () => {
      const g = await group('Entra Old');
      const entra = await scim('PATCH', `/Groups/${g.id}`, { body: patch({ op: 'Replace', path: 'displayName', value: 'Entra New' }) });
      expect(entra.status, entra.text).toBe(200);
      expect(entra.body.displayName).toBe('Entra New');
      const put = await scim('PUT', `/Groups/${g.id}`, { body: { schemas: [CORE_GROUP], id: g.id, displayName: 'Put New', members: [] } });
      expect(put.status, put.text).toBe(200);
      expect(put.body).toMatchObject({ id: g.id, displayName: 'Put New' });
      expect((await read(`/Groups?filter=${encodeURIComponent('displayName eq "Put New"')}`)).Resources.map((r: any) => r.id)).toEqual([g.id]);
    });

    it('RFC 7644 §3.5.2: a rename to a taken name is 409 uniqueness, to an invalid one 400 invalidValue, removing displayName 400 mutability', async () => {
      await group('Taken Name');
      const g = await group('Free Name');
      expectScimError(await scim('PATCH', `/Groups/${g.id}`, { body: patch({ op: 'replace', path: 'displayName', value: 'Taken Name' }) }), 409, 'uniqueness');
      expectScimError(await scim('PATCH', `/Groups/${g.id}`, { body: patch({ op: 'replace', path: 'displayName', value: 'Sales & Marketing' }) }), 400, 'invalidValue');
      expectScimError(await scim('PATCH', `/Groups/${g.id}`, { body: patch({ op: 'remove', path: 'displayName' }) }), 400, 'mutability');
      expectScimError(await scim('PATCH', `/Groups/${g.id}`, { body: patch({ op: 'replace', path: 'owner', value: 'x' }) }), 400, 'invalidPath');
      expect((await read(`/Groups/${g.id}`)).displayName).toBe('Free Name');
    });

    it('RFC 7644 §3.1: a group id is issued by Muster, stays through a rename and is never given to a new group of the same name', async () => {
      const first = await group('Reused Name');
      expect(first.id).not.toBe('Reused Name');
      expect((await scim('DELETE', `/Groups/${first.id}`)).status).toBe(204);
      const second = await group('Reused Name');
      expect(second.id).not.toBe(first.id);
      expectScimError(await scim('GET', `/Groups/${first.id}`), 404);
      expect((await read(`/Groups/${second.id}`)).displayName).toBe('Reused Name');
    });

    it('RFC 7643 §3.1: a group externalId is stored, changed, cleared by PUT and found by filter=externalId eq', async () => {
      const g = await group('With External', [], { externalId: 'okta-00g1' });
      expect(g.externalId).toBe('okta-00g1');
      const found = await read(`/Groups?filter=${encodeURIComponent('externalId eq "okta-00g1"')}`);
      expect(found.Resources.map((r: any) => r.id)).toEqual([g.id]);
      const changed = await scim('PATCH', `/Groups/${g.id}`, { body: patch({ op: 'replace', path: 'externalId', value: 'okta-00g2' }) });
      expect(changed.status, changed.text).toBe(200);
      expect(changed.body.externalId).toBe('okta-00g2');
      expect((await read(`/Groups?filter=${encodeURIComponent('externalId eq "okta-00g1"')}`)).totalResults).toBe(0);
      const put = await scim('PUT', `/Groups/${g.id}`, { body: { schemas: [CORE_GROUP], displayName: 'With External' } });
      expect(put.status, put.text).toBe(200);
      expect(put.body.externalId).toBeUndefined();
    });

    it('RFC 7644 §3.4.2.2: users are found by the id of a group they are in (groups.value eq)', async () => {
      const a = await user('by-group@example.com');
      await user('not-by-group@example.com');
      const g = await group('Filter By Id', [a.id]);
      const found = await read(`/Users?filter=${encodeURIComponent(`groups.value eq "${g.id}"`)}`);
      expect(found.Resources.map((r: any) => r.id)).toEqual([a.id]);
    });

    it('RFC 7644 §3.5.2: a membership change writes an audit event naming the actor, the group and the members', async () => {
      const a = await user('audited@example.com');
      const g = await group('Audited');
      const res = await scim('PATCH', `/Groups/${g.id}`, { body: patch({ op: 'add', path: 'members', value: [{ value: a.id }] }) });
      expect(res.status, res.text).toBe(200);
      const log = await t.call('GET', `/v1/tenants/conform/audit?action=role.members-changed&resourceId=${g.id}`);
      expect(log.status, log.text).toBe(200);
      expect(log.body.events).toHaveLength(1);
      expect(log.body.events[0]).toMatchObject({ resource: { type: 'role', id: g.id }, actor: { keyId, role: 'tenant-admin' }, dialect: 'scim', detail: { name: 'Audited', added: [a.id], removed: [] } });
    });

    it('RFC 7644 §3.5.2: a tenant key cannot change the groups of an administrator (403); a global key can', async () => {
      // A global key provisions the tenant `default`, so this case runs there.
      const tenantKey = scimClient(t, (await issueKey(t, 'default', 'tenant-admin')).token);
      const globalKey = scimClient(t, ADMIN_TOKEN);
      const role = await t.call('PUT', '/v1/tenants/default/roles/Root', { body: { admin: true } });
      expect(role.status, role.text).toBe(201);
      const created = await globalKey('POST', '/Users', { body: scimUser('holds-admin@example.com') });
      expect(created.status, created.text).toBe(201);
      const admin = created.body;
      const granted = await t.call('PATCH', `/v1/tenants/default/users/${admin.id}`, { body: { roles: ['Root'] }, headers: { 'if-match': '"1"' } });
      expect(granted.status, granted.text).toBe(200);
      const plain = await tenantKey('POST', '/Groups', { body: { schemas: [CORE_GROUP], displayName: 'Plain' } });
      expect(plain.status, plain.text).toBe(201);
      const g = plain.body;
      expectScimError(await tenantKey('PATCH', `/Groups/${g.id}`, { body: patch({ op: 'add', path: 'members', value: [{ value: admin.id }] }) }), 403);
      expectScimError(await tenantKey('POST', '/Groups', { body: { schemas: [CORE_GROUP], displayName: 'Sneaky', members: [{ value: admin.id }] } }), 403);
      expect((await tenantKey('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Sneaky"')}`)).body.totalResults).toBe(0);
      const root = (await tenantKey('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Root"')}`)).body.Resources[0];
      expectScimError(await tenantKey('PATCH', `/Groups/${root.id}`, { body: patch({ op: 'remove', path: 'members' }) }), 403);
      const byGlobal = await globalKey('PATCH', `/Groups/${g.id}`, { body: patch({ op: 'add', path: 'members', value: [{ value: admin.id }] }) });
      expect(byGlobal.status, byGlobal.text).toBe(200);
      expect((await t.call('GET', `/v1/tenants/default/users/${admin.id}`)).body.roles).toEqual(['Plain', 'Root']);
    });

    it('RFC 7644 §3.12: an unknown member id is refused with 400 invalidValue, and nothing changes', async () => {
      const g = await group('No Ghosts');
      expectScimError(await scim('PATCH', `/Groups/${g.id}`, { body: patch({ op: 'add', path: 'members', value: [{ value: '00000000-0000-4000-8000-000000000000' }] }) }), 400, 'invalidValue');
      expect((await read(`/Groups/${g.id}`)).meta.version).toBe(g.meta.version);
    });
  });

  describe('conditional reads (RFC 7644 §3.14)', () => {
    it('RFC 7644 §3.14: If-None-Match with the current ETag answers 304 without a body, a stale one 200', async () => {
      expect((await read('/ServiceProviderConfig')).etag).toEqual({ supported: true });
      const u = await user('etag@example.com');
      const notModified = await scim('GET', `/Users/${u.id}`, { headers: { 'if-none-match': u.meta.version } });
      expect(notModified.status).toBe(304);
      expect(notModified.text).toBe('');
      expect(notModified.headers.get('etag')).toBe(u.meta.version);
      const stale = await scim('GET', `/Users/${u.id}`, { headers: { 'if-none-match': 'W/"0"' } });
      expect(stale.status).toBe(200);

      const g = await group('Conditional');
      expect((await scim('GET', `/Groups/${g.id}`, { headers: { 'if-none-match': g.meta.version } })).status).toBe(304);
      await scim('PATCH', `/Groups/${g.id}`, { body: patch({ op: 'add', path: 'members', value: [{ value: u.id }] }) });
      const changed = await scim('GET', `/Groups/${g.id}`, { headers: { 'if-none-match': g.meta.version } });
      expect(changed.status).toBe(200);
      expect(changed.body.members.map((m: any) => m.value)).toEqual([u.id]);
    });
  });

  describe('endpoints', () => {
    it('RFC 7644 §3.11: /Me answers 501 with a SCIM error body', async () => {
      for (const method of ['GET', 'PATCH', 'PUT', 'DELETE']) {
        const res = await scim(method, '/Me', method === 'GET' || method === 'DELETE' ? {} : { body: patch({ op: 'replace', path: 'active', value: false }) });
        const body = expectScimError(res, 501);
        expect(body.schemas).toEqual([ERROR]);
      }
    });

    it('RFC 7644 §3.4.3: POST /.search at the root answers 501; POST /Groups/.search searches groups', async () => {
      expectScimError(await scim('POST', '/.search', { body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName eq "x"' } }), 501);
      const g = await group('Searched');
      const res = await scim('POST', '/Groups/.search', {
        body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'displayName eq "Searched"', excludedAttributes: ['members'] },
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body.Resources.map((r: any) => r.id)).toEqual([g.id]);
    });
  });
});
