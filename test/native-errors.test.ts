import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './helpers/databases.js';
import { createTenant, expectProblem, issueKey } from './helpers/native-fixtures.js';
import { startTestApp, type CallResult, type TestApp } from './helpers/test-app.js';

/** What must never appear in an error body: stack frames, SQL, driver messages, file paths. */
function expectNoInternals(res: CallResult): void {
  for (const leak of [/\bat .+\(.+:\d+:\d+\)/, /node_modules/, /\/src\//, /\bselect\b.+\bfrom\b/i, /\binsert into\b/i, /\bupdate\b.+\bset\b/i, /SQLITE_/, /violates/i, /constraint/i, /syntax error at/i, /stack/i]) {
    expect(res.text, `${leak} in ${res.text}`).not.toMatch(leak);
  }
}

describe.each(DATABASES)('native errors on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind, { bodyLimit: 64 * 1024 });
    await createTenant(t, { id: 'acme' });
  });
  afterAll(async () => t.close());

  it('answers malformed JSON with 400 MALFORMED_JSON', async () => {
    const res = await t.call('POST', '/v1/tenants/acme/users', { raw: '{"email": "a@example.com",', headers: { 'content-type': 'application/json' } });
    expectProblem(res, 400, 'MALFORMED_JSON');
    expectNoInternals(res);
  });

  it('answers an empty JSON body with 400 MALFORMED_JSON', async () => {
    expectProblem(await t.call('POST', '/v1/tenants/acme/users', { raw: '', headers: { 'content-type': 'application/json' } }), 400, 'MALFORMED_JSON');
  });

  it('answers a body that is not JSON with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await t.call('POST', '/v1/tenants/acme/users', { raw: 'email=a@example.com', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectProblem(await t.call('POST', '/v1/tenants/acme/users', { raw: 'hello', headers: { 'content-type': 'text/plain' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers a body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const users = Array.from({ length: 2000 }, (_, i) => ({ email: `user-number-${i}@example.com` }));
    const res = await t.call('POST', '/v1/tenants/acme/users/batch', { body: { users } });
    expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
    const count = await t.db.kysely.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(0);
  });

  it('answers an unknown route with 404 problem+json', async () => {
    const res = await t.call('GET', '/v1/nothing-here');
    expectProblem(res, 404, 'NOT_FOUND');
    expectProblem(await t.call('GET', '/nothing/at/all', { token: null }), 404, 'NOT_FOUND');
    expectProblem(await t.call('DELETE', '/v1/tenants'), 404, 'NOT_FOUND');
  });

  it('gives every error a type, title, status, detail, code, errors[] and request id', async () => {
    const res = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'x' }, headers: { 'x-request-id': 'trace-123' } });
    const body = expectProblem(res, 400, 'INVALID_FIELD');
    expect(body.type).toBe('urn:muster:error:invalid-field');
    expect(body.requestId).toBe('trace-123');
    expect(res.headers.get('x-request-id')).toBe('trace-123');
    expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'errors', 'requestId', 'status', 'title', 'type']);
  });

  it('gives errors about the whole request an empty errors[]', async () => {
    const body = expectProblem(await t.call('GET', '/v1/tenants/acme/users', { token: null }), 401, 'UNAUTHORIZED');
    expect(body.errors).toEqual([]);
  });

  it('never echoes a password or token in an error', async () => {
    const key = await issueKey(t, 'acme', 'reader');
    const refused = await t.call('POST', '/v1/tenants/acme/users', { token: key.token, body: { email: 'leak@example.com', password: 'S3cret-Value-Here' } });
    expect(refused.status).toBe(403);
    expect(refused.text).not.toContain('S3cret-Value-Here');
    expect(refused.text).not.toContain(key.token);
    const bad = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'leak', password: 'S3cret-Value-Here', confirmPassword: 'S3cret-Value-Hers' } });
    expect(bad.text).not.toContain('S3cret-Value-Here');
    expect(bad.text).not.toContain('S3cret-Value-Hers');
  });

  it('answers hostile input with a 4xx and no internals', async () => {
    const probes: Array<[string, string, unknown]> = [
      ['GET', '/v1/tenants/acme/users?email=a%00b%40example.com', undefined],
      ['GET', '/v1/tenants/acme/users?userName=%00', undefined],
      ['GET', '/v1/tenants/ac%00me/users', undefined],
      ['GET', '/v1/tenants/acme/users/%00', undefined],
      ['GET', `/v1/tenants/acme/users/${encodeURIComponent("1' or '1'='1")}`, undefined],
      ['GET', '/v1/tenants/acme/roles/a%00b', undefined],
      ['DELETE', '/v1/tenants/acme/roles/a%00b', undefined],
      ['GET', '/v1/tenants/acme/departments/a%00b', undefined],
      ['DELETE', '/v1/tenants/acme/locations/a%00b', undefined],
      ['DELETE', '/v1/tenants/acme/api-keys/key%00', undefined],
      ['PATCH', '/v1/tenants/acme/users/%00', { lockedOut: true }],
      ['DELETE', '/v1/tenants/acme/users/%00', undefined],
      ['POST', '/v1/tenants', { id: 'nul-name', name: 'a\u0000b' }],
      ['PATCH', '/v1/tenants/acme', { name: 'a\u0000b' }],
      ['PUT', '/v1/tenants/acme/roles/nul', { description: 'a\u0000b' }],
      ['PUT', '/v1/tenants/acme/departments/NUL', { name: 'a\u0000b' }],
      ['POST', '/v1/tenants/acme/api-keys', { name: 'a\u0000b', role: 'reader' }],
      ['POST', '/v1/tenants/acme/users', { email: 'nul@example.com', roles: ['a\u0000b'] }],
      ['POST', '/v1/tenants/acme/users', { email: 'nul@example.com', access: { departmentId: 'a\u0000b' } }],
      ['POST', '/v1/tenants/acme/users', { email: 'nul@example.com', phoneNumber: '+1\u0000555' }],
      ['POST', '/v1/tenants/acme/users', { email: 'a@example.com', name: { givenName: 'x'.repeat(10_000) } }],
      ['POST', '/v1/tenants/acme/users?dryRun=maybe', { email: 'a@example.com' }],
      ['POST', '/v1/tenants/acme/users', { email: { $ne: null } }],
      ['POST', '/v1/tenants/acme/users', { __proto__: { admin: true }, email: 'proto@example.com', constructor: { prototype: { admin: true } } }],
    ];
    const wrong: string[] = [];
    for (const [method, path, body] of probes) {
      const res = await t.call(method, path, body === undefined ? {} : { raw: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      if (res.status < 400 || res.status >= 500 || !res.headers.get('content-type')?.startsWith('application/problem+json')) {
        wrong.push(`${method} ${path} ${JSON.stringify(body) ?? ''} → ${res.status} ${res.body?.code}`);
      }
      expectNoInternals(res);
    }
    expect(wrong).toEqual([]);
  });

  it('treats SQL in a filter as a value that matches nobody', async () => {
    const res = await t.call('GET', `/v1/tenants/acme/users?email=${encodeURIComponent("a' or 1=1 --")}`);
    expect(res.status).toBe(200);
    expect(res.body.users).toEqual([]);
  });

  it('refuses credentials carrying control characters with 401', async () => {
    for (const token of ['mst_key\u0000_x', 'mst_\u0000_x']) {
      const res = await t.call('GET', '/v1/tenants/acme/users', { token: null, headers: { authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}` } });
      expectProblem(res, 401, 'UNAUTHORIZED');
    }
    expectProblem(await t.call('GET', '/v1/tenants/acme/users', { token: 'mst_%00_x' }), 401, 'UNAUTHORIZED');
    expectProblem(await t.call('GET', '/v1/tenants/acme/users', { token: `mst_key-${'a'.repeat(5000)}_x` }), 401, 'UNAUTHORIZED');
  });
});

describe.each(DATABASES)('rate limit on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind, { rateLimitPerMinute: 3 });
  });
  afterAll(async () => t.close());

  it('answers past the limit with 429 RATE_LIMIT_EXCEEDED and Retry-After', async () => {
    for (let i = 0; i < 3; i++) expect((await t.call('GET', '/v1/tenants/default')).status).toBe(200);
    const res = await t.call('GET', '/v1/tenants/default');
    expectProblem(res, 429, 'RATE_LIMIT_EXCEEDED');
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('counts each credential on its own', async () => {
    expectProblem(await t.call('GET', '/v1/tenants/default', { token: 'another-credential' }), 401, 'UNAUTHORIZED');
  });

  it('never limits the health check', async () => {
    for (let i = 0; i < 5; i++) expect((await t.call('GET', '/healthz', { token: null })).status).toBe(200);
  });
});

describe.each(DATABASES)('a failing database on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
    await createTenant(t, { id: 'acme' });
    // Break the schema under the running server, as a failed disk or a bad manual change would.
    const drop = (table: 'user_roles' | 'users') => (kind === 'postgres' ? t.db.kysely.schema.dropTable(table).cascade() : t.db.kysely.schema.dropTable(table));
    await drop('user_roles').execute();
    await drop('users').execute();
  });
  afterAll(async () => t.close());

  it('answers with 500 SERVER_ERROR and says nothing about the database', async () => {
    for (const res of [
      await t.call('GET', '/v1/tenants/acme/users'),
      await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'a@example.com' } }),
      await t.call('POST', '/v1/tenants/acme/users/batch', { body: { users: [{ email: 'b@example.com' }] } }),
    ]) {
      const body = expectProblem(res, 500, 'SERVER_ERROR');
      expect(body.errors).toEqual([]);
      expect(res.text).not.toMatch(/users|relation|table|sqlite|postgres/i);
      expectNoInternals(res);
    }
  });
});
