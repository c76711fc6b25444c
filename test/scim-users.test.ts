import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './helpers/databases.js';
import { createTenant, issueKey } from './helpers/native-fixtures.js';
import {
  CORE_USER,
  ENTERPRISE_USER,
  expectScimError,
  LIST_RESPONSE,
  patch,
  scimClient,
  scimToken,
  scimUser,
  SEARCH_REQUEST,
} from './helpers/scim.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/test-app.js';

/** RFC 7644 §3.3's example user, as a client sends it. */
const BJENSEN = {
  schemas: [CORE_USER],
  userName: 'bjensen',
  externalId: 'bjensen',
  name: { formatted: 'Ms. Barbara J Jensen III', familyName: 'Jensen', givenName: 'Barbara' },
  emails: [{ value: 'bjensen@example.com', type: 'work', primary: true }],
};

describe.each(DATABASES)('SCIM Users on %s', (kind) => {
  let t: TestApp;
  let scim: ReturnType<typeof scimClient>;

  beforeAll(async () => {
    t = await startTestApp(kind);
    await createTenant(t, { id: 'acme', name: 'Acme' });
    scim = scimClient(t, await scimToken(t, 'acme'));
  });
  afterAll(async () => t.close());

  async function create(body: Record<string, unknown>): Promise<any> {
    const res = await scim('POST', '/Users', { body });
    expect(res.status, res.text).toBe(201);
    return res.body;
  }

  describe('creating (RFC 7644 §3.3)', () => {
    let bjensen: any;
    let res: Awaited<ReturnType<typeof scim>>;
    beforeAll(async () => {
      res = await scim('POST', '/Users', { body: BJENSEN });
      bjensen = res.body;
    });

    it('answers 201 with the resource, its Location and its ETag', () => {
      expect(res.status, res.text).toBe(201);
      expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
      expect(bjensen).toMatchObject({
        schemas: [CORE_USER],
        userName: 'bjensen',
        externalId: 'bjensen',
        name: { formatted: 'Ms. Barbara J Jensen III', familyName: 'Jensen', givenName: 'Barbara' },
        active: true,
        emails: [{ value: 'bjensen@example.com', type: 'work', primary: true }],
        meta: { resourceType: 'User', version: 'W/"1"' },
      });
      expect(bjensen.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.headers.get('location')).toBe(`${t.baseUrl}/scim/v2/Users/${bjensen.id}`);
      expect(bjensen.meta.location).toBe(res.headers.get('location'));
      expect(res.headers.get('etag')).toBe('W/"1"');
      expect(bjensen.meta.created).toBe(bjensen.meta.lastModified);
    });

    it('stores the user in the tenant of the key, as any other user', async () => {
      const native = await t.call('GET', `/v1/tenants/acme/users/${bjensen.id}`);
      expect(native.status).toBe(200);
      expect(native.body).toMatchObject({ userName: 'bjensen', email: 'bjensen@example.com', lockedOut: false });
      expect((await t.call('GET', `/v1/tenants/default/users/${bjensen.id}`)).status).toBe(404);
    });

    it('reads it back (RFC 7644 §3.4.1)', async () => {
      const read = await scim('GET', `/Users/${bjensen.id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(bjensen);
      expect(read.headers.get('etag')).toBe('W/"1"');
    });

    it('refuses a second user with the same userName: 409 uniqueness, whatever its case', async () => {
      const dup = await scim('POST', '/Users', { body: scimUser('BJensen', { emails: [{ value: 'other@example.com' }] }) });
      const body = expectScimError(dup, 409, 'uniqueness');
      expect(body.detail).toMatch(/user name/);
    });

    it('refuses a second user with the same email: 409 uniqueness', async () => {
      const dup = await scim('POST', '/Users', { body: scimUser('someone-else', { emails: [{ value: 'BJENSEN@example.com', primary: true }] }) });
      expect(expectScimError(dup, 409, 'uniqueness').detail).toMatch(/email/);
    });

    it('refuses a second user with the same externalId: 409 uniqueness', async () => {
      const dup = await scim('POST', '/Users', { body: scimUser('ext-dup@example.com', { externalId: 'bjensen' }) });
      expect(expectScimError(dup, 409, 'uniqueness').detail).toMatch(/externalId/);
    });
  });

  it('compares externalId exactly: another case is another id', async () => {
    await create(scimUser('case1@example.com', { externalId: 'CaseSensitive' }));
    await create(scimUser('case2@example.com', { externalId: 'casesensitive' }));
  });

  it('keeps the enterprise extension: employeeNumber and department as free text', async () => {
    const user = await create(scimUser('ent@example.com', { schemas: [CORE_USER, ENTERPRISE_USER], [ENTERPRISE_USER]: { employeeNumber: '701984', department: 'Tour Operations', manager: { value: 'x' } } }));
    expect(user.schemas).toEqual([CORE_USER, ENTERPRISE_USER]);
    expect(user[ENTERPRISE_USER]).toEqual({ employeeNumber: '701984', department: 'Tour Operations' });
  });

  it('creates a locked-out user for active: false, and takes "False" as false', async () => {
    const user = await create(scimUser('inactive@example.com', { active: 'False' }));
    expect(user.active).toBe(false);
    const native = await t.call('GET', `/v1/tenants/acme/users/${user.id}`);
    expect(native.body.lockedOut).toBe(true);
  });

  it('takes the userName as email when a client sends no emails, and refuses a user with neither', async () => {
    const user = await create({ schemas: [CORE_USER], userName: 'noemail@example.com' });
    expect(user.emails).toEqual([{ value: 'noemail@example.com', type: 'work', primary: true }]);
    expectScimError(await scim('POST', '/Users', { body: { schemas: [CORE_USER], userName: 'plainname' } }), 400, 'invalidValue');
  });

  it('keeps the primary email of several, and one phone number', async () => {
    const user = await create(
      scimUser('multi', {
        emails: [{ value: 'home@example.org', type: 'home' }, { value: 'multi@example.com', type: 'work', primary: true }],
        phoneNumbers: [{ value: '+1 555 0100', type: 'mobile' }],
      }),
    );
    expect(user.emails).toEqual([{ value: 'multi@example.com', type: 'work', primary: true }]);
    expect(user.phoneNumbers).toEqual([{ value: '+1 555 0100', type: 'work', primary: true }]);
  });

  it("checks a password against the tenant's policy and never shows it", async () => {
    const weak = await scim('POST', '/Users', { body: scimUser('weak@example.com', { password: 'password' }) });
    expectScimError(weak, 400, 'invalidValue');
    const ok = await scim('POST', '/Users', { body: scimUser('strong@example.com', { password: 'velvet-lantern-91' }) });
    expect(ok.status).toBe(201);
    expect(ok.text).not.toContain('velvet-lantern-91');
    expect(ok.body.password).toBeUndefined();
  });

  it('answers a missing userName with 400 invalidValue naming it', async () => {
    const res = await scim('POST', '/Users', { body: { schemas: [CORE_USER], emails: [{ value: 'x@example.com' }] } });
    expect(expectScimError(res, 400, 'invalidValue').detail).toMatch(/userName/);
  });

  it('answers a body that is not JSON with 400 invalidSyntax', async () => {
    const res = await scim('POST', '/Users', { raw: '{"userName":', headers: { 'content-type': 'application/scim+json' } });
    expectScimError(res, 400, 'invalidSyntax');
  });

  it('accepts plain application/json as well as application/scim+json', async () => {
    const res = await t.call('POST', '/scim/v2/Users', { body: scimUser('plainjson@example.com'), token: await scimToken(t, 'acme') });
    expect(res.status, res.text).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
  });

  it('answers another media type with 415', async () => {
    const res = await scim('POST', '/Users', { raw: 'userName=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expectScimError(res, 415);
  });

  describe('reading', () => {
    it('answers an unknown id with 404 (RFC 7644 §3.12)', async () => {
      expectScimError(await scim('GET', '/Users/2819c223-7f76-453a-919d-413861904646'), 404);
      expectScimError(await scim('GET', '/Users/not-an-id'), 404);
    });

    it('returns only the attributes asked for, with id and schemas (RFC 7644 §3.9)', async () => {
      const user = await create(scimUser('attrs@example.com', { name: { givenName: 'At', familyName: 'Tributes' } }));
      const res = await scim('GET', `/Users/${user.id}?attributes=userName,name.givenName`);
      expect(res.body).toEqual({ schemas: [CORE_USER], id: user.id, userName: 'attrs@example.com', name: { givenName: 'At' } });
      const urn = await scim('GET', `/Users/${user.id}?attributes=${encodeURIComponent(`${CORE_USER}:userName`)},emails.value`);
      expect(urn.body).toEqual({ schemas: [CORE_USER], id: user.id, userName: 'attrs@example.com', emails: [{ value: 'attrs@example.com' }] });
    });

    it('leaves out excludedAttributes, never id or schemas', async () => {
      const user = await create(scimUser('excl@example.com', { name: { givenName: 'Ex' } }));
      const res = await scim('GET', `/Users/${user.id}?excludedAttributes=name,emails,meta,id,schemas`);
      expect(res.body.name).toBeUndefined();
      expect(res.body.emails).toBeUndefined();
      expect(res.body.meta).toBeUndefined();
      expect(res.body.id).toBe(user.id);
      expect(res.body.schemas).toEqual([CORE_USER]);
      expect(res.body.userName).toBe('excl@example.com');
    });

    it('lists with startIndex and count (RFC 7644 §3.4.2.4)', async () => {
      const all = await scim('GET', '/Users');
      expect(all.body.schemas).toEqual([LIST_RESPONSE]);
      expect(all.body.totalResults).toBeGreaterThan(3);
      const page = await scim('GET', '/Users?startIndex=2&count=2');
      expect(page.body).toMatchObject({ totalResults: all.body.totalResults, startIndex: 2, itemsPerPage: 2 });
      expect(page.body.Resources.map((u: any) => u.id)).toEqual(all.body.Resources.slice(1, 3).map((u: any) => u.id));
      const none = await scim('GET', '/Users?count=0');
      expect(none.body).toMatchObject({ totalResults: all.body.totalResults, itemsPerPage: 0, Resources: [] });
      const zero = await scim('GET', '/Users?startIndex=0&count=1');
      expect(zero.body.startIndex).toBe(1);
    });

    it('answers a count that is not a number with 400 invalidValue', async () => {
      expectScimError(await scim('GET', '/Users?count=ten'), 400, 'invalidValue');
    });

    it('searches with POST /Users/.search (RFC 7644 §3.4.3)', async () => {
      await create(scimUser('smith1@example.com', { displayName: 'Smith One' }));
      await create(scimUser('smith2@example.com', { displayName: 'Smithers Two' }));
      const res = await scim('POST', '/Users/.search', {
        body: { schemas: [SEARCH_REQUEST], attributes: ['displayName', 'userName'], filter: 'displayName sw "smith"', startIndex: 1, count: 10 },
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body.totalResults).toBe(2);
      expect(res.body.Resources.map((u: any) => Object.keys(u).sort())).toEqual([
        ['displayName', 'id', 'schemas', 'userName'],
        ['displayName', 'id', 'schemas', 'userName'],
      ]);
    });
  });

  describe('replacing with PUT (RFC 7644 §3.5.1)', () => {
    it('replaces every attribute, clearing those left out, and moves the version on', async () => {
      const user = await create(scimUser('put@example.com', { externalId: 'put-1', name: { givenName: 'Put', familyName: 'Before' }, phoneNumbers: [{ value: '+1 555 0101' }] }));
      const res = await scim('PUT', `/Users/${user.id}`, {
        body: { schemas: [CORE_USER], id: user.id, userName: 'put-renamed@example.com', name: { givenName: 'Put', familyName: 'After' }, emails: [{ value: 'put-renamed@example.com', primary: true }] },
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ userName: 'put-renamed@example.com', name: { givenName: 'Put', familyName: 'After', formatted: 'Put After' }, emails: [{ value: 'put-renamed@example.com' }], active: true });
      expect(res.body.externalId).toBeUndefined();
      expect(res.body.phoneNumbers).toBeUndefined();
      expect(res.headers.get('etag')).toBe('W/"2"');
      expect(res.body.meta.version).toBe('W/"2"');
    });

    it('keeps the version when a PUT changes nothing', async () => {
      const user = await create(scimUser('same@example.com', { name: { givenName: 'Same' } }));
      const res = await scim('PUT', `/Users/${user.id}`, { body: { ...user, meta: undefined } });
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).toBe('W/"1"');
    });

    it('refuses a change to another user’s externalId: 409 uniqueness, by the database’s unique index', async () => {
      await create(scimUser('exta@example.com', { externalId: 'taken-ext' }));
      const b = await create(scimUser('extb@example.com'));
      const res = await scim('PATCH', `/Users/${b.id}`, { body: patch({ op: 'add', path: 'externalId', value: 'taken-ext' }) });
      expect(expectScimError(res, 409, 'uniqueness').detail).toMatch(/externalId/);
    });

    it('refuses a PUT that takes another user’s userName: 409 uniqueness', async () => {
      const a = await create(scimUser('puta@example.com'));
      await create(scimUser('putb@example.com'));
      expectScimError(await scim('PUT', `/Users/${a.id}`, { body: scimUser('putb@example.com', { emails: [{ value: 'puta@example.com' }] }) }), 409, 'uniqueness');
    });
  });

  describe('changing with PATCH (RFC 7644 §3.5.2)', () => {
    it('replaces single attributes by path, as Entra ID writes them', async () => {
      const user = await create(scimUser('patch1@example.com', { name: { givenName: 'Pat', familyName: 'One' } }));
      const res = await scim('PATCH', `/Users/${user.id}`, {
        body: patch(
          { op: 'Replace', path: 'name.givenName', value: 'Patricia' },
          { op: 'Add', path: 'externalId', value: 'ext-patch1' },
          { op: 'Replace', path: `${ENTERPRISE_USER}:department`, value: 'Sales' },
          { op: 'Replace', path: 'active', value: 'False' },
        ),
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ name: { givenName: 'Patricia', familyName: 'One', formatted: 'Patricia One' }, externalId: 'ext-patch1', active: false, [ENTERPRISE_USER]: { department: 'Sales' } });
      expect(res.headers.get('etag')).toBe('W/"2"');
    });

    it('replaces an email through a value filter path, and a path on a multi-valued attribute without one', async () => {
      const user = await create(scimUser('patch2@example.com'));
      const first = await scim('PATCH', `/Users/${user.id}`, { body: patch({ op: 'replace', path: 'emails[type eq "work"].value', value: 'patch2-new@example.com' }) });
      expect(first.status, first.text).toBe(200);
      expect(first.body.emails).toEqual([{ value: 'patch2-new@example.com', type: 'work', primary: true }]);
      const second = await scim('PATCH', `/Users/${user.id}`, { body: patch({ op: 'replace', path: 'emails.value', value: 'patch2-newer@example.com' }) });
      expect(second.body.emails[0].value).toBe('patch2-newer@example.com');
    });

    it('adds a phone number by a filter path when there is none (Entra ID)', async () => {
      const user = await create(scimUser('patch3@example.com'));
      const res = await scim('PATCH', `/Users/${user.id}`, { body: patch({ op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555 0199' }) });
      expect(res.status, res.text).toBe(200);
      expect(res.body.phoneNumbers).toEqual([{ value: '+1 555 0199', type: 'work', primary: true }]);
    });

    it('takes a phone number Entra ID sets beside the one Muster holds', async () => {
      const user = await create(scimUser('patch3b@example.com', { phoneNumbers: [{ value: '+1 555 0101', type: 'work' }] }));
      const res = await scim('PATCH', `/Users/${user.id}`, { body: patch({ op: 'Replace', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555 0202' }) });
      expect(res.status, res.text).toBe(200);
      expect(res.body.phoneNumbers).toEqual([{ value: '+1 555 0202', type: 'work', primary: true }]);
    });

    it('applies a path-less replace of several attributes (RFC 7644 §3.5.2.3)', async () => {
      const user = await create(scimUser('patch4@example.com'));
      const res = await scim('PATCH', `/Users/${user.id}`, { body: patch({ op: 'replace', value: { active: false, displayName: 'Four', 'name.familyName': 'Patch' } }) });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ active: false, displayName: 'Four', name: { familyName: 'Patch' } });
      expect(res.body.name.formatted).toBe('Patch');
    });

    it('keeps the one email Muster holds when a client adds another (RFC 7644 §3.5.2.1)', async () => {
      const user = await create(scimUser('patch5@example.com'));
      const res = await scim('PATCH', `/Users/${user.id}`, { body: patch({ op: 'add', value: { emails: [{ value: 'babs@jensen.org', type: 'home' }], nickName: 'Babs' } }) });
      expect(res.status, res.text).toBe(200);
      expect(res.body.emails).toEqual([{ value: 'patch5@example.com', type: 'work', primary: true }]);
    });

    it('removes attributes (RFC 7644 §3.5.2.2)', async () => {
      const user = await create(scimUser('patch6@example.com', { externalId: 'p6', phoneNumbers: [{ value: '+1 555 0106' }], name: { givenName: 'Six' } }));
      const res = await scim('PATCH', `/Users/${user.id}`, {
        body: patch({ op: 'remove', path: 'externalId' }, { op: 'remove', path: 'phoneNumbers[type eq "work"]' }, { op: 'remove', path: 'name' }),
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body.externalId).toBeUndefined();
      expect(res.body.phoneNumbers).toBeUndefined();
      expect(res.body.name).toBeUndefined();
    });

    it('answers a remove without a path with 400 noTarget', async () => {
      const user = await create(scimUser('patch7@example.com'));
      expectScimError(await scim('PATCH', `/Users/${user.id}`, { body: patch({ op: 'remove' }) }), 400, 'noTarget');
    });

    it('answers a replace of elements that a value filter does not find with 400 noTarget', async () => {
      const user = await create(scimUser('patch8@example.com'));
      const res = await scim('PATCH', `/Users/${user.id}`, { body: patch({ op: 'replace', path: 'emails[type eq "home"]', value: { value: 'x@example.com', type: 'home' } }) });
      expectScimError(res, 400, 'noTarget');
    });

    it('answers a change of a read-only attribute with 400 mutability', async () => {
      const user = await create(scimUser('patch9@example.com'));
      expectScimError(await scim('PATCH', `/Users/${user.id}`, { body: patch({ op: 'replace', path: 'id', value: 'mine' }) }), 400, 'mutability');
      expectScimError(await scim('PATCH', `/Users/${user.id}`, { body: patch({ op: 'add', path: 'groups', value: [{ value: 'admins' }] }) }), 400, 'mutability');
    });

    it('answers an unknown op or a body that is not a PatchOp with 400 invalidSyntax', async () => {
      const user = await create(scimUser('patch10@example.com'));
      expectScimError(await scim('PATCH', `/Users/${user.id}`, { body: patch({ op: 'merge', path: 'userName', value: 'x' }) }), 400, 'invalidSyntax');
      expectScimError(await scim('PATCH', `/Users/${user.id}`, { body: { userName: 'x' } }), 400, 'invalidSyntax');
    });

    it('refuses, at once, a path with a line break (which the filter grammar backtracks on)', async () => {
      const user = await create(scimUser('patch12@example.com'));
      const started = Date.now();
      const res = await scim('PATCH', `/Users/${user.id}`, { body: patch({ op: 'replace', path: `emails[type eq "${'\n'.repeat(40)}].value`, value: 'x@example.com' }) });
      expectScimError(res, 400, 'invalidPath');
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it('refuses a change the core refuses: an invalid email is 400 invalidValue', async () => {
      const user = await create(scimUser('patch11@example.com'));
      const res = await scim('PATCH', `/Users/${user.id}`, { body: patch({ op: 'replace', path: 'emails[type eq "work"].value', value: 'not-an-email' }) });
      expect(expectScimError(res, 400, 'invalidValue').detail).toMatch(/emails/);
    });
  });

  describe('versions (RFC 7644 §3.14)', () => {
    it('applies a write whose If-Match is current and refuses a stale one with 412', async () => {
      const user = await create(scimUser('etag@example.com'));
      const ok = await scim('PATCH', `/Users/${user.id}`, { body: patch({ op: 'replace', path: 'displayName', value: 'E1' }), headers: { 'if-match': 'W/"1"' } });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.headers.get('etag')).toBe('W/"2"');
      expectScimError(await scim('PATCH', `/Users/${user.id}`, { body: patch({ op: 'replace', path: 'displayName', value: 'E2' }), headers: { 'if-match': 'W/"1"' } }), 412);
      expectScimError(await scim('PUT', `/Users/${user.id}`, { body: scimUser('etag@example.com'), headers: { 'if-match': '"1"' } }), 412);
      expectScimError(await scim('DELETE', `/Users/${user.id}`, { headers: { 'if-match': 'W/"1"' } }), 412);
      const star = await scim('PATCH', `/Users/${user.id}`, { body: patch({ op: 'replace', path: 'displayName', value: 'E3' }), headers: { 'if-match': '*' } });
      expect(star.status).toBe(200);
      expect((await scim('DELETE', `/Users/${user.id}`, { headers: { 'if-match': 'W/"3"' } })).status).toBe(204);
    });
  });

  describe('deleting (RFC 7644 §3.6)', () => {
    it('deletes a user: 204, then 404', async () => {
      const user = await create(scimUser('delete@example.com'));
      const res = await scim('DELETE', `/Users/${user.id}`);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expectScimError(await scim('GET', `/Users/${user.id}`), 404);
      expectScimError(await scim('DELETE', `/Users/${user.id}`), 404);
    });
  });

  describe('credentials and tenants', () => {
    it('answers without a credential, or with a bad one, 401 with WWW-Authenticate', async () => {
      const none = await scim('GET', '/Users', { token: null });
      expectScimError(none, 401);
      expect(none.headers.get('www-authenticate')).toMatch(/Bearer/);
      expectScimError(await scim('GET', '/Users', { token: 'mst_not_a_key' }), 401);
    });

    it("sees only the key's tenant", async () => {
      await createTenant(t, { id: 'globex', name: 'Globex' });
      const globex = scimClient(t, await scimToken(t, 'globex'));
      const mine = await create(scimUser('tenant-iso@example.com'));
      expectScimError(await globex('GET', `/Users/${mine.id}`), 404);
      const list = await globex('GET', `/Users?filter=${encodeURIComponent('userName eq "tenant-iso@example.com"')}`);
      expect(list.body.totalResults).toBe(0);
      // The same userName is free in another tenant.
      expect((await globex('POST', '/Users', { body: scimUser('tenant-iso@example.com') })).status).toBe(201);
    });

    it('provisions the default tenant with a global key', async () => {
      const global = scimClient(t, ADMIN_TOKEN);
      const res = await global('POST', '/Users', { body: scimUser('global-key@example.com') });
      expect(res.status, res.text).toBe(201);
      expect((await t.call('GET', `/v1/tenants/default/users/${res.body.id}`)).status).toBe(200);
    });

    it('lets a reader key read and not write (403)', async () => {
      const reader = scimClient(t, (await issueKey(t, 'acme', 'reader')).token);
      expect((await reader('GET', '/Users?count=1')).status).toBe(200);
      expectScimError(await reader('POST', '/Users', { body: scimUser('by-reader@example.com') }), 403);
      const user = await create(scimUser('reader-target@example.com'));
      expectScimError(await reader('PUT', `/Users/${user.id}`, { body: scimUser('reader-target@example.com') }), 403);
    });
  });

  describe('discovery (RFC 7644 §4)', () => {
    it('describes what is supported in ServiceProviderConfig, without a credential', async () => {
      const res = await scim('GET', '/ServiceProviderConfig', { token: null });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
      expect(res.body).toMatchObject({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
        patch: { supported: true },
        bulk: { supported: true, maxOperations: 1000, maxPayloadSize: expect.any(Number) },
        filter: { supported: true, maxResults: 200 },
        changePassword: { supported: true },
        sort: { supported: true },
        etag: { supported: true },
      });
      expect(res.body.authenticationSchemes.map((s: any) => s.type)).toEqual(['oauthbearertoken', 'httpbasic']);
    });

    it('lists the resource types User (with the enterprise extension) and Group', async () => {
      const res = await scim('GET', '/ResourceTypes', { token: null });
      expect(res.body.schemas).toEqual([LIST_RESPONSE]);
      expect(res.body.Resources.map((r: any) => [r.id, r.endpoint, r.schema])).toEqual([
        ['User', '/Users', CORE_USER],
        ['Group', '/Groups', 'urn:ietf:params:scim:schemas:core:2.0:Group'],
      ]);
      expect(res.body.Resources[0].schemaExtensions).toEqual([{ schema: ENTERPRISE_USER, required: false }]);
      expect((await scim('GET', '/ResourceTypes/Group', { token: null })).body.name).toBe('Group');
      expectScimError(await scim('GET', '/ResourceTypes/Device', { token: null }), 404);
    });

    it('describes only the attributes Muster keeps in Schemas', async () => {
      const res = await scim('GET', '/Schemas', { token: null });
      expect(res.body.Resources.map((s: any) => s.id)).toEqual([CORE_USER, ENTERPRISE_USER, 'urn:ietf:params:scim:schemas:core:2.0:Group']);
      const user = await scim('GET', `/Schemas/${CORE_USER}`, { token: null });
      expect(user.body.attributes.map((a: any) => a.name)).toEqual(['userName', 'name', 'displayName', 'active', 'password', 'emails', 'phoneNumbers', 'groups']);
      expect(user.body.attributes.find((a: any) => a.name === 'password')).toMatchObject({ mutability: 'writeOnly', returned: 'never' });
      expect(user.body.attributes.find((a: any) => a.name === 'userName')).toMatchObject({ required: true, uniqueness: 'server' });
    });

    it('documents the SCIM endpoints in the OpenAPI document under the tag "scim"', async () => {
      const res = await t.call('GET', '/openapi.json', { token: null });
      expect(res.status).toBe(200);
      expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/scim/v2/Users', '/scim/v2/Users/{id}', '/scim/v2/Groups', '/scim/v2/Bulk', '/scim/v2/ServiceProviderConfig']));
      expect(res.body.paths['/scim/v2/Users'].post.tags).toEqual(['scim']);
      expect(res.body.tags.map((tag: any) => tag.name)).toContain('scim');
      expect(JSON.stringify(res.body.paths['/scim/v2/Users/{id}'].get.responses)).not.toMatch(/"password"/);
    });

    it('answers an unknown SCIM endpoint with a SCIM 404', async () => {
      expectScimError(await scim('GET', '/Devices'), 404);
    });
  });
});
