import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './helpers/databases.js';
import { basic, createTenant, expectProblem, issueKey, type IssuedKey } from './helpers/native-fixtures.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

/** The random part of a token `mst_<id>_<secret>` (the secret is base64url and may itself hold `_`). */
function secretOf(token: string): string {
  return token.slice(token.indexOf('_', 'mst_'.length) + 1);
}

describe.each(DATABASES)('tenants on %s', (kind) => {
  let t: TestApp;
  let tenantAdmin: IssuedKey;
  beforeAll(async () => {
    t = await startTestApp(kind);
    await createTenant(t, { id: 'acme', name: 'Acme' });
    tenantAdmin = await issueKey(t, 'acme', 'tenant-admin');
  });
  afterAll(async () => t.close());

  it('has a default tenant from the first start, with its app key', async () => {
    const res = await t.call('GET', '/v1/tenants/default');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: 'default', seatLimit: null, seatsUsed: 0, emailDomains: { allow: [], block: [] } });
    expect(res.body.appKey).toMatch(/^app_[A-Za-z0-9_-]{10,}$/);
    expect(res.body.passwordPolicy).toMatchObject({ minLength: 8, maxLength: 256, blockCommon: true, blockPersonalInfo: true });
  });

  it('creates a tenant with its settings and a generated app key', async () => {
    const res = await t.call('POST', '/v1/tenants', {
      body: { id: 'globex', name: 'Globex', seatLimit: 5, emailDomains: { allow: ['globex.com'] }, passwordPolicy: { minLength: 12, requireDigit: true } },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: 'globex',
      name: 'Globex',
      seatLimit: 5,
      seatsUsed: 0,
      emailDomains: { allow: ['globex.com'], block: [] },
      passwordPolicy: { minLength: 12, maxLength: 256, requireDigit: true, requireUppercase: false },
    });
    expect(res.body.appKey).toMatch(/^app_/);
    const again = await t.call('GET', '/v1/tenants/globex');
    expect(again.body).toEqual(res.body);
  });

  it('gives every tenant its own app key', async () => {
    const a = await t.call('GET', '/v1/tenants/acme');
    const d = await t.call('GET', '/v1/tenants/default');
    expect(a.body.appKey).not.toBe(d.body.appKey);
  });

  it('refuses a second tenant with the same id with 409', async () => {
    expectProblem(await t.call('POST', '/v1/tenants', { body: { id: 'acme', name: 'Another Acme' } }), 409, 'CONFLICT');
  });

  it('refuses a tenant id that is not a slug', async () => {
    const body = expectProblem(await t.call('POST', '/v1/tenants', { body: { id: 'Not A Slug' } }), 400, 'INVALID_FIELD');
    expect(body.errors[0].field).toBe('id');
  });

  it('needs an id to create a tenant', async () => {
    const body = expectProblem(await t.call('POST', '/v1/tenants', { body: { name: 'Nameless' } }), 400, 'MISSING_REQUIRED_FIELD');
    expect(body.errors).toEqual([expect.objectContaining({ field: 'id', code: 'MISSING_REQUIRED_FIELD' })]);
  });

  it('lets only a global admin create a tenant', async () => {
    expectProblem(await t.call('POST', '/v1/tenants', { body: { id: 'rogue' }, token: tenantAdmin.token }), 403, 'FORBIDDEN');
    expect((await t.call('GET', '/v1/tenants/rogue')).status).toBe(404);
  });

  it('lets only a global admin list tenants', async () => {
    const all = await t.call('GET', '/v1/tenants');
    expect(all.status).toBe(200);
    expect(all.body.tenants.map((x: { id: string }) => x.id)).toEqual(expect.arrayContaining(['acme', 'default']));
    expectProblem(await t.call('GET', '/v1/tenants', { token: tenantAdmin.token }), 403, 'FORBIDDEN');
  });

  it('lets a tenant admin read and change its own email domains and password policy', async () => {
    const read = await t.call('GET', '/v1/tenants/acme', { token: tenantAdmin.token });
    expect(read.status).toBe(200);
    const res = await t.call('PATCH', '/v1/tenants/acme', {
      token: tenantAdmin.token,
      body: { emailDomains: { allow: ['acme.test'], block: ['spam.acme.test'] }, passwordPolicy: { minLength: 10, requireSymbol: true } },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.emailDomains).toEqual({ allow: ['acme.test'], block: ['spam.acme.test'] });
    expect(res.body.passwordPolicy).toMatchObject({ minLength: 10, requireSymbol: true, maxLength: 256, blockCommon: true });
    expect(res.body.appKey).toBe(read.body.appKey);
  });

  it('applies a changed policy to the next user created', async () => {
    await t.call('PATCH', '/v1/tenants/acme', { body: { passwordPolicy: { minLength: 10, requireSymbol: true }, emailDomains: { allow: ['acme.test'], block: [] } } });
    const weak = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'pat@acme.test', password: 'harbourlights' } });
    expect(expectProblem(weak, 400, 'PASSWORD_TOO_WEAK').errors[0].field).toBe('password');
    const outside = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'pat@elsewhere.test' } });
    expectProblem(outside, 400, 'EMAIL_DOMAIN_RESTRICTED');
  });

  it('keeps the parts of the settings a PATCH does not name', async () => {
    await t.call('PATCH', '/v1/tenants/acme', { body: { emailDomains: { allow: ['acme.test'], block: ['old.test'] } } });
    const res = await t.call('PATCH', '/v1/tenants/acme', { body: { emailDomains: { block: ['new.test'] } } });
    expect(res.body.emailDomains).toEqual({ allow: ['acme.test'], block: ['new.test'] });
  });

  it('refuses a password policy whose minimum exceeds its maximum', async () => {
    expectProblem(await t.call('PATCH', '/v1/tenants/acme', { body: { passwordPolicy: { minLength: 100, maxLength: 50 } } }), 400, 'INVALID_FIELD');
  });

  it('lets only a global admin change the seat limit', async () => {
    expectProblem(await t.call('PATCH', '/v1/tenants/acme', { token: tenantAdmin.token, body: { seatLimit: 1000 } }), 403, 'FORBIDDEN');
    expect((await t.call('GET', '/v1/tenants/acme')).body.seatLimit).toBeNull();
    const res = await t.call('PATCH', '/v1/tenants/acme', { body: { seatLimit: 1000 } });
    expect(res.status).toBe(200);
    expect(res.body.seatLimit).toBe(1000);
    const cleared = await t.call('PATCH', '/v1/tenants/acme', { body: { seatLimit: null } });
    expect(cleared.body.seatLimit).toBeNull();
  });

  it('refuses unknown settings', async () => {
    const body = expectProblem(await t.call('PATCH', '/v1/tenants/acme', { body: { colour: 'red' } }), 400, 'INVALID_FIELD');
    expect(body.errors[0].field).toBe('colour');
  });

  it('answers 404 for a tenant that does not exist', async () => {
    expectProblem(await t.call('GET', '/v1/tenants/nowhere'), 404, 'NOT_FOUND');
    expectProblem(await t.call('PATCH', '/v1/tenants/nowhere', { body: { name: 'x' } }), 404, 'NOT_FOUND');
  });

  it("answers 404, not 403, for another tenant's settings", async () => {
    expectProblem(await t.call('GET', '/v1/tenants/default', { token: tenantAdmin.token }), 404, 'NOT_FOUND');
    expectProblem(await t.call('PATCH', '/v1/tenants/default', { token: tenantAdmin.token, body: { name: 'Mine' } }), 404, 'NOT_FOUND');
  });
});

