import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './helpers/databases.js';
import { basic, createTenant, issueKey } from './helpers/native-fixtures.js';
import { startTestApp, type CallOptions, type CallResult, type TestApp } from './helpers/test-app.js';

const PASSWORD = 'Tr0ub4dor&3-staple';
const url = (account: string, query = '?v=4.0') => `/api/account/${account}/configuration/le-users/users${query}`;

/** A whole entity as the vendor's appendix example writes it, strings for numbers and booleans included. */
function vendorEntity(n: string, overrides: Record<string, unknown> = {}) {
  return {
    loginName: `agent-${n}`,
    fullName: `Agent ${n}`,
    nickname: `agent${n}`,
    passwordSh: PASSWORD,
    isEnabled: 'true',
    maxChats: '4',
    email: `agent-${n}@example.com`,
    disabledManually: false,
    skillIds: [2359235912, 2359235922],
    profileIds: [101],
    lobIds: [6549273612],
    changePwdNextLogin: false,
    memberOf: { agentGroupId: '1', assignmentDate: '2015-06-22 19:20:03' },
    managerOf: [{ agentGroupId: '1', assignmentDate: '2015-06-22 19:20:03' }],
    permissionGroups: ['1'],
    description: 'user’s description',
    mobileNumber: '0542-123456',
    employeeId: 'EXT-123456789',
    maxAsyncChats: '10',
    backgndImgUri: '/pictures/image.jpg',
    pnCertName: 'lpMobileApp-123',
    pictureUrl: 'https://example.com/p.png',
    isApiUser: false,
    userTypeId: 1,
    allowedAppKeys: '',
    ...overrides,
  };
}

