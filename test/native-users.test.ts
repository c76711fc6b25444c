import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './helpers/databases.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

describe.each(DATABASES)('native users API on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
    await t.call('POST', '/v1/tenants', { body: { id: 'acme', name: 'Acme' } });
  });
  afterAll(async () => t.close());

  it('creates a user and returns it with Location and ETag, never its password', async () => {
    const res = await t.call('POST', '/v1/tenants/acme/users', {
      body: { email: 'ada@example.com', password: 'correct horse battery', name: { givenName: 'Ada', familyName: 'Lovelace' } },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/v1/tenants/acme/users/${res.body.id}`);
    expect(res.headers.get('etag')).toBe('"1"');
    expect(res.body).toMatchObject({ userName: 'ada@example.com', email: 'ada@example.com', hasPassword: true, revision: 1 });
    expect(res.text).not.toContain('correct horse battery');
    expect(res.text).not.toContain('argon2');
  });

  it('rejects a second user with the same email in one tenant, whatever its case', async () => {
    const res = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'ADA@Example.COM' } });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.code).toBe('DUPLICATE_EMAIL');
  });
});
