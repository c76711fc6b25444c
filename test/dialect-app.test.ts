import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './helpers/databases.js';
import { startTestApp, type CallResult, type TestApp } from './helpers/test-app.js';
import { issueKey as issueTenantKey, recordingCall, usersWithEmail } from './helpers/native-fixtures.js';
import type { KeyRole } from '../src/core/credentials/actor.js';

const PASSWORD = 'Tr0ub4dor&3-staple';
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe.each(DATABASES)('app dialect (seed 003) on %s', (kind) => {
  let t: TestApp;
  let acmeKey: string;
  let globexKey: string;
  let tinyKey: string;
  let manager: string;
  let reader: string;
  let globexManager: string;
  const seen: CallResult[] = [];

  const call = recordingCall(() => t, seen);
  function expectNoSecrets(responses: CallResult[]): void {
    for (const res of responses) {
      expect(res.text).not.toContain(PASSWORD);
      expect(res.text).not.toContain('$argon2');
      expect(res.text).not.toMatch(/"(password|confirmPassword|passwordHash)"\s*:/);
    }
  }
  // Every answer a test received shows no password: checked after each test, on its own answers.
  afterEach(() => expectNoSecrets(seen.splice(0)));
  const issueKey = async (tenant: string, role: KeyRole) => (await issueTenantKey(t, tenant, role)).token;
  const usersOf = (tenant: string, email: string) => usersWithEmail(t, tenant, email);
  const newUser = (n: string, extra: Record<string, unknown> = {}) => ({
    userName: n,
    email: `${n}@example.com`,
    password: PASSWORD,
    confirmPassword: PASSWORD,
    ...extra,
  });

  beforeAll(async () => {
    t = await startTestApp(kind);
    const keys: Record<string, string> = {};
    for (const [id, seatLimit] of [['acme', null], ['globex', null], ['tiny', 0]] as const) {
      const res = await t.call('POST', '/v1/tenants', { body: { id, seatLimit } });
      expect(res.status).toBe(201);
      keys[id] = res.body.appKey;
    }
    [acmeKey, globexKey, tinyKey] = [keys.acme!, keys.globex!, keys.tiny!];
    await t.call('PUT', '/v1/tenants/acme/roles/editor', { body: { description: 'Edits articles' } });
    await t.call('PUT', '/v1/tenants/acme/roles/viewer', { body: {} });
    await t.call('PUT', '/v1/tenants/acme/roles/root', { body: { admin: true } });
    manager = await issueKey('acme', 'user-manager');
    reader = await issueKey('acme', 'reader');
    globexManager = await issueKey('globex', 'user-manager');
  });
  afterAll(async () => t.close());

  it('names each tenant by a generated appKey that looks like app_…', () => {
    expect(acmeKey).toMatch(/^app_[A-Za-z0-9_-]+$/);
    expect(globexKey).not.toBe(acmeKey);
  });

  it('creates the seed example user and answers 201 with the seed fields, HAL links and ISO 8601 dates', async () => {
    const res = await call('POST', `/${acmeKey}/users`, {
      token: manager,
      body: {
        userName: 'ada',
        email: 'ada@example.com',
        password: PASSWORD,
        confirmPassword: PASSWORD,
        name: 'Ada Lovelace',
        isApproved: false,
        isLockedOut: true,
        roles: [{ name: 'editor' }],
        sendEmailNotification: false,
        allowDashboardAccess: true,
        dashboardSettings: { theme: 'dark' },
        autoCreatePassword: false,
      },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toContain('application/json');
    const user = res.body;
    expect(user).toMatchObject({
      userName: 'ada',
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      isApproved: false,
      isLockedOut: true,
      roles: [{ id: 'editor', name: 'editor' }],
    });
    expect(user.id).toMatch(UUID);
    for (const field of ['creationDate', 'dateCreated', 'dateUpdated']) expect(user[field]).toMatch(ISO_8601);
    expect(user._links).toEqual({ self: { href: `/v1/tenants/acme/users/${user.id}`, templated: false } });
    expect(res.headers.get('location')).toBe(`/v1/tenants/acme/users/${user.id}`);
    expect(user._embedded).toBeUndefined();
    expect(user.allowDashboardAccess).toBeUndefined();
    expect(user.dashboardSettings).toBeUndefined();

    const stored = await t.call('GET', user._links.self.href);
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({
      id: user.id,
      userName: 'ada',
      name: { formatted: 'Ada Lovelace' },
      approved: false,
      lockedOut: true,
      roles: ['editor'],
      hasPassword: true,
    });
  });

  it('embeds the role objects with embed=roles, in the query or in the body', async () => {
    const byQuery = await call('POST', `/${acmeKey}/users?embed=roles`, { token: manager, body: newUser('emb1', { roles: [{ name: 'editor' }, { name: 'viewer' }] }) });
    expect(byQuery.status).toBe(201);
    const roles = byQuery.body._embedded.roles;
    expect(roles.map((r: any) => r.name)).toEqual(['editor', 'viewer']);
    expect(roles[0]).toMatchObject({ id: 'editor', name: 'editor', description: 'Edits articles' });
    expect(roles[0].dateCreated).toMatch(ISO_8601);
    expect(roles[0].dateUpdated).toMatch(ISO_8601);
    expect(roles[0]._links.self).toEqual({ href: '/v1/tenants/acme/roles/editor', templated: false });
    expect(roles[1].description).toBeUndefined();

    const byBody = await call('POST', `/${acmeKey}/users`, { token: manager, body: newUser('emb2', { roles: [{ name: 'viewer' }], embed: ['roles'] }) });
    expect(byBody.status).toBe(201);
    expect(byBody.body._embedded.roles.map((r: any) => r.name)).toEqual(['viewer']);

    const listed = await call('POST', `/${acmeKey}/users?embed=permissions,roles`, { token: manager, body: newUser('emb3') });
    expect(listed.status).toBe(201);
    expect(listed.body._embedded).toEqual({ roles: [] });
  });

  it('generates a password with autoCreatePassword, ignoring password and confirmPassword', async () => {
    const res = await call('POST', `/${acmeKey}/users`, {
      token: manager,
      body: { userName: 'auto', email: 'auto@example.com', autoCreatePassword: true, password: '', confirmPassword: '' },
    });
    expect(res.status).toBe(201);
    const [stored] = await usersOf('acme', 'auto@example.com');
    expect(stored.hasPassword).toBe(true);
  });

  it('sends the welcome email unless sendEmailNotification is false', async () => {
    const messagesFor = async (userId: string) => (await t.call('GET', `/v1/tenants/acme/messages?userId=${userId}`)).body.messages as unknown[];
    const quiet = await call('POST', `/${acmeKey}/users`, { token: manager, body: newUser('quiet', { sendEmailNotification: false }) });
    expect(quiet.status).toBe(201);
    expect(await messagesFor(quiet.body.id)).toHaveLength(0);
    const told = await call('POST', `/${acmeKey}/users`, { token: manager, body: newUser('told') });
    expect(told.status).toBe(201);
    expect((await messagesFor(told.body.id)).length).toBeGreaterThan(0);
  });

  it('requires userName, email, password and confirmPassword', async () => {
    const res = await call('POST', `/${acmeKey}/users`, { token: manager, body: {} });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, errorCode: 4001, error: 'MISSING_REQUIRED_FIELD' });
    expect(res.body.errors.map((e: any) => e.field).sort()).toEqual(['confirmPassword', 'email', 'password', 'userName']);
    expect(typeof res.body.message).toBe('string');
    expect(typeof res.body.details).toBe('string');

    const noConfirm = await call('POST', `/${acmeKey}/users`, { token: manager, body: { userName: 'nc', email: 'nc@example.com', password: PASSWORD } });
    expect(noConfirm.status).toBe(400);
    expect(noConfirm.body.errors).toEqual([expect.objectContaining({ field: 'confirmPassword', code: 'MISSING_REQUIRED_FIELD' })]);
    expect(await usersOf('acme', 'nc@example.com')).toHaveLength(0);
  });

  it('refuses a confirmPassword that differs and a password the policy refuses', async () => {
    const mismatch = await call('POST', `/${acmeKey}/users`, { token: manager, body: newUser('mm', { confirmPassword: `${PASSWORD}!` }) });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body).toMatchObject({ error: 'PASSWORD_MISMATCH', errorCode: 4005, errors: [{ field: 'confirmPassword' }] });
    const weak = await call('POST', `/${acmeKey}/users`, { token: manager, body: newUser('weak', { password: 'password', confirmPassword: 'password' }) });
    expect(weak.status).toBe(400);
    expect(weak.body).toMatchObject({ error: 'PASSWORD_TOO_WEAK', errors: [{ field: 'password' }] });
  });

  it('answers 409 to a duplicate user name or email', async () => {
    expect((await call('POST', `/${acmeKey}/users`, { token: manager, body: newUser('dupe') })).status).toBe(201);
    const email = await call('POST', `/${acmeKey}/users`, { token: manager, body: newUser('dupe2', { email: 'DUPE@example.com' }) });
    expect(email.status).toBe(409);
    expect(email.body).toMatchObject({ statusCode: 409, errorCode: 4090, error: 'DUPLICATE_EMAIL', errors: [{ field: 'email' }] });
    const userName = await call('POST', `/${acmeKey}/users`, { token: manager, body: newUser('DUPE', { email: 'other-dupe@example.com' }) });
    expect(userName.status).toBe(409);
    expect(userName.body).toMatchObject({ error: 'DUPLICATE_USERNAME', errorCode: 4091 });
  });

  it('validates every other field and names it as the seed does', async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ email: 'not-an-email' }, 'email', 'INVALID_FIELD'],
      [{ roles: [{ name: 'ghost' }] }, 'roles.0.name', 'UNKNOWN_REFERENCE'],
      [{ roles: [{ description: 'no name' }] }, 'roles.0.name', 'MISSING_REQUIRED_FIELD'],
      [{ roles: 'editor' }, 'roles', 'INVALID_FIELD'],
      [{ isApproved: 'yes' }, 'isApproved', 'INVALID_FIELD'],
      [{ isLockedOut: 1 }, 'isLockedOut', 'INVALID_FIELD'],
      [{ allowDashboardAccess: 'true' }, 'allowDashboardAccess', 'INVALID_FIELD'],
      [{ dashboardSettings: 'dark' }, 'dashboardSettings', 'INVALID_FIELD'],
      [{ sendEmailNotification: 'no' }, 'sendEmailNotification', 'INVALID_FIELD'],
      [{ autoCreatePassword: 'no' }, 'autoCreatePassword', 'INVALID_FIELD'],
      [{ name: 'x'.repeat(202) }, 'name', 'INVALID_FIELD'],
      [{ name: ' padded ' }, 'name', 'INVALID_FIELD'],
      [{ creationDate: 5 }, 'creationDate', 'INVALID_FIELD'],
      [{ userName: 'ok', username: 'different' }, 'userName', 'INVALID_FIELD'],
    ];
    for (const [extra, field, code] of cases) {
      const res = await call('POST', `/${acmeKey}/users`, { token: manager, body: newUser('fieldcheck', extra) });
      expect(res.status, JSON.stringify(extra)).toBe(400);
      expect(res.body.error, JSON.stringify(extra)).toBe(code);
      expect(res.body.errors.map((e: any) => e.field), JSON.stringify(extra)).toContain(field);
    }
    expect(await usersOf('acme', 'fieldcheck@example.com')).toHaveLength(0);
  });

  it('matches property names without regard to case, ignores unknown ones and treats null as absent', async () => {
    const res = await call('POST', `/${acmeKey}/users`, {
      token: manager,
      body: {
        username: 'grace',
        Email: 'grace@example.com',
        PASSWORD: PASSWORD,
        confirmpassword: PASSWORD,
        name: null,
        roles: [{ NAME: 'viewer', id: 'a-vendor-uid', dateCreated: '2020-01-01T00:00:00Z' }],
        isApproved: null,
        mailUrl: 'https://example.com/activate',
        id: '0f0e0d0c-0b0a-0908-0706-050403020100',
        dateCreated: '2001-01-01T00:00:00Z',
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ userName: 'grace', email: 'grace@example.com', isApproved: true, roles: [{ name: 'viewer' }] });
    expect(res.body.name).toBeUndefined();
    expect(res.body.id).not.toBe('0f0e0d0c-0b0a-0908-0706-050403020100');
    expect(res.body.dateCreated).not.toBe('2001-01-01T00:00:00Z');
  });

  it('treats an empty name as no name', async () => {
    const res = await call('POST', `/${acmeKey}/users`, { token: manager, body: newUser('noname', { name: '' }) });
    expect(res.status).toBe(201);
    expect(res.body.name).toBeUndefined();
  });

  it('answers 401 with the vendor error body and WWW-Authenticate without a valid credential', async () => {
    for (const token of [null, 'mst_key-nothing_wrong']) {
      const res = await call('POST', `/${acmeKey}/users`, { token, body: newUser('anon') });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
      expect(res.body).toMatchObject({ statusCode: 401, errorCode: 4010, error: 'UNAUTHORIZED' });
      expect(typeof res.body.message).toBe('string');
    }
    // Without a credential an unknown appKey is a 401 too: nothing is revealed about keys.
    const unknown = await call('POST', '/app_doesnotexist/users', { token: null, body: newUser('anon') });
    expect(unknown.status).toBe(401);
    expect(await usersOf('acme', 'anon@example.com')).toHaveLength(0);
  });

  it('answers 404 to an unknown appKey and to another tenant’s appKey alike', async () => {
    const unknown = await call('POST', '/app_doesnotexist/users', { token: manager, body: newUser('lost') });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ statusCode: 404, errorCode: 4040, error: 'NOT_FOUND' });
    const foreign = await call('POST', `/${globexKey}/users`, { token: manager, body: newUser('lost') });
    expect(foreign.status).toBe(404);
    expect(foreign.body.message).toBe(unknown.body.message);
    // Checked before the body: a malformed body changes nothing.
    const foreignBadBody = await call('POST', `/${globexKey}/users`, { token: manager, raw: '{', headers: { 'content-type': 'application/json' } });
    expect(foreignBadBody.status).toBe(404);
    expect(await usersOf('globex', 'lost@example.com')).toHaveLength(0);
    expect(await usersOf('acme', 'lost@example.com')).toHaveLength(0);
  });

  it('creates users in the tenant of the appKey, for its own key or a global one', async () => {
    const own = await call('POST', `/${globexKey}/users`, { token: globexManager, body: newUser('gx') });
    expect(own.status).toBe(201);
    expect(own.body._links.self.href).toBe(`/v1/tenants/globex/users/${own.body.id}`);
    const global = await call('POST', `/${globexKey}/users`, { body: newUser('gx-admin') });
    expect(global.status).toBe(201);
    expect(await usersOf('globex', 'gx-admin@example.com')).toHaveLength(1);
    expect(await usersOf('acme', 'gx@example.com')).toHaveLength(0);
  });

  it('answers 403 to a credential whose role may not create users, before reading the body', async () => {
    const res = await call('POST', `/${acmeKey}/users`, { token: reader, body: newUser('by-reader') });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ statusCode: 403, errorCode: 4030, error: 'FORBIDDEN' });
    const bad = await call('POST', `/${acmeKey}/users`, { token: reader, raw: '{', headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(403);
    expect(await usersOf('acme', 'by-reader@example.com')).toHaveLength(0);
  });

  it('answers 403 when a tenant credential grants an admin role, and 402 past the seat limit', async () => {
    const admin = await call('POST', `/${acmeKey}/users`, { token: manager, body: newUser('wannabe', { roles: [{ name: 'root' }] }) });
    expect(admin.status).toBe(403);
    expect(admin.body).toMatchObject({ error: 'ADMIN_ROLE_FORBIDDEN', errors: [{ field: 'roles.0.name' }] });
    const seats = await call('POST', `/${tinyKey}/users`, { body: newUser('seatless') });
    expect(seats.status).toBe(402);
    expect(seats.body).toMatchObject({ statusCode: 402, error: 'SEAT_LIMIT_EXCEEDED' });
  });

  it('answers 400 to a body that is not a JSON object', async () => {
    const malformed = await call('POST', `/${acmeKey}/users`, { token: manager, raw: '{"userName": ', headers: { 'content-type': 'application/json' } });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ statusCode: 400, errorCode: 4003, error: 'MALFORMED_JSON' });
    const array = await call('POST', `/${acmeKey}/users`, { token: manager, body: [newUser('arr')] });
    expect(array.status).toBe(400);
    expect(array.body.error).toBe('INVALID_FIELD');
    const form = await call('POST', `/${acmeKey}/users`, { token: manager, raw: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
    expect(form.body.error).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('does not shadow the other routes of one segment followed by /users', async () => {
    for (const path of ['/v1/users', '/api/users', '/provisioning/users', '/compat/users', '/docs/users', '/healthz/users', '/notakey/users', '/APP_x/users']) {
      const res = await call('POST', path, { token: null, body: newUser('shadow') });
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type'), path).toContain('application/problem+json');
    }
    const simple = await call('POST', '/users', { token: null, body: { firstName: 'A', lastName: 'B', contactEmail: 'ab@example.com' } });
    expect(simple.status).toBe(401);
    expect(simple.body).toMatchObject({ code: 'UNAUTHORIZED' });
    const batch = await call('POST', '/compat/batch/users', { token: null, body: [] });
    expect(batch.status).toBe(401);
    expect(batch.body).toMatchObject({ code: 'UNAUTHORIZED', message: 'Authentication Error. Invalid credentials.' });
    expect((await call('GET', '/healthz', { token: null })).status).toBe(200);
    expect((await call('GET', '/docs', { token: null })).status).toBeLessThan(400);
    const openapi = await call('GET', '/openapi.json', { token: null });
    expect(openapi.status).toBe(200);
    const operation = openapi.body.paths['/{appKey}/users'].post;
    expect(operation.tags).toEqual(['app']);
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '403', '404', '409']));
    const native = await call('GET', '/v1/tenants/acme', {});
    expect(native.status).toBe(200);
  });

  it('never returns a password or a password hash, whatever the outcome', async () => {
    // Answers of every kind to requests that carry a password: created, embedded, refused, collided, failed.
    const answers = [
      await call('POST', `/${acmeKey}/users`, { token: manager, body: newUser('keeper') }),
      await call('POST', `/${acmeKey}/users?embed=roles`, { token: manager, body: newUser('keeper-roles', { roles: [{ name: 'editor' }] }) }),
      await call('POST', `/${acmeKey}/users`, { token: manager, body: newUser('keeper') }),
      await call('POST', `/${acmeKey}/users`, { token: manager, body: newUser('keeper-mismatch', { confirmPassword: `${PASSWORD}?` }) }),
      await call('POST', `/${acmeKey}/users`, { token: manager, body: newUser('keeper-bad', { email: 'not-an-email' }) }),
      await call('POST', `/${acmeKey}/users`, { token: reader, body: newUser('keeper-reader') }),
      await call('POST', `/${acmeKey}/users`, { token: null, body: newUser('keeper-anon') }),
      await call('POST', `/${tinyKey}/users`, { body: newUser('keeper-seatless') }),
    ];
    expect(answers.map((res) => res.status)).toEqual([201, 201, 409, 400, 400, 403, 401, 402]);
    expectNoSecrets(answers);
    expect((await usersOf('acme', 'keeper@example.com'))[0]).toMatchObject({ hasPassword: true });
  });
});
