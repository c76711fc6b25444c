import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './helpers/databases.js';
import { basic, createTenant, issueKey, type IssuedKey } from './helpers/native-fixtures.js';
import { startTestApp, type CallOptions, type CallResult, type TestApp } from './helpers/test-app.js';

const PASSWORD = 'Tr0ub4dor&3-staple';
const URL = '/provisioning/users.svc/';

/** The seed's messages, word for word. */
const MESSAGES = {
  email: 'Email address was not set or was invalid',
  name: 'FirstName must be set or LastName must be set',
  passwordMissing: 'Password must be set: Password was not set',
  emailInUse: 'EmailAddress In Use: The provided email address is already in use by another user',
  domainRestricted: 'Email Domain Restricted: The domain of the email address provided is restricted from signing up',
  passwordWeak: 'Password too weak: The password provided does not meet complexity requirements',
  notAuthorized: 'Not Authorized: The token is invalid, the header is missing, or the user is inactive',
  seats: 'Company Seat Count Exceeded: No available seats are available in the specified company',
  notAdmin: 'Not A Business Admin: The user attempting to execute this request is not a company administrator',
  onlyGlobalAdmin: 'Not A Business Admin: only global administrator is able to create another admin',
};

function user(email: string, overrides: Record<string, unknown> = {}) {
  return { EmailAddress: email, FirstName: 'Ada', LastName: 'Lovelace', Password: PASSWORD, ...overrides };
}

