/**
 * The typed client (muster/client): generated from the routes' OpenAPI document, kept in step with
 * them, and calling a real server on both databases with checked types.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateClientSchema, SCHEMA_FILE } from '../scripts/client-schema.js';
import { createMusterClient, type MusterClient, type User } from '../src/client/index.js';
import { DATABASES } from './helpers/databases.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/test-app.js';

describe('the generated client schema', () => {
  it('matches what the current routes generate (run `npm run build:client` after changing a route schema)', async () => {
    const committed = readFileSync(SCHEMA_FILE, 'utf8');
    expect(committed === (await generateClientSchema()), 'src/client/schema.ts is out of date: run `npm run build:client`').toBe(true);
  }, 60_000);
});

describe.each(DATABASES)('the typed client on %s', (kind) => {
  let t: TestApp;
  let admin: MusterClient;
  beforeAll(async () => {
    t = await startTestApp(kind);
    admin = createMusterClient({ baseUrl: t.baseUrl, token: ADMIN_TOKEN });
    const { response } = await admin.POST('/v1/tenants', { body: { id: 'typed', name: 'Typed' } });
    expect(response.status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses at compile time what the server refuses at run time', async () => {
    // @ts-expect-error the routes have no such path
    const unknown = await admin.GET('/v1/no-such-route');
    expect(unknown.response.status).toBe(404);
    // @ts-expect-error a new user has `email`, not `mail`
    const misnamed = await admin.POST('/v1/tenants/{tenant}/users', { params: { path: { tenant: 'typed' } }, body: { mail: 'x@example.com' } });
    expect(misnamed.response.status).toBe(400);
    expect(misnamed.error?.code).toMatch(/MISSING_REQUIRED_FIELD|INVALID_FIELD/);
  });

  it('tells who a key is: role and tenant', async () => {
    const issued = await admin.POST('/v1/tenants/{tenant}/api-keys', { params: { path: { tenant: 'typed' } }, body: { name: 'desk', role: 'user-manager' } });
    expect(issued.response.status).toBe(201);
    const desk = createMusterClient({ baseUrl: t.baseUrl, token: issued.data!.token });
    const { data } = await desk.GET('/v1/session');
    expect(data).toEqual({ keyId: issued.data!.id, role: 'user-manager', tenant: 'typed' });
    expect((await admin.GET('/v1/session')).data).toEqual({ keyId: 'bootstrap', role: 'global-admin', tenant: null });
    const anonymous = await createMusterClient({ baseUrl: t.baseUrl }).GET('/v1/session');
    expect(anonymous.response.status).toBe(401);
    expect(anonymous.error?.code).toBe('UNAUTHORIZED');
  });

  it('creates, reads and conditionally changes a user, with the problem of a stale change typed', async () => {
    const created = await admin.POST('/v1/tenants/{tenant}/users', { params: { path: { tenant: 'typed' }, query: { notify: false } }, body: { email: 'typed.user@example.com', name: { givenName: 'Typed' } } });
    expect(created.response.status).toBe(201);
    const user: User = created.data as User;
    expect(user.email).toBe('typed.user@example.com');

    const read = await admin.GET('/v1/tenants/{tenant}/users/{id}', { params: { path: { tenant: 'typed', id: user.id } } });
    const etag = read.response.headers.get('etag')!;
    const changed = await admin.PATCH('/v1/tenants/{tenant}/users/{id}', { params: { path: { tenant: 'typed', id: user.id }, header: { 'if-match': etag } }, body: { lockedOut: true } });
    expect(changed.data?.lockedOut).toBe(true);
    const stale = await admin.PATCH('/v1/tenants/{tenant}/users/{id}', { params: { path: { tenant: 'typed', id: user.id }, header: { 'if-match': etag } }, body: { lockedOut: false } });
    expect(stale.response.status).toBe(412);
    expect(stale.error?.code).toBe('PRECONDITION_FAILED');

    const duplicate = await admin.POST('/v1/tenants/{tenant}/users', { params: { path: { tenant: 'typed' }, query: { notify: false } }, body: { email: 'TYPED.user@example.com' } });
    expect(duplicate.response.status).toBe(409);
    expect(duplicate.error?.errors?.[0]).toMatchObject({ field: 'email', code: 'DUPLICATE_EMAIL' });
  });
});
