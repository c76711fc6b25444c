import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './helpers/databases.js';
import { startTestApp, type CallResult, type TestApp } from './helpers/test-app.js';
import { issueKey as issueTenantKey, recordingCall, usersWithEmail } from './helpers/native-fixtures.js';
import type { KeyRole } from '../src/core/credentials/actor.js';

const PASSWORD = 'Tr0ub4dor&3-staple';
const OTHER_PASSWORD = 'violet-Quartz-88-lantern';
const URL = '/compat/batch/users';

describe.each(DATABASES)('batch dialect (seed 000) on %s', (kind) => {
  let t: TestApp;
  let manager: string;
  let reader: string;
  let globexManager: string;
  let tinyManager: string;
  const seen: CallResult[] = [];

  const call = recordingCall(() => t, seen);
  function expectNoSecrets(responses: CallResult[]): void {
    for (const res of responses) {
      expect(res.text).not.toContain(PASSWORD);
      expect(res.text).not.toContain(OTHER_PASSWORD);
      expect(res.text).not.toContain('$argon2');
      expect(res.text).not.toMatch(/"(password|confirmPassword|passwordHash)"\s*:/);
    }
  }
  // Every answer a test received shows no password: checked after each test, on its own answers.
  afterEach(() => expectNoSecrets(seen.splice(0)));
  const issueKey = async (tenant: string, role: KeyRole) => (await issueTenantKey(t, tenant, role)).token;
  const usersOf = (tenant: string, email: string) => usersWithEmail(t, tenant, email);
  async function seatsUsed(tenant: string): Promise<number> {
    return (await t.call('GET', `/v1/tenants/${tenant}`)).body.seatsUsed;
  }

  beforeAll(async () => {
    t = await startTestApp(kind);
    for (const id of ['acme', 'globex']) expect((await t.call('POST', '/v1/tenants', { body: { id } })).status).toBe(201);
    expect((await t.call('POST', '/v1/tenants', { body: { id: 'tiny', seatLimit: 1 } })).status).toBe(201);
    await t.call('PUT', '/v1/tenants/acme/roles/editor', { body: { description: 'Edits things' } });
    await t.call('PUT', '/v1/tenants/acme/roles/viewer', { body: {} });
    await t.call('PUT', '/v1/tenants/acme/roles/root', { body: { admin: true } });
    await t.call('PUT', '/v1/tenants/acme/departments/D1', { body: {} });
    await t.call('PUT', '/v1/tenants/acme/locations/L1', { body: {} });
    await t.call('PUT', '/v1/tenants/acme/program-admin-roles/PA1', { body: {} });
    manager = await issueKey('acme', 'user-manager');
    reader = await issueKey('acme', 'reader');
    globexManager = await issueKey('globex', 'user-manager');
    tinyManager = await issueKey('tiny', 'user-manager');
  });
  afterAll(async () => t.close());

  it('creates every record of the seed request, with all documented fields, and answers 200 with the report', async () => {
    const res = await call('POST', URL, {
      token: manager,
      body: [
        {
          userName: 'jdoe',
          password: PASSWORD,
          name: { firstName: 'John', lastName: 'Doe' },
          email: 'john.doe@example.com',
          phoneNumber: '+1 555 0100',
          roles: [{ name: 'editor' }, { id: 'viewer' }],
          userAccess: { departmentId: 'D1', locationId: 'L1', programAdminRoleId: 'PA1' },
          lockedOut: true,
        },
        { userName: 'asmith', password: OTHER_PASSWORD, name: { givenName: 'Anna', familyName: 'Smith' }, email: 'anna.smith@example.com' },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.body).toMatchObject({ totalProcessed: 2, successCount: 2, failureCount: 0, failedResults: [] });
    expect(res.body.successResults).toHaveLength(2);
    const [john, anna] = res.body.successResults;
    expect(john).toMatchObject({
      index: 0,
      userName: 'jdoe',
      email: 'john.doe@example.com',
      name: { firstName: 'John', lastName: 'Doe' },
      phoneNumber: '+1 555 0100',
      roles: [
        { name: 'editor', id: 'editor' },
        { name: 'viewer', id: 'viewer' },
      ],
      userAccess: { departmentId: 'D1', locationId: 'L1', programAdminRoleId: 'PA1' },
      lockedOut: true,
    });
    expect(john.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(anna).toMatchObject({ index: 1, name: { givenName: 'Anna', familyName: 'Smith' }, lockedOut: false });
    expect(anna.name.firstName).toBeUndefined();

    const [stored] = await usersOf('acme', 'john.doe@example.com');
    expect(stored).toMatchObject({
      id: john.id,
      userName: 'jdoe',
      name: { givenName: 'John', familyName: 'Doe', formatted: 'John Doe' },
      roles: ['editor', 'viewer'],
      access: { departmentId: 'D1', locationId: 'L1', programAdminRoleId: 'PA1' },
      lockedOut: true,
      hasPassword: true,
      phoneNumber: '+1 555 0100',
    });
  });

  it('takes a single object as a batch of one', async () => {
    const res = await call('POST', URL, { token: manager, body: { userName: 'single', email: 'single@example.com', password: PASSWORD } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ totalProcessed: 1, successCount: 1, failureCount: 0 });
    expect(res.body.successResults[0]).toMatchObject({ index: 0, userName: 'single', roles: [], userAccess: {} });
  });

  it('answers 200 with an empty report for an empty array', async () => {
    const res = await call('POST', URL, { token: manager, body: [] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ totalProcessed: 0, successCount: 0, failureCount: 0, successResults: [], failedResults: [] });
  });

  it('answers 400 with the same report when some records fail, and still creates the others', async () => {
    const existing = await call('POST', URL, { token: manager, body: { userName: 'mixed-existing', email: 'mixed.existing@example.com' } });
    expect(existing.status).toBe(200);
    const before = await seatsUsed('acme');
    const res = await call('POST', URL, {
      token: manager,
      body: [
        { userName: 'good1', email: 'good1@example.com', password: PASSWORD },
        { userName: 'other', email: 'MIXED.EXISTING@example.com', password: PASSWORD },
        { userName: 'mixed-existing', email: 'new.mixed@example.com', password: PASSWORD },
        { userName: 'bademail', email: 'not-an-email', password: PASSWORD },
        { userName: 'norole', email: 'norole@example.com', roles: [{ name: 'ghost' }] },
        { userName: 'nodept', email: 'nodept@example.com', userAccess: { departmentId: 'NOPE' } },
        { userName: 'good2', email: 'good2@example.com', name: { firstName: 'Good', lastName: 'Two' } },
        { userName: 'good1', email: 'good1-again@example.com' },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ totalProcessed: 8, successCount: 2, failureCount: 6 });
    expect(res.body.code).toBeUndefined();
    expect(res.body.successResults.map((r: any) => [r.index, r.userName])).toEqual([
      [0, 'good1'],
      [6, 'good2'],
    ]);
    const failures = Object.fromEntries(res.body.failedResults.map((f: any) => [f.index, f]));
    expect(Object.keys(failures).map(Number)).toEqual([1, 2, 3, 4, 5, 7]);
    expect(failures[1]).toMatchObject({ userName: 'other', email: 'MIXED.EXISTING@example.com', code: 'DUPLICATE_EMAIL', errors: [{ field: 'email', code: 'DUPLICATE_EMAIL' }] });
    expect(failures[2]).toMatchObject({ code: 'DUPLICATE_USERNAME', errors: [{ field: 'userName' }] });
    expect(failures[3]).toMatchObject({ code: 'INVALID_FIELD', errors: [{ field: 'email' }] });
    expect(failures[4]).toMatchObject({ code: 'UNKNOWN_REFERENCE', errors: [{ field: 'roles.0.name' }] });
    expect(failures[5]).toMatchObject({ code: 'UNKNOWN_REFERENCE', errors: [{ field: 'userAccess.departmentId' }] });
    expect(failures[7]).toMatchObject({ code: 'DUPLICATE_USERNAME', errors: [{ field: 'userName', code: 'DUPLICATE_USERNAME' }] });
    for (const f of res.body.failedResults) expect(typeof f.message).toBe('string');

    expect(await seatsUsed('acme')).toBe(before + 2);
    expect(await usersOf('acme', 'good1@example.com')).toHaveLength(1);
    expect(await usersOf('acme', 'good2@example.com')).toHaveLength(1);
    expect(await usersOf('acme', 'norole@example.com')).toHaveLength(0);
    expect(await usersOf('acme', 'new.mixed@example.com')).toHaveLength(0);
  });

  it('reports a username or email collision as a 400 failure, not a 409', async () => {
    expect((await call('POST', URL, { token: manager, body: { userName: 'collider', email: 'collider@example.com' } })).status).toBe(200);
    const res = await call('POST', URL, { token: manager, body: { userName: 'COLLIDER', email: 'collider2@example.com', password: PASSWORD } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ totalProcessed: 1, successCount: 0, failureCount: 1 });
    expect(res.body.failedResults[0]).toMatchObject({ index: 0, code: 'DUPLICATE_USERNAME' });
    const byEmail = await call('POST', URL, { token: manager, body: { userName: 'collider3', email: 'Collider@Example.com', password: PASSWORD } });
    expect(byEmail.status).toBe(400);
    expect(byEmail.body).toMatchObject({ totalProcessed: 1, successCount: 0, failureCount: 1 });
    expect(byEmail.body.failedResults[0]).toMatchObject({ index: 0, code: 'DUPLICATE_EMAIL' });
  });

  it('refuses more than 1000 records whole and writes nothing', async () => {
    const before = await seatsUsed('acme');
    const records = Array.from({ length: 1001 }, (_, i) => ({ userName: `bulk${i}`, email: `bulk${i}@example.com` }));
    const res = await call('POST', URL, { token: manager, body: records });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      totalProcessed: 0,
      successCount: 0,
      failureCount: 0,
      successResults: [],
      failedResults: [],
      code: 'BATCH_TOO_LARGE',
    });
    expect(res.body.message).toContain('1000');
    expect(typeof res.body.description).toBe('string');
    expect(await seatsUsed('acme')).toBe(before);
    expect(await usersOf('acme', 'bulk0@example.com')).toHaveLength(0);
  });

  it('checks each record field by field and names the fields as the record did', async () => {
    const res = await call('POST', URL, {
      token: manager,
      body: [
        { email: 'names@example.com', name: { firstName: 'A', givenName: 'B' } },
        { email: 'extra@example.com', department: 'D1' },
        { email: 'role-none@example.com', roles: [{}] },
        { email: 'role-both@example.com', roles: [{ name: 'editor', id: 'viewer' }] },
        { email: 'weak@example.com', password: 'password' },
        'not an object',
        { email: 'typed@example.com', lockedOut: 'yes' },
        { email: 'ctl@example.com', name: { firstName: 'Bad\u0007Name' } },
        { email: 'phone@example.com', phoneNumber: 'call me' },
        { email: 'loc@example.com', userAccess: { locationId: 'NOWHERE', programAdminRoleId: 'PA1' } },
        { email: 'admin@example.com', roles: [{ id: 'root' }] },
        { userName: 'noemail' },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.successCount).toBe(0);
    const f = res.body.failedResults;
    expect(f).toHaveLength(12);
    expect(f[0]).toMatchObject({ index: 0, code: 'INVALID_FIELD', errors: [{ field: 'name.firstName' }] });
    expect(f[1]).toMatchObject({ index: 1, code: 'INVALID_FIELD', errors: [{ field: 'department' }] });
    expect(f[2]).toMatchObject({ index: 2, code: 'MISSING_REQUIRED_FIELD', errors: [{ field: 'roles.0.name' }] });
    expect(f[3]).toMatchObject({ index: 3, code: 'INVALID_FIELD', errors: [{ field: 'roles.0.name' }] });
    expect(f[4]).toMatchObject({ index: 4, code: 'PASSWORD_TOO_WEAK', errors: [{ field: 'password' }] });
    expect(f[5]).toMatchObject({ index: 5, code: 'INVALID_FIELD', errors: [{ field: '' }] });
    expect(f[5].email).toBeUndefined();
    expect(f[6]).toMatchObject({ index: 6, code: 'INVALID_FIELD', errors: [{ field: 'lockedOut' }] });
    expect(f[7]).toMatchObject({ index: 7, code: 'INVALID_FIELD', errors: [{ field: 'name.firstName' }] });
    expect(f[8]).toMatchObject({ index: 8, code: 'INVALID_FIELD', errors: [{ field: 'phoneNumber' }] });
    expect(f[9]).toMatchObject({ index: 9, code: 'UNKNOWN_REFERENCE', errors: [{ field: 'userAccess.locationId' }] });
    expect(f[10]).toMatchObject({ index: 10, code: 'ADMIN_ROLE_FORBIDDEN', errors: [{ field: 'roles.0.id' }] });
    expect(f[11]).toMatchObject({ index: 11, userName: 'noemail', code: 'MISSING_REQUIRED_FIELD', errors: [{ field: 'email' }] });
  });

  it('treats null in an optional field as absent', async () => {
    const res = await call('POST', URL, {
      token: manager,
      body: [{ userName: 'nulls', email: 'nulls@example.com', password: null, name: { firstName: 'Nul', lastName: null }, phoneNumber: null, roles: null, userAccess: null, lockedOut: null }],
    });
    expect(res.status).toBe(200);
    expect(res.body.successResults[0]).toMatchObject({ userName: 'nulls', name: { firstName: 'Nul' }, lockedOut: false, roles: [] });
  });

  it('fails the records past the seat limit and creates the rest', async () => {
    const res = await call('POST', URL, {
      token: tinyManager,
      body: [
        { email: 'seat1@example.com', password: PASSWORD },
        { email: 'seat2@example.com', password: PASSWORD },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ successCount: 1, failureCount: 1 });
    expect(res.body.failedResults[0]).toMatchObject({ index: 1, code: 'SEAT_LIMIT_EXCEEDED' });
    expect(await usersOf('tiny', 'seat1@example.com')).toHaveLength(1);
  });

  it('creates users in the tenant of the credential', async () => {
    const res = await call('POST', URL, { token: globexManager, body: [{ userName: 'gx', email: 'gx@example.com', password: PASSWORD }] });
    expect(res.status).toBe(200);
    expect(await usersOf('globex', 'gx@example.com')).toHaveLength(1);
    expect(await usersOf('acme', 'gx@example.com')).toHaveLength(0);
    // A role of another tenant does not exist here.
    const foreign = await call('POST', URL, { token: globexManager, body: [{ email: 'gx2@example.com', roles: [{ name: 'editor' }] }] });
    expect(foreign.status).toBe(400);
    expect(foreign.body.failedResults[0].code).toBe('UNKNOWN_REFERENCE');
  });

  it('creates users in the default tenant for a global credential', async () => {
    const res = await call('POST', URL, { body: [{ email: 'global@example.com', password: PASSWORD }] });
    expect(res.status).toBe(200);
    expect(await usersOf('default', 'global@example.com')).toHaveLength(1);
  });

  it('answers 401 with {code, message, description} and WWW-Authenticate without a valid credential', async () => {
    for (const token of [null, 'mst_key-nothing_wrong', 'garbage']) {
      const res = await call('POST', URL, { token, body: [{ email: 'anon@example.com' }] });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
      expect(res.body).toMatchObject({ code: 'UNAUTHORIZED', message: 'Authentication Error. Invalid credentials.' });
      expect(typeof res.body.description).toBe('string');
      expect(res.body.totalProcessed).toBeUndefined();
    }
    expect(await usersOf('default', 'anon@example.com')).toHaveLength(0);
  });

  it('answers 403 to a credential whose role may not create users, and creates nothing', async () => {
    const res = await call('POST', URL, { token: reader, body: [{ email: 'by-reader@example.com', password: PASSWORD }] });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'FORBIDDEN', message: 'Authorization Error. Invalid role for request.' });
    expect(res.body.description).toContain('reader');
    expect(await usersOf('acme', 'by-reader@example.com')).toHaveLength(0);
    // The role is checked before the body: a reader learns nothing from a bad body either.
    const bad = await call('POST', URL, { token: reader, raw: '{oops', headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(403);
  });

  it('answers 400 with the error fields and an empty report for a body that is not records', async () => {
    const malformed = await call('POST', URL, { token: manager, raw: '[{"email": ', headers: { 'content-type': 'application/json' } });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ code: 'MALFORMED_JSON', totalProcessed: 0, failureCount: 0, successResults: [], failedResults: [] });
    for (const body of ['"just a string"', '42', 'null']) {
      const res = await call('POST', URL, { token: manager, raw: body, headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'INVALID_FIELD', totalProcessed: 0 });
    }
    const wrongType = await call('POST', URL, { token: manager, raw: 'email=a@b.c', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(wrongType.status).toBe(415);
    expect(wrongType.body).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('is documented in the OpenAPI document under the batch tag', async () => {
    const res = await call('GET', '/openapi.json', { token: null });
    const operation = res.body.paths['/compat/batch/users'].post;
    expect(operation.tags).toEqual(['batch']);
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403']));
  });

  it('never returns a password or a password hash, whatever the outcome', async () => {
    // Answers of every kind to records that carry passwords: created, failed, collided, refused.
    expect((await call('POST', URL, { token: manager, body: { userName: 'secret-holder', email: 'secret.holder@example.com', password: PASSWORD } })).status).toBe(200);
    const answers = [
      await call('POST', URL, { token: manager, body: [{ email: 'secret1@example.com', password: PASSWORD }, { email: 'secret2@example.com', password: OTHER_PASSWORD }] }),
      await call('POST', URL, { token: manager, body: { email: 'secret3@example.com', password: OTHER_PASSWORD } }),
      await call('POST', URL, {
        token: manager,
        body: [
          { userName: 'secret-holder', email: 'secret4@example.com', password: PASSWORD },
          { email: 'secret.holder@example.com', password: OTHER_PASSWORD },
          { email: 'not-an-email', password: PASSWORD },
          { email: 'secret5@example.com', password: PASSWORD, roles: [{ name: 'ghost' }] },
          { email: 'secret6@example.com', password: OTHER_PASSWORD, lockedOut: 'yes' },
        ],
      }),
      await call('POST', URL, { token: reader, body: [{ email: 'secret7@example.com', password: PASSWORD }] }),
      await call('POST', URL, { token: null, body: [{ email: 'secret8@example.com', password: PASSWORD }] }),
      await call('POST', URL, { token: tinyManager, body: [{ email: 'secret9@example.com', password: PASSWORD }, { email: 'secret10@example.com', password: OTHER_PASSWORD }] }),
    ];
    expect(answers.map((res) => res.status)).toEqual([200, 200, 400, 403, 401, 400]);
    expect(answers[2]!.body.failureCount).toBe(5);
    expectNoSecrets(answers);
    // The stored users do have their passwords.
    expect((await usersOf('acme', 'secret1@example.com'))[0]).toMatchObject({ hasPassword: true });
  });
});

describe.each(DATABASES)('POST /users routing between batch and simple on %s', (kind) => {
  it('answers /users with the batch dialect when MUSTER_ROOT_USERS=batch, and keeps both /compat paths', async () => {
    const t = await startTestApp(kind, { rootUsers: 'batch' });
    try {
      const root = await t.call('POST', '/users', { body: [{ email: 'root@example.com', password: PASSWORD }] });
      expect(root.status).toBe(200);
      expect(root.body).toMatchObject({ totalProcessed: 1, successCount: 1 });
      const simple = await t.call('POST', '/compat/simple/users', { body: { firstName: 'Si', lastName: 'Mple', contactEmail: 'simple@example.com' } });
      expect(simple.status).toBe(201);
      expect(simple.body.userId).toBeGreaterThan(0);
      const batch = await t.call('POST', '/compat/batch/users', { body: { email: 'compat@example.com' } });
      expect(batch.status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('answers /users with the simple dialect by default and with nothing when MUSTER_ROOT_USERS=none', async () => {
    const byDefault = await startTestApp(kind);
    try {
      const res = await byDefault.call('POST', '/users', { body: { firstName: 'Si', lastName: 'Mple', contactEmail: 'simple@example.com' } });
      expect(res.status).toBe(201);
      expect(res.body.userId).toBeGreaterThan(0);
    } finally {
      await byDefault.close();
    }
    const none = await startTestApp(kind, { rootUsers: 'none', rateLimitPerMinute: 3 });
    try {
      const res = await none.call('POST', '/users', { body: [{ email: 'x@example.com' }] });
      expect(res.status).toBe(404);
      const ok = await none.call('POST', '/compat/batch/users', { body: [] });
      expect(ok.status).toBe(200);
      let limited: CallResult | undefined;
      for (let i = 0; i < 4 && !limited; i++) {
        const r = await none.call('POST', '/compat/batch/users', { body: [] });
        if (r.status === 429) limited = r;
      }
      expect(limited?.status).toBe(429);
      expect(limited?.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(limited?.body).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
      expect(typeof limited?.body.description).toBe('string');
    } finally {
      await none.close();
    }
  });
});