describe.each(DATABASES)('account dialect (seed 001) on %s', (kind) => {
  let t: TestApp;
  let manager: { id: string; token: string };
  let reader: string;
  let globexManager: string;
  let tinyManager: string;
  const seen: CallResult[] = [];

  async function call(method: string, path: string, options: CallOptions = {}): Promise<CallResult> {
    const res = await t.call(method, path, options);
    seen.push(res);
    return res;
  }
  function expectNoSecrets(responses: CallResult[]): void {
    for (const res of responses) {
      expect(res.text).not.toContain(PASSWORD);
      expect(res.text).not.toContain('pppppp');
      expect(res.text).not.toContain('something else');
      expect(res.text).not.toMatch(/argon2|passwordSh"\s*:|passwordHash/);
    }
  }
  // Every answer a test received shows no password: checked after each test, on its own answers.
  afterEach(() => expectNoSecrets(seen.splice(0)));
  async function post(account: string, body: unknown, options: CallOptions & { query?: string } = {}): Promise<CallResult> {
    const { query, ...rest } = options;
    return call('POST', url(account, query), { token: manager.token, body, ...rest });
  }
  async function revisionOf(account: string, token = manager.token): Promise<number> {
    const res = await post(account, [], { token });
    expect(res.status, res.text).toBe(201);
    return Number(res.headers.get('ac-revision'));
  }
  async function usersOf(tenant: string, email: string): Promise<any[]> {
    const res = await t.call('GET', `/v1/tenants/${tenant}/users?email=${encodeURIComponent(email)}`);
    expect(res.status).toBe(200);
    return res.body.users;
  }

  beforeAll(async () => {
    t = await startTestApp(kind);
    await createTenant(t, { id: 'acme', name: 'Acme' });
    await createTenant(t, { id: 'globex', name: 'Globex' });
    await createTenant(t, { id: 'tiny', name: 'Tiny', seatLimit: 1 });
    for (const [name, admin] of [['101', false], ['102', false], ['900', true]] as const) {
      expect((await t.call('PUT', `/v1/tenants/acme/roles/${name}`, { body: { admin } })).status).toBeLessThan(300);
    }
    manager = await issueKey(t, 'acme', 'user-manager');
    reader = (await issueKey(t, 'acme', 'reader')).token;
    globexManager = (await issueKey(t, 'globex', 'user-manager')).token;
    tinyManager = (await issueKey(t, 'tiny', 'user-manager')).token;
  });
  afterAll(async () => t.close());

  it('creates a list of vendor entities, maps what Muster stores and ignores the rest, and answers 201 with ac-revision', async () => {
    const before = await revisionOf('acme');
    const res = await post('acme', [vendorEntity('1'), vendorEntity('2', { profileIds: ['101', '102'], isEnabled: false, fullName: 'Second Agent' })]);
    expect(res.status, res.text).toBe(201);
    expect(Number(res.headers.get('ac-revision'))).toBeGreaterThan(before);
    expect(res.headers.get('etag')).toBe(`"${res.headers.get('ac-revision')}"`);
    expect(res.headers.get('location')).toBeNull();
    expect(res.body).toHaveLength(2);
    expect(res.body[0]).toEqual({
      id: expect.any(Number),
      deleted: false,
      loginName: 'agent-1',
      fullName: 'Agent 1',
      email: 'agent-1@example.com',
      isEnabled: true,
      mobileNumber: '0542-123456',
      profileIds: [101],
      dateUpdated: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/),
    });
    expect(res.body[1]).toMatchObject({ loginName: 'agent-2', fullName: 'Second Agent', isEnabled: false, profileIds: [101, 102] });
    expect(res.body[1].id).toBeGreaterThan(res.body[0].id);

    const [stored] = await usersOf('acme', 'agent-2@example.com');
    expect(stored).toMatchObject({
      userName: 'agent-2',
      name: { formatted: 'Second Agent' },
      phoneNumber: '0542-123456',
      roles: ['101', '102'],
      lockedOut: true,
      hasPassword: true,
      number: res.body[1].id,
    });
  });

  it('answers one entity with one entity and its Location', async () => {
    const res = await post('acme', { loginName: 'solo', email: 'solo@example.com', passwordSh: PASSWORD });
    expect(res.status, res.text).toBe(201);
    expect(Array.isArray(res.body)).toBe(false);
    expect(res.body).toMatchObject({ loginName: 'solo', email: 'solo@example.com', isEnabled: true, profileIds: [] });
    const [stored] = await usersOf('acme', 'solo@example.com');
    expect(res.headers.get('location')).toBe(`/v1/tenants/acme/users/${stored.id}`);
  });

  it('uses the email as login name when loginName is absent, and creates a user without passwordSh with no password', async () => {
    const res = await post('acme', [{ email: 'api-user@example.com', isApiUser: true }]);
    expect(res.status, res.text).toBe(201);
    expect(res.body[0].loginName).toBe('api-user@example.com');
    const [stored] = await usersOf('acme', 'api-user@example.com');
    expect(stored.hasPassword).toBe(false);
  });

  it('grows ac-revision with every change and reports it on errors too', async () => {
    const first = await revisionOf('acme');
    const created = await post('acme', [{ email: 'grow@example.com', passwordSh: PASSWORD }]);
    const second = Number(created.headers.get('ac-revision'));
    expect(second).toBeGreaterThan(first);
    const removed = await t.call('DELETE', `/v1/tenants/acme/users/${(await usersOf('acme', 'grow@example.com'))[0].id}`);
    expect(removed.status).toBe(204);
    const third = await revisionOf('acme');
    expect(third).toBeGreaterThan(second);
    const refused = await post('acme', [{ email: 'not an email' }]);
    expect(refused.status).toBe(400);
    expect(Number(refused.headers.get('ac-revision'))).toBe(third);
  });

  it('creates when If-Match names the current revision, in any of its spellings', async () => {
    for (const [i, spell] of [(r: number) => `${r}`, (r: number) => `"${r}"`, (r: number) => `W/"${r}"`, () => '*'].entries()) {
      const current = await revisionOf('acme');
      const res = await post('acme', [{ email: `match-${i}@example.com`, passwordSh: PASSWORD }], { headers: { 'if-match': spell(current) } });
      expect(res.status, res.text).toBe(201);
      expect(Number(res.headers.get('ac-revision'))).toBeGreaterThan(current);
    }
  });

  it('refuses a stale If-Match with 412, the current ac-revision and nothing written', async () => {
    const stale = await revisionOf('acme');
    await post('acme', [{ email: 'moves-on@example.com', passwordSh: PASSWORD }]);
    const current = await revisionOf('acme');
    for (const ifMatch of [`${stale}`, `"${current + 5}"`, 'not-a-revision']) {
      const res = await post('acme', [{ email: 'stale@example.com', passwordSh: PASSWORD }, { email: 'not valid' }], { headers: { 'if-match': ifMatch } });
      expect(res.status, res.text).toBe(412);
      expect(res.body).toMatchObject({ code: 'PRECONDITION_FAILED', time: expect.any(Number), message: expect.stringContaining('nothing was written') });
      expect(Number(res.headers.get('ac-revision'))).toBe(current);
    }
    expect(await usersOf('acme', 'stale@example.com')).toEqual([]);
    expect(await revisionOf('acme')).toBe(current);
  });

  it('lets only one of two concurrent requests holding the same revision write', async () => {
    const current = await revisionOf('acme');
    const results = await Promise.all(
      ['race-a', 'race-b', 'race-c'].map((name) => post('acme', [{ email: `${name}@example.com`, passwordSh: PASSWORD }], { headers: { 'if-match': String(current) } })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 412, 412]);
    const created = await Promise.all(['race-a', 'race-b', 'race-c'].map((name) => usersOf('acme', `${name}@example.com`)));
    expect(created.flat()).toHaveLength(1);
    expect(await revisionOf('acme')).toBe(current + 1);
  });

  it('requires v=4.0', async () => {
    const missing = await post('acme', [{ email: 'v-missing@example.com' }], { query: '' });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ code: 'MISSING_REQUIRED_FIELD', errors: [{ field: 'v' }] });
    for (const query of ['?v=3.0', '?v=2', '?v=', '?v=four']) {
      const wrong = await post('acme', [{ email: 'v-wrong@example.com' }], { query });
      expect(wrong.status, query).toBe(400);
      expect(wrong.body).toMatchObject({ code: 'INVALID_FIELD', errors: [{ field: 'v' }] });
      expect(wrong.headers.get('ac-revision')).not.toBeNull();
    }
    expect(await usersOf('acme', 'v-missing@example.com')).toEqual([]);
    expect(await usersOf('acme', 'v-wrong@example.com')).toEqual([]);
    const four = await post('acme', [{ email: 'v-four@example.com' }], { query: '?v=4' });
    expect(four.status).toBe(201);
  });

  it('creates none of the users when one is invalid, and names every refused user by its position', async () => {
    const before = await revisionOf('acme');
    const res = await post('acme', [
      { loginName: 'fine', email: 'fine@example.com', passwordSh: PASSWORD },
      { loginName: 'bad-mail', email: 'bad mail' },
      { email: 'weak@example.com', passwordSh: 'pppppp' },
      { email: 'flag@example.com', isEnabled: 'maybe', fullName: '' },
    ]);
    expect(res.status, res.text).toBe(400);
    expect(res.body.code).toBe('INVALID_FIELD');
    expect(res.body.message).toContain('user 1');
    const fields = res.body.errors.map((e: any) => `${e.field}:${e.code}`);
    expect(fields).toEqual(expect.arrayContaining(['1.email:INVALID_FIELD', '2.passwordSh:PASSWORD_TOO_WEAK', '3.isEnabled:INVALID_FIELD', '3.fullName:INVALID_FIELD']));
    expect(fields.some((f: string) => f.startsWith('0.'))).toBe(false);
    expect(await usersOf('acme', 'fine@example.com')).toEqual([]);
    expect(Number(res.headers.get('ac-revision'))).toBe(before);
  });

  it('names fields the vendor way for one entity and checks confirmPassword', async () => {
    const res = await post('acme', { email: 'confirm@example.com', passwordSh: PASSWORD, confirmPassword: 'something else' });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'confirmPassword', code: 'PASSWORD_MISMATCH', message: expect.any(String) }]);
  });

  it('answers 409 for an email or login name already in the account', async () => {
    expect((await post('acme', [vendorEntity('dup')])).status).toBe(201);
    const email = await post('acme', [{ loginName: 'other-login', email: 'AGENT-DUP@example.com' }]);
    expect(email.status).toBe(409);
    expect(email.body).toMatchObject({ code: 'DUPLICATE_EMAIL', errors: [{ field: '0.email', code: 'DUPLICATE_EMAIL' }] });
    const login = await post('acme', [{ loginName: 'agent-dup', email: 'fresh-login@example.com' }]);
    expect(login.status).toBe(409);
    expect(login.body).toMatchObject({ code: 'DUPLICATE_USERNAME', errors: [{ field: '0.loginName' }] });
    const inList = await post('acme', [{ email: 'twice@example.com' }, { email: 'Twice@Example.com' }]);
    expect(inList.status).toBe(409);
    expect(inList.body.errors[0].field).toBe('1.email');
    expect(await usersOf('acme', 'twice@example.com')).toEqual([]);
  });

  it('refuses unknown profile ids, and admin profiles unless the caller is a global admin', async () => {
    const unknown = await post('acme', [{ email: 'unknown-profile@example.com', profileIds: [101, 777] }]);
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ code: 'UNKNOWN_REFERENCE', errors: [{ field: '0.profileIds.1' }] });
    const admin = await post('acme', [{ email: 'admin-profile@example.com', profileIds: [900] }]);
    expect(admin.status).toBe(403);
    expect(admin.body.code).toBe('ADMIN_ROLE_FORBIDDEN');
    expect(await usersOf('acme', 'admin-profile@example.com')).toEqual([]);
    const global = await post('acme', [{ email: 'admin-profile@example.com', profileIds: ['900'] }], { token: undefined });
    expect(global.status, global.text).toBe(201);
    expect(global.body[0].profileIds).toEqual([900]);
  });

  it('answers 402 when the account has no seats left, creating nobody', async () => {
    const res = await post('tiny', [{ email: 'seat-1@example.com' }, { email: 'seat-2@example.com' }], { token: tinyManager });
    expect(res.status, res.text).toBe(402);
    expect(res.body.code).toBe('SEAT_LIMIT_EXCEEDED');
    expect(await usersOf('tiny', 'seat-1@example.com')).toEqual([]);
    expect((await post('tiny', [{ email: 'seat-1@example.com' }], { token: tinyManager })).status).toBe(201);
  });

  it('refuses a body that is not a list of entities, and bad JSON, with 400', async () => {
    const notList = await post('acme', 'just text');
    expect(notList.status).toBe(400);
    expect(notList.body.code).toBe('INVALID_FIELD');
    const badJson = await call('POST', url('acme'), { token: manager.token, raw: '[{"email":', headers: { 'content-type': 'application/json' } });
    expect(badJson.status).toBe(400);
    expect(badJson.body).toMatchObject({ code: 'MALFORMED_JSON', time: expect.any(Number), requestId: expect.any(String) });
    expect(badJson.headers.get('ac-revision')).not.toBeNull();
    const text = await call('POST', url('acme'), { token: manager.token, raw: 'email=x', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    expect(text.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 413 for more than 1000 users', async () => {
    const res = await post('acme', Array.from({ length: 1001 }, (_, i) => ({ email: `bulk-${i}@example.com` })));
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('BATCH_TOO_LARGE');
  });

  it('answers 401 without a valid credential, with no revision', async () => {
    for (const options of [{ token: null }, { token: 'mst_nope_nope' }, { token: null, headers: basic(manager.id, 'wrong') }] as CallOptions[]) {
      const res = await post('acme', [{ email: 'anonymous@example.com' }], options);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
      expect(res.headers.get('ac-revision')).toBeNull();
      expect(res.body).toMatchObject({ code: 'UNAUTHORIZED', time: expect.any(Number) });
    }
    expect(await usersOf('acme', 'anonymous@example.com')).toEqual([]);
  });

  it('accepts HTTP Basic with the key id and token', async () => {
    const res = await post('acme', [{ email: 'basic@example.com' }], { token: null, headers: basic(manager.id, manager.token) });
    expect(res.status, res.text).toBe(201);
  });

  it("answers 403 Not Authorized for another account's token, revealing no revision", async () => {
    for (const account of ['acme', 'no-such-account']) {
      const res = await post(account, [{ email: 'intruder@example.com' }], { token: globexManager });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('Not Authorized') });
      expect(res.headers.get('ac-revision')).toBeNull();
    }
    expect(await usersOf('acme', 'intruder@example.com')).toEqual([]);
  });

  it('answers 403 to a reader key', async () => {
    const res = await post('acme', [{ email: 'by-reader@example.com' }], { token: reader });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('FORBIDDEN');
    expect(await usersOf('acme', 'by-reader@example.com')).toEqual([]);
  });

  it('answers 404 to a global admin naming an account that does not exist', async () => {
    const res = await post('nowhere', [{ email: 'x@example.com' }], { token: undefined });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('NOT_FOUND');
  });

  it('documents the route under the account tag', async () => {
    const res = await t.call('GET', '/openapi.json', { token: null });
    const operation = res.body.paths['/api/account/{accountId}/configuration/le-users/users'].post;
    expect(operation.tags).toEqual(['account']);
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '403', '412', '500']));
  });

  it('never shows a password or a hash in any response, whatever the outcome', async () => {
    // Answers of every kind to entities that carry passwords: created, failed, collided, refused.
    const answers = [
      await post('acme', [vendorEntity('keeper-1'), vendorEntity('keeper-2')]),
      await post('acme', vendorEntity('keeper-3')),
      await post('acme', [vendorEntity('keeper-1')]),
      await post('acme', [vendorEntity('keeper-4'), { email: 'keeper-weak@example.com', passwordSh: 'pppppp' }]),
      await post('acme', { email: 'keeper-confirm@example.com', passwordSh: PASSWORD, confirmPassword: 'something else' }),
      await post('acme', [vendorEntity('keeper-5')], { token: reader }),
      await post('acme', [vendorEntity('keeper-6')], { token: null }),
      await post('acme', [vendorEntity('keeper-7')], { query: '' }),
    ];
    expect(answers.map((res) => res.status)).toEqual([201, 201, 409, 400, 400, 403, 401, 400]);
    expectNoSecrets(answers);
    expect((await usersOf('acme', 'agent-keeper-1@example.com'))[0]).toMatchObject({ hasPassword: true });
  });
});