describe.each(DATABASES)('API keys on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
    await createTenant(t, { id: 'acme' });
    await createTenant(t, { id: 'globex' });
  });
  afterAll(async () => t.close());

  it('issues a key whose token is shown once and never listed', async () => {
    const res = await t.call('POST', '/v1/tenants/acme/api-keys', { body: { name: 'CI', role: 'user-manager' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({ id: expect.any(String), name: 'CI', role: 'user-manager', tenant: 'acme', revokedAt: null });
    expect(res.body.token).toMatch(/^mst_/);
    const list = await t.call('GET', '/v1/tenants/acme/api-keys');
    expect(list.status).toBe(200);
    const listed = list.body.keys.find((k: { id: string }) => k.id === res.body.id);
    expect(listed).toMatchObject({ id: res.body.id, name: 'CI', role: 'user-manager', tenant: 'acme' });
    expect(listed).not.toHaveProperty('token');
    expect(list.text).not.toContain(res.body.token);
    const secret = secretOf(res.body.token);
    expect(list.text).not.toContain(secret);
  });

  it('issues key ids of 16 hex digits that are all random, so that they tell nothing of when a key was issued', async () => {
    const keys = await Promise.all(Array.from({ length: 8 }, () => issueKey(t, 'acme', 'reader')));
    for (const key of keys) {
      expect(key.id).toMatch(/^key-[0-9a-f]{16}$/);
      expect(key.token.startsWith(`mst_${key.id}_`)).toBe(true);
    }
    expect(new Set(keys.map((k) => k.id)).size).toBe(8);
    // Keys issued within the same minute: an id led by a timestamp would share its first digits.
    expect(new Set(keys.map((k) => k.id.slice(4, 12))).size).toBeGreaterThan(1);
    const session = await t.call('GET', '/v1/session', { token: keys[0]!.token });
    expect(session.status, session.text).toBe(200);
    expect(session.body).toMatchObject({ keyId: keys[0]!.id, role: 'reader', tenant: 'acme' });
  });

  it('keeps accepting a key whose id was issued in the earlier time-ordered form', async () => {
    const id = 'key-0190f5a3c2b47d10';
    const token = `mst_${id}_${randomBytes(32).toString('base64url')}`;
    await t.core.keys.insert({ id, tenantId: 'acme', name: 'older key', role: 'reader', tokenHash: createHash('sha256').update(token).digest('hex'), createdAt: new Date().toISOString(), revokedAt: null });
    const bearer = await t.call('GET', '/v1/session', { token });
    expect(bearer.status, bearer.text).toBe(200);
    expect(bearer.body).toMatchObject({ keyId: id, role: 'reader', tenant: 'acme' });
    expect((await t.call('GET', '/v1/tenants/acme/users', { token: null, headers: basic(id, token) })).status).toBe(200);
  });

  it('stores only the SHA-256 of a token, never the token itself', async () => {
    const key = await issueKey(t, 'acme', 'reader');
    const rows = await t.db.kysely.selectFrom('api_keys').selectAll().execute();
    const row = rows.find((r) => r.id === key.id)!;
    expect(row.token_hash).toBe(createHash('sha256').update(key.token).digest('hex'));
    const secret = secretOf(key.token);
    const everything = JSON.stringify(rows);
    expect(everything).not.toContain(key.token);
    expect(everything).not.toContain(secret);
  });

  it('accepts a token as a Bearer credential', async () => {
    const key = await issueKey(t, 'acme', 'reader');
    expect((await t.call('GET', '/v1/tenants/acme/users', { token: key.token })).status).toBe(200);
  });

  it('accepts HTTP Basic with the key id as user name and the token as password', async () => {
    const key = await issueKey(t, 'acme', 'reader');
    const res = await t.call('GET', '/v1/tenants/acme/users', { token: null, headers: basic(key.id, key.token) });
    expect(res.status).toBe(200);
  });

  it('refuses HTTP Basic when the user name is not the id of the key', async () => {
    const key = await issueKey(t, 'acme', 'reader');
    const other = await issueKey(t, 'acme', 'reader');
    const res = await t.call('GET', '/v1/tenants/acme/users', { token: null, headers: basic(other.id, key.token) });
    expectProblem(res, 401, 'UNAUTHORIZED');
  });

  it('answers 401 with WWW-Authenticate for a missing, unknown or malformed credential', async () => {
    for (const headers of [{}, { authorization: 'Bearer mst_key-0000000000000000_nope' }, { authorization: 'Bearer nonsense' }, { authorization: 'Token abc' }, basic('x', 'y')]) {
      const res = await t.call('GET', '/v1/tenants/acme/users', { token: null, headers });
      expectProblem(res, 401, 'UNAUTHORIZED');
      expect(res.headers.get('www-authenticate')).toMatch(/Bearer/);
      expect(res.headers.get('www-authenticate')).toMatch(/Basic/);
    }
  });

  it('refuses a token whose secret is wrong even when its id is right', async () => {
    const key = await issueKey(t, 'acme', 'reader');
    const forged = `${key.token.slice(0, -4)}AAAA` === key.token ? `${key.token.slice(0, -4)}BBBB` : `${key.token.slice(0, -4)}AAAA`;
    expectProblem(await t.call('GET', '/v1/tenants/acme/users', { token: forged }), 401, 'UNAUTHORIZED');
  });

  it('refuses a revoked key with 401 and WWW-Authenticate', async () => {
    const key = await issueKey(t, 'acme', 'tenant-admin');
    expect((await t.call('GET', '/v1/tenants/acme/users', { token: key.token })).status).toBe(200);
    const revoke = await t.call('DELETE', `/v1/tenants/acme/api-keys/${key.id}`);
    expect(revoke.status).toBe(204);
    const res = await t.call('GET', '/v1/tenants/acme/users', { token: key.token });
    expectProblem(res, 401, 'UNAUTHORIZED');
    expect(res.headers.get('www-authenticate')).toBeTruthy();
    expect((await t.call('GET', '/v1/tenants/acme/users', { token: null, headers: basic(key.id, key.token) })).status).toBe(401);
    const listed = (await t.call('GET', '/v1/tenants/acme/api-keys')).body.keys.find((k: { id: string }) => k.id === key.id);
    expect(listed.revokedAt).toEqual(expect.any(String));
  });

  it('answers 404 when revoking a key twice or a key that does not exist', async () => {
    const key = await issueKey(t, 'acme', 'reader');
    expect((await t.call('DELETE', `/v1/tenants/acme/api-keys/${key.id}`)).status).toBe(204);
    expectProblem(await t.call('DELETE', `/v1/tenants/acme/api-keys/${key.id}`), 404, 'NOT_FOUND');
    expectProblem(await t.call('DELETE', '/v1/tenants/acme/api-keys/key-0000000000000000'), 404, 'NOT_FOUND');
  });

  it("does not let one tenant revoke another tenant's key", async () => {
    const key = await issueKey(t, 'globex', 'reader');
    expectProblem(await t.call('DELETE', `/v1/tenants/acme/api-keys/${key.id}`), 404, 'NOT_FOUND');
    expect((await t.call('GET', '/v1/tenants/globex/users', { token: key.token })).status).toBe(200);
  });

  it('lets a tenant admin issue and revoke keys of its own tenant', async () => {
    const admin = await issueKey(t, 'acme', 'tenant-admin');
    const key = await issueKey(t, 'acme', 'user-manager', admin.token);
    expect(key.tenant).toBe('acme');
    expect((await t.call('DELETE', `/v1/tenants/acme/api-keys/${key.id}`, { token: admin.token })).status).toBe(204);
  });

  it('does not let a tenant admin issue a global-admin key', async () => {
    const admin = await issueKey(t, 'acme', 'tenant-admin');
    const res = await t.call('POST', '/v1/tenants/acme/api-keys', { token: admin.token, body: { name: 'escalate', role: 'global-admin' } });
    expectProblem(res, 403, 'FORBIDDEN');
    expect(res.text).not.toContain('mst_');
  });

  it('issues a global-admin key bound to no tenant, which acts in every tenant and can be revoked', async () => {
    const key = await issueKey(t, 'acme', 'global-admin');
    expect(key.tenant).toBeNull();
    expect((await t.call('GET', '/v1/tenants/globex/users', { token: key.token })).status).toBe(200);
    expect((await t.call('POST', '/v1/tenants', { token: key.token, body: { id: 'initech' } })).status).toBe(201);
    const asGlobal = await t.call('GET', '/v1/tenants/globex/api-keys');
    expect(asGlobal.body.keys).toContainEqual(expect.objectContaining({ id: key.id, tenant: null }));
    const admin = await issueKey(t, 'acme', 'tenant-admin');
    const asTenantAdmin = await t.call('GET', '/v1/tenants/acme/api-keys', { token: admin.token });
    expect(asTenantAdmin.body.keys.map((k: { id: string }) => k.id)).not.toContain(key.id);
    expectProblem(await t.call('DELETE', `/v1/tenants/acme/api-keys/${key.id}`, { token: admin.token }), 404, 'NOT_FOUND');
    expect((await t.call('DELETE', `/v1/tenants/acme/api-keys/${key.id}`)).status).toBe(204);
    expectProblem(await t.call('GET', '/v1/tenants/globex/users', { token: key.token }), 401, 'UNAUTHORIZED');
  });

  it('refuses an unknown role or a missing name', async () => {
    const bad = await t.call('POST', '/v1/tenants/acme/api-keys', { body: { name: 'x', role: 'superuser' } });
    expect(expectProblem(bad, 400, 'INVALID_FIELD').errors[0].field).toBe('role');
    const missing = await t.call('POST', '/v1/tenants/acme/api-keys', { body: { role: 'reader' } });
    expect(expectProblem(missing, 400, 'MISSING_REQUIRED_FIELD').errors[0].field).toBe('name');
  });

  it('answers 404 for keys of a tenant that does not exist', async () => {
    expectProblem(await t.call('POST', '/v1/tenants/nowhere/api-keys', { body: { name: 'x', role: 'reader' } }), 404, 'NOT_FOUND');
  });
});

describe.each(DATABASES)('what each key role may do on %s', (kind) => {
  let t: TestApp;
  const keys = {} as Record<'tenant-admin' | 'user-manager' | 'reader', IssuedKey>;
  let otherUserId: string;

  beforeAll(async () => {
    t = await startTestApp(kind);
    await createTenant(t, { id: 'acme' });
    await createTenant(t, { id: 'globex' });
    for (const role of ['tenant-admin', 'user-manager', 'reader'] as const) keys[role] = await issueKey(t, 'acme', role);
    otherUserId = (await t.call('POST', '/v1/tenants/globex/users', { body: { email: 'other@globex.test' } })).body.id;
  });
  afterAll(async () => t.close());

  /** Runs the whole life of a user as `token` and returns each step's status. */
  async function userLife(token: string, email: string) {
    const created = await t.call('POST', '/v1/tenants/acme/users', { token, body: { email } });
    // A user to read, change and delete exists whether or not this role could create one.
    const user = created.status === 201 ? created.body : (await t.call('POST', '/v1/tenants/acme/users', { body: { email: `seed-${email}` } })).body;
    const read = await t.call('GET', `/v1/tenants/acme/users/${user.id}`, { token });
    const list = await t.call('GET', '/v1/tenants/acme/users', { token });
    const patch = await t.call('PATCH', `/v1/tenants/acme/users/${user.id}`, { token, headers: { 'if-match': `"${user.revision}"` }, body: { lockedOut: true } });
    const remove = await t.call('DELETE', `/v1/tenants/acme/users/${user.id}`, { token });
    return { create: created.status, read: read.status, list: list.status, patch: patch.status, delete: remove.status };
  }

  /** The statuses of the tenant-level actions other than users. */
  async function tenantActions(token: string, n: string) {
    return {
      readTenant: (await t.call('GET', '/v1/tenants/acme', { token })).status,
      changeTenant: (await t.call('PATCH', '/v1/tenants/acme', { token, body: { name: `Acme ${n}` } })).status,
      putRole: (await t.call('PUT', `/v1/tenants/acme/roles/role-${n}`, { token, body: {} })).status,
      listRoles: (await t.call('GET', '/v1/tenants/acme/roles', { token })).status,
      putDepartment: (await t.call('PUT', `/v1/tenants/acme/departments/dep-${n}`, { token, body: {} })).status,
      listLocations: (await t.call('GET', '/v1/tenants/acme/locations', { token })).status,
      issueKey: (await t.call('POST', '/v1/tenants/acme/api-keys', { token, body: { name: n, role: 'reader' } })).status,
      listKeys: (await t.call('GET', '/v1/tenants/acme/api-keys', { token })).status,
      createTenant: (await t.call('POST', '/v1/tenants', { token, body: { id: `t-${n}` } })).status,
    };
  }

  it('lets a tenant admin manage its users, roles, catalogs and keys, but not create tenants', async () => {
    const token = keys['tenant-admin'].token;
    expect(await userLife(token, 'ta@acme.test')).toEqual({ create: 201, read: 200, list: 200, patch: 200, delete: 204 });
    expect(await tenantActions(token, 'ta')).toEqual({
      readTenant: 200,
      changeTenant: 200,
      putRole: 201,
      listRoles: 200,
      putDepartment: 201,
      listLocations: 200,
      issueKey: 201,
      listKeys: 200,
      createTenant: 403,
    });
  });

  it('lets a user manager create, read and update users, and nothing else', async () => {
    const token = keys['user-manager'].token;
    expect(await userLife(token, 'um@acme.test')).toEqual({ create: 201, read: 200, list: 200, patch: 200, delete: 403 });
    expect(await tenantActions(token, 'um')).toEqual({
      readTenant: 403,
      changeTenant: 403,
      putRole: 403,
      listRoles: 403,
      putDepartment: 403,
      listLocations: 403,
      issueKey: 403,
      listKeys: 403,
      createTenant: 403,
    });
  });

  it('lets a reader read users, and nothing else', async () => {
    const token = keys.reader.token;
    expect(await userLife(token, 'rd@acme.test')).toEqual({ create: 403, read: 200, list: 200, patch: 403, delete: 403 });
    expect(Object.values(await tenantActions(token, 'rd')).every((status) => status === 403)).toBe(true);
  });

  it('writes nothing when a role is refused', async () => {
    await t.call('POST', '/v1/tenants/acme/users', { token: keys.reader.token, body: { email: 'never@acme.test' } });
    const found = await t.call('GET', '/v1/tenants/acme/users?email=never@acme.test');
    expect(found.body.users).toEqual([]);
  });

  it.each(['tenant-admin', 'user-manager', 'reader'] as const)("shows a %s key another tenant's resources as 404, never 403", async (role) => {
    const token = keys[role].token;
    const statuses = [
      (await t.call('GET', '/v1/tenants/globex', { token })).status,
      (await t.call('GET', '/v1/tenants/globex/users', { token })).status,
      (await t.call('GET', `/v1/tenants/globex/users/${otherUserId}`, { token })).status,
      (await t.call('POST', '/v1/tenants/globex/users', { token, body: { email: `${role}@globex.test` } })).status,
      (await t.call('POST', '/v1/tenants/globex/users/batch', { token, body: { users: [{ email: `${role}-b@globex.test` }] } })).status,
      (await t.call('PATCH', `/v1/tenants/globex/users/${otherUserId}`, { token, headers: { 'if-match': '"1"' }, body: { lockedOut: true } })).status,
      (await t.call('DELETE', `/v1/tenants/globex/users/${otherUserId}`, { token })).status,
      (await t.call('GET', '/v1/tenants/globex/roles', { token })).status,
      (await t.call('PUT', '/v1/tenants/globex/roles/x', { token, body: {} })).status,
      (await t.call('GET', '/v1/tenants/globex/departments', { token })).status,
      (await t.call('GET', '/v1/tenants/globex/api-keys', { token })).status,
      (await t.call('POST', '/v1/tenants/globex/api-keys', { token, body: { name: 'x', role: 'reader' } })).status,
    ];
    expect(statuses.every((s) => s === 404)).toBe(true);
    const still = await t.call('GET', `/v1/tenants/globex/users/${otherUserId}`);
    expect(still.body).toMatchObject({ lockedOut: false, revision: 1 });
  });

  it("does not find a user of another tenant through one's own tenant path", async () => {
    expectProblem(await t.call('GET', `/v1/tenants/acme/users/${otherUserId}`, { token: keys['tenant-admin'].token }), 404, 'NOT_FOUND');
    expectProblem(await t.call('GET', `/v1/tenants/acme/users/${otherUserId}`), 404, 'NOT_FOUND');
  });
});
