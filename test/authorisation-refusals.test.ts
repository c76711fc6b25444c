/**
 * Who may act is decided by the core (core/credentials/actor.ts and the use cases), once for
 * every API; each API only words the refusal. Through HTTP, for every API: a read-only key
 * that writes, a key of another tenant, and the provisioning API's "tenant admin or above".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './helpers/databases.js';
import { createTenant, expectProblem, issueKey, type IssuedKey } from './helpers/native-fixtures.js';
import { expectScimError, scimClient, scimUser } from './helpers/scim.js';
import { startTestApp, type CallOptions, type TestApp } from './helpers/test-app.js';

const PASSWORD = 'Tr0ub4dor&3-staple';
const NOT_ADMIN = 'Not A Business Admin: The user attempting to execute this request is not a company administrator';
const NOT_AUTHORIZED = 'Not Authorized: The token is invalid, the header is missing, or the user is inactive';
const BAD_JSON: CallOptions = { raw: '{"oops', headers: { 'content-type': 'application/json' } };

describe.each(DATABASES)('refusals decided by the core, worded by each API, on %s', (kind) => {
  let t: TestApp;
  let acmeAppKey: string;
  let reader: IssuedKey;
  let manager: IssuedKey;
  let admin: IssuedKey;
  let globexManager: IssuedKey;
  let globexAdmin: IssuedKey;

  async function usersOf(tenant: string, email: string): Promise<unknown[]> {
    const res = await t.call('GET', `/v1/tenants/${tenant}/users?email=${encodeURIComponent(email)}`);
    expect(res.status, res.text).toBe(200);
    return res.body.users;
  }

  /** One create request per API, sent with `token` (and, where the API names a tenant, naming acme). */
  function creates(email: string) {
    const [local] = email.split('@');
    // A raw body (malformed JSON) replaces the API's well-formed one.
    const post = (path: string, body: unknown, o: CallOptions) => t.call('POST', path, o.raw !== undefined ? o : { body, ...o });
    return {
      native: (o: CallOptions) => post('/v1/tenants/acme/users', { email, password: PASSWORD }, o),
      batch: (o: CallOptions) => post('/compat/batch/users', [{ email, password: PASSWORD }], o),
      account: (o: CallOptions) => post('/api/account/acme/configuration/le-users/users?v=4.0', [{ email }], o),
      provisioning: (o: CallOptions) => post('/provisioning/users.svc/', [{ EmailAddress: email, FirstName: 'A', LastName: 'B', Password: PASSWORD }], o),
      app: (o: CallOptions) => post(`/${acmeAppKey}/users`, { userName: local, email, password: PASSWORD, confirmPassword: PASSWORD }, o),
      simple: (o: CallOptions) => post('/compat/simple/users', { firstName: 'A', lastName: 'B', contactEmail: email }, o),
      scim: (o: CallOptions) => scimClient(t, o.token as string)('POST', '/Users', o.raw !== undefined ? { raw: o.raw, headers: { 'content-type': 'application/scim+json' } } : { body: scimUser(email) }),
    };
  }

  beforeAll(async () => {
    t = await startTestApp(kind);
    acmeAppKey = (await createTenant(t, { id: 'acme', name: 'Acme' })).appKey;
    await createTenant(t, { id: 'globex', name: 'Globex' });
    reader = await issueKey(t, 'acme', 'reader');
    manager = await issueKey(t, 'acme', 'user-manager');
    admin = await issueKey(t, 'acme', 'tenant-admin');
    globexManager = await issueKey(t, 'globex', 'user-manager');
    globexAdmin = await issueKey(t, 'globex', 'tenant-admin');
  });
  afterAll(async () => t.close());

  it('refuses a read-only key that writes, in every API, with 403 in its own shape, and creates nothing', async () => {
    const email = 'by-reader@example.com';
    for (const body of [undefined, BAD_JSON]) {
      const call = creates(email);
      const options: CallOptions = { token: reader.token, ...body };
      const native = await call.native(options);
      if (body === undefined) expectProblem(native, 403, 'FORBIDDEN');
      else expect(native.status).toBe(400); // the native API checks the body first: it is not secret
      const batch = await call.batch(options);
      expect(batch.status, batch.text).toBe(403);
      expect(batch.body).toMatchObject({ code: 'FORBIDDEN', message: 'Authorization Error. Invalid role for request.' });
      const account = await call.account(options);
      expect(account.status, account.text).toBe(403);
      expect(account.body).toMatchObject({ code: 'FORBIDDEN', errors: [], requestId: expect.any(String) });
      expect(account.headers.get('ac-revision')).toBeNull();
      const provisioning = await call.provisioning(options);
      expect(provisioning.status, provisioning.text).toBe(403);
      expect(provisioning.body).toMatchObject({ Message: NOT_ADMIN, Code: 'FORBIDDEN', Errors: [], Users: [] });
      const app = await call.app(options);
      expect(app.status, app.text).toBe(403);
      expect(app.body).toMatchObject({ statusCode: 403, errorCode: 4030, error: 'FORBIDDEN' });
      const simple = await call.simple(options);
      expect(simple.status, simple.text).toBe(403);
      expect(simple.body).toMatchObject({ code: 'FORBIDDEN' });
      expectScimError(await call.scim(options), 403);
    }
    expect(await usersOf('acme', email)).toEqual([]);
  });

  it('refuses a key of another tenant in every API that names a tenant, as that API words it', async () => {
    const email = 'intruder@example.com';
    const call = creates(email);
    // The native API hides another tenant: 404, as for one that does not exist.
    expectProblem(await call.native({ token: globexManager.token }), 404, 'NOT_FOUND');
    // The account vendor answers a token of another account 403 "Not Authorized", with no revision.
    for (const body of [undefined, BAD_JSON]) {
      const account = await call.account({ token: globexManager.token, ...body });
      expect(account.status, account.text).toBe(403);
      expect(account.body).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('Not Authorized') });
      expect(account.headers.get('ac-revision')).toBeNull();
    }
    // An application key of another tenant: 404 in the app dialect, a bad credential (401) in provisioning.
    const app = await call.app({ token: globexManager.token });
    expect(app.status, app.text).toBe(404);
    expect(app.body).toMatchObject({ error: 'NOT_FOUND', errorCode: 4040 });
    const provisioning = await call.provisioning({ token: globexAdmin.token, headers: { appkey: acmeAppKey } });
    expect(provisioning.status, provisioning.text).toBe(401);
    expect(provisioning.body).toMatchObject({ Message: NOT_AUTHORIZED, Code: 'UNAUTHORIZED' });
    // Nor may it check a password there, or count against that tenant's per-login limit.
    expectProblem(await t.call('POST', '/v1/tenants/acme/credentials/verify', { token: globexAdmin.token, body: { login: email, password: PASSWORD } }), 404, 'NOT_FOUND');
    expect(await usersOf('acme', email)).toEqual([]);
    expect(await usersOf('globex', email)).toEqual([]);
  });

  it('refuses provisioning below tenant admin, before the body, and lets a tenant admin provision', async () => {
    const email = 'by-manager@example.com';
    const call = creates(email);
    for (const body of [undefined, BAD_JSON]) {
      for (const headers of [{}, { appkey: acmeAppKey }, { appkey: 'app_no-such-key' }] as Record<string, string>[]) {
        const res = await call.provisioning({ token: manager.token, ...body, headers: { ...body?.headers, ...headers } });
        expect(res.status, res.text).toBe(403);
        expect(res.body).toMatchObject({ Message: NOT_ADMIN, Code: 'FORBIDDEN', Errors: [], Users: [] });
      }
    }
    // The same key may create that user through any API open to user managers.
    expect(await usersOf('acme', email)).toEqual([]);
    const allowed = await call.native({ token: manager.token });
    expect(allowed.status, allowed.text).toBe(201);

    const byAdmin = await creates('by-admin@example.com').provisioning({ token: admin.token });
    expect(byAdmin.status, byAdmin.text).toBe(200);
    expect(byAdmin.body).toEqual([expect.objectContaining({ EmailAddress: 'by-admin@example.com' })]);
  });
});