describe.each(DATABASES)('provisioning dialect (seed 002) on %s', (kind) => {
  let t: TestApp;
  let admin: IssuedKey;
  let manager: IssuedKey;
  let globexAdmin: IssuedKey;
  let tinyAdmin: IssuedKey;
  let acmeAppKey: string;
  let globexAppKey: string;
  const seen: CallResult[] = [];

  async function call(method: string, path: string, options: CallOptions = {}): Promise<CallResult> {
    const res = await t.call(method, path, options);
    seen.push(res);
    return res;
  }
  function expectNoSecrets(responses: CallResult[]): void {
    for (const res of responses) {
      expect(res.text).not.toContain(PASSWORD);
      expect(res.text).not.toMatch(/"Password"\s*:|argon2|passwordHash/);
    }
  }
  // Every answer a test received shows no password: checked after each test, on its own answers.
  afterEach(() => expectNoSecrets(seen.splice(0)));
  async function post(body: unknown, options: CallOptions & { query?: string } = {}): Promise<CallResult> {
    const { query = '', ...rest } = options;
    return call('POST', `${URL}${query}`, { token: admin.token, body, ...rest });
  }
  async function usersOf(tenant: string, email: string): Promise<any[]> {
    const res = await t.call('GET', `/v1/tenants/${tenant}/users?email=${encodeURIComponent(email)}`);
    expect(res.status).toBe(200);
    return res.body.users;
  }
  async function messagesFor(tenant: string, userId: string): Promise<any[]> {
    const res = await t.call('GET', `/v1/tenants/${tenant}/messages?userId=${userId}`);
    expect(res.status, res.text).toBe(200);
    return res.body.messages;
  }
  function expectError(res: CallResult, status: number, message: string): any {
    expect(res.status, res.text).toBe(status);
    expect(res.body).toMatchObject({ Message: message, Code: expect.any(String), Errors: expect.any(Array), Users: expect.any(Array), RequestId: expect.any(String) });
    return res.body;
  }

  beforeAll(async () => {
    t = await startTestApp(kind);
    acmeAppKey = (await createTenant(t, { id: 'acme', name: 'Acme', emailDomains: { allow: [], block: ['blocked.example'] } })).appKey;
    globexAppKey = (await createTenant(t, { id: 'globex', name: 'Globex' })).appKey;
    await createTenant(t, { id: 'tiny', name: 'Tiny', seatLimit: 1 });
    for (const [name, isAdmin] of [['AccountOwner', true], ['Administrator', true], ['Support', false], ['ReportViewer', false]] as const) {
      expect((await t.call('PUT', `/v1/tenants/acme/roles/${name}`, { body: { admin: isAdmin } })).status).toBeLessThan(300);
    }
    admin = await issueKey(t, 'acme', 'tenant-admin');
    manager = await issueKey(t, 'acme', 'user-manager');
    globexAdmin = await issueKey(t, 'globex', 'tenant-admin');
    tinyAdmin = await issueKey(t, 'tiny', 'tenant-admin');
    // A user every test may collide with.
    expect((await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'taken@example.com' } })).status).toBe(201);
  });
  afterAll(async () => t.close());

  it('creates the users with every mapped field and answers 200 with the list, dates and enums as the vendor writes them', async () => {
    const res = await post([
      user('ada@example.com', { Roles: [4, 3], AccountType: 7 }),
      user('grace@example.com', { FirstName: 'Grace', LastName: 'Hopper', AccountType: 'PendingBusiness', Disabled: true, Id: '00000000-0000-0000-0000-000000000000' }),
    ]);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toHaveLength(2);
    expect(res.body[0]).toEqual({
      Id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      EmailAddress: 'ada@example.com',
      FirstName: 'Ada',
      LastName: 'Lovelace',
      Disabled: false,
      Roles: [3, 4],
      AccountType: 3,
      Status: 2,
      CreatedDateUtc: expect.stringMatching(/^\/Date\(\d{13}\)\/$/),
    });
    expect(res.body[1]).toMatchObject({ EmailAddress: 'grace@example.com', FirstName: 'Grace', Disabled: true, AccountType: 16, Status: 1, Roles: [] });
    expect(res.body[1].Id).not.toBe('00000000-0000-0000-0000-000000000000');

    const [ada] = await usersOf('acme', 'ada@example.com');
    expect(ada).toMatchObject({ id: res.body[0].Id, userName: 'ada@example.com', name: { givenName: 'Ada', familyName: 'Lovelace' }, roles: ['ReportViewer', 'Support'], lockedOut: false, approved: true, hasPassword: true });
    const [grace] = await usersOf('acme', 'grace@example.com');
    expect(grace).toMatchObject({ lockedOut: true, approved: false });
  });

  it('takes one object as a list of one, at the path with or without its trailing slash', async () => {
    const res = await call('POST', '/provisioning/users.svc', { token: admin.token, body: user('single@example.com', { FirstName: undefined }) });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual([expect.objectContaining({ EmailAddress: 'single@example.com', LastName: 'Lovelace' })]);
    expect(res.body[0].FirstName).toBeUndefined();
  });

  it('accepts HTTP Basic and Bearer credentials', async () => {
    const viaBasic = await post([user('basic@example.com')], { token: null, headers: basic(admin.id, admin.token) });
    expect(viaBasic.status, viaBasic.text).toBe(200);
    const viaBearer = await post([user('bearer@example.com')], { headers: { authorization: `Bearer ${admin.token}` } });
    expect(viaBearer.status, viaBearer.text).toBe(200);
  });

  it('treats Active false like Disabled, and takes AccountType by name', async () => {
    const res = await post([user('inactive@example.com', { Active: false, AccountType: 'LimitedBusiness', Disabled: null })]);
    expect(res.status, res.text).toBe(200);
    expect(res.body[0]).toMatchObject({ Disabled: true, AccountType: 3, Status: 1 });
  });

  it('sends the welcome email unless modifier=no_email', async () => {
    const sent = await post([user('welcomed@example.com')]);
    expect(sent.status).toBe(200);
    expect(await messagesFor('acme', sent.body[0].Id)).toHaveLength(1);
    const quiet = await post([user('quiet@example.com')], { query: '?modifier=no_email' });
    expect(quiet.status).toBe(200);
    expect(await messagesFor('acme', quiet.body[0].Id)).toEqual([]);
  });

  it('creates nothing and sends nothing with modifier=simulate, yet answers as it would', async () => {
    const before = (await t.call('GET', '/v1/tenants/acme')).body;
    const res = await post([user('dry@example.com', { Roles: [3] })], { query: '?modifier=simulate' });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual([{ EmailAddress: 'dry@example.com', FirstName: 'Ada', LastName: 'Lovelace', Disabled: false, Roles: [3], AccountType: 3, Status: 2 }]);
    expect(await usersOf('acme', 'dry@example.com')).toEqual([]);
    expect((await t.call('GET', '/v1/tenants/acme')).body).toEqual(before);

    const duplicate = await post([user('taken@example.com')], { query: '?modifier=simulate' });
    expectError(duplicate, 400, MESSAGES.emailInUse);
  });

  it('refuses an unknown modifier instead of creating users', async () => {
    const res = await post([user('typo@example.com')], { query: '?modifier=simulat' });
    expect(res.status).toBe(400);
    expect(res.body.Code).toBe('INVALID_FIELD');
    expect(await usersOf('acme', 'typo@example.com')).toEqual([]);
  });

  it.each([
    ['no email address', { EmailAddress: undefined }, MESSAGES.email, 'EmailAddress'],
    ['an empty email address', { EmailAddress: '' }, MESSAGES.email, 'EmailAddress'],
    ['an invalid email address', { EmailAddress: 'not-an-email' }, MESSAGES.email, 'EmailAddress'],
    ['an email address that is not text', { EmailAddress: 42 }, MESSAGES.email, 'EmailAddress'],
    ['neither FirstName nor LastName', { FirstName: '', LastName: null }, MESSAGES.name, 'FirstName'],
    ['no password', { Password: undefined }, MESSAGES.passwordMissing, 'Password'],
    ['a weak password', { Password: 'password' }, MESSAGES.passwordWeak, 'Password'],
    ['a restricted email domain', { EmailAddress: 'eve@blocked.example' }, MESSAGES.domainRestricted, 'EmailAddress'],
    ['an email address in use, in any case', { EmailAddress: 'TAKEN@example.com' }, MESSAGES.emailInUse, 'EmailAddress'],
  ])('answers 400 with the seed message for %s', async (_, overrides, message, field) => {
    const res = await post([user('fresh-400@example.com', overrides)]);
    const body = expectError(res, 400, message);
    expect(body.Errors).toEqual([expect.objectContaining({ Index: 0, Field: field, Message: message, Detail: expect.any(String) })]);
    expect(body.Users).toEqual([]);
    expect(await usersOf('acme', 'fresh-400@example.com')).toEqual([]);
  });

  it('answers 400 for role numbers outside 1 to 6, an unknown AccountType, a non-boolean flag and roles the tenant lacks', async () => {
    for (const [overrides, field] of [
      [{ Roles: [7] }, 'Roles'],
      [{ Roles: 'Support' }, 'Roles'],
      [{ AccountType: 99 }, 'AccountType'],
      [{ Disabled: 'yes' }, 'Disabled'],
      [{ Roles: [5] }, 'Roles'],
    ] as const) {
      const res = await post([user('odd@example.com', overrides)]);
      expect(res.status, JSON.stringify(overrides)).toBe(400);
      expect(res.body.Errors[0].Field).toBe(field);
    }
    expect(await usersOf('acme', 'odd@example.com')).toEqual([]);
  });

  it('creates the good users of a mixed list and answers with the first failure, every refusal and the users created', async () => {
    expect((await post([user('mixed-existing@example.com')])).status).toBe(200);
    const res = await post([user('mixed-1@example.com'), user('mixed-existing@example.com'), user('mixed-2@example.com', { Password: '' }), user('mixed-3@example.com')]);
    const body = expectError(res, 400, MESSAGES.emailInUse);
    expect(body.Code).toBe('DUPLICATE_EMAIL');
    expect(body.Errors.map((e: any) => [e.Index, e.EmailAddress, e.Message])).toEqual([
      [1, 'mixed-existing@example.com', MESSAGES.emailInUse],
      [2, 'mixed-2@example.com', MESSAGES.passwordMissing],
    ]);
    expect(body.Users.map((u: any) => u.EmailAddress)).toEqual(['mixed-1@example.com', 'mixed-3@example.com']);
    expect(await usersOf('acme', 'mixed-3@example.com')).toHaveLength(1);
    expect(await usersOf('acme', 'mixed-2@example.com')).toEqual([]);
  });

  it('answers 402 when the company has no seats left, keeping the users that fitted', async () => {
    const res = await post([user('seat-1@example.com'), user('seat-2@example.com')], { token: tinyAdmin.token });
    const body = expectError(res, 402, MESSAGES.seats);
    expect(body.Users.map((u: any) => u.EmailAddress)).toEqual(['seat-1@example.com']);
    expect(body.Errors).toEqual([expect.objectContaining({ Index: 1, Code: 'SEAT_LIMIT_EXCEEDED', Message: MESSAGES.seats })]);
    expect(await usersOf('tiny', 'seat-2@example.com')).toEqual([]);
  });

  it('answers 401 with the seed message without a valid credential', async () => {
    for (const options of [{ token: null }, { token: 'mst_key-nope_nope' }, { token: null, headers: basic(admin.id, 'wrong') }] as CallOptions[]) {
      const res = await post([user('anonymous@example.com')], options);
      expectError(res, 401, MESSAGES.notAuthorized);
      expect(res.headers.get('www-authenticate')).toContain('Basic');
    }
    expect(await usersOf('acme', 'anonymous@example.com')).toEqual([]);
  });

  it('answers 403 Not A Business Admin to a credential below tenant admin', async () => {
    const res = await post([user('by-manager@example.com')], { token: manager.token });
    expectError(res, 403, MESSAGES.notAdmin);
    expect(await usersOf('acme', 'by-manager@example.com')).toEqual([]);
  });

  it('lets only a global administrator create an admin', async () => {
    const refused = await post([user('new-admin@example.com', { Roles: [2] })]);
    const body = expectError(refused, 403, MESSAGES.onlyGlobalAdmin);
    expect(body.Errors[0]).toMatchObject({ Field: 'Roles', Code: 'ADMIN_ROLE_FORBIDDEN' });
    expect(await usersOf('acme', 'new-admin@example.com')).toEqual([]);

    const global = await post([user('new-admin@example.com', { Roles: [2] })], { token: undefined, headers: { appkey: acmeAppKey } });
    expect(global.status, global.text).toBe(200);
    expect(global.body[0].Roles).toEqual([2]);
    expect(await usersOf('acme', 'new-admin@example.com')).toHaveLength(1);
  });

  it("acts in the tenant the AppKey names, and answers 401 to a key that is not the credential's", async () => {
    const own = await post([user('own-appkey@example.com')], { headers: { appkey: acmeAppKey } });
    expect(own.status, own.text).toBe(200);
    for (const appkey of [globexAppKey, 'app_unknown', 'garbage']) {
      const res = await post([user('foreign-appkey@example.com')], { headers: { appkey } });
      expectError(res, 401, MESSAGES.notAuthorized);
    }
    expect(await usersOf('acme', 'foreign-appkey@example.com')).toEqual([]);
    expect(await usersOf('globex', 'foreign-appkey@example.com')).toEqual([]);

    const globex = await post([user('globex-user@example.com')], { token: globexAdmin.token });
    expect(globex.status).toBe(200);
    expect(await usersOf('globex', 'globex-user@example.com')).toHaveLength(1);
    expect(await usersOf('acme', 'globex-user@example.com')).toEqual([]);
  });

  it('creates in the default tenant for a global key without AppKey', async () => {
    const res = await post([user('in-default@example.com')], { token: undefined });
    expect(res.status, res.text).toBe(200);
    expect(await usersOf('default', 'in-default@example.com')).toHaveLength(1);
  });

  it('refuses bodies that are not JSON lists of users', async () => {
    const text = await call('POST', URL, { token: admin.token, raw: 'EmailAddress=x', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    expect(text.body.Code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const bad = await call('POST', URL, { token: admin.token, raw: '[{', headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect(bad.body.Code).toBe('MALFORMED_JSON');
    const scalar = await post(42);
    expect(scalar.status).toBe(400);
    const notObject = await post(['ada']);
    expect(notObject.status).toBe(400);
    expect(notObject.body.Errors[0]).toMatchObject({ Index: 0, Code: 'INVALID_FIELD' });
    const tooMany = await post(Array.from({ length: 1001 }, (_, i) => user(`bulk-${i}@example.com`)));
    expect(tooMany.status).toBe(413);
  });

  it('documents the route under the provisioning tag', async () => {
    const res = await t.call('GET', '/openapi.json', { token: null });
    const operation = res.body.paths['/provisioning/users.svc/'].post;
    expect(operation.tags).toEqual(['provisioning']);
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '402', '403']));
  });

  it('never shows a password or a hash in any response, whatever the outcome', async () => {
    // Answers of every kind to users that carry passwords: created, simulated, collided, refused.
    const answers = [
      await post([user('keeper-1@example.com'), user('keeper-2@example.com')]),
      await post(user('keeper-3@example.com'), { query: '?modifier=simulate' }),
      await post([user('keeper-4@example.com'), user('keeper-1@example.com'), user('keeper-5@example.com', { Password: 'password' })]),
      await post([user('keeper-6@example.com')], { token: manager.token }),
      await post([user('keeper-7@example.com')], { token: null }),
      await post([user('keeper-8@example.com', { Roles: [2] })]),
    ];
    expect(answers.map((res) => res.status)).toEqual([200, 200, 400, 403, 401, 403]);
    expectNoSecrets(answers);
    expect((await usersOf('acme', 'keeper-1@example.com'))[0]).toMatchObject({ hasPassword: true });
  });
});
