import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './helpers/databases.js';
import { createTenant, expectProblem } from './helpers/native-fixtures.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

describe.each(DATABASES)('native batch create on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
    await createTenant(t, { id: 'acme' });
  });
  afterAll(async () => t.close());

  async function countUsers(tenant: string): Promise<number> {
    const row = await t.db.kysely.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenant).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  function batch(tenant: string, body: unknown, query = '') {
    return t.call('POST', `/v1/tenants/${tenant}/users/batch${query}`, { body });
  }

  it('creates every valid user and reports each input in order, failures included', async () => {
    const res = await batch('acme', {
      users: [{ email: 'b1@example.com', name: { givenName: 'One' } }, { email: 'not-an-email' }, { name: { givenName: 'No email' } }, { email: 'b4@example.com' }],
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ totalProcessed: 4, successCount: 2, failureCount: 2, dryRun: false });
    expect(res.body.results.map((r: { index: number; status: string }) => [r.index, r.status])).toEqual([
      [0, 'created'],
      [1, 'failed'],
      [2, 'failed'],
      [3, 'created'],
    ]);
    expect(res.body.results[0].user).toMatchObject({ email: 'b1@example.com', name: { givenName: 'One' }, revision: 1 });
    expect(res.body.results[0]).not.toHaveProperty('error');
    expect(res.body.results[1]).not.toHaveProperty('user');
    expect(res.body.results[1].error).toEqual({ code: 'INVALID_FIELD', message: expect.any(String), errors: [expect.objectContaining({ field: 'email', code: 'INVALID_FIELD' })] });
    expect(res.body.results[2].error).toMatchObject({ code: 'MISSING_REQUIRED_FIELD', errors: [{ field: 'email', code: 'MISSING_REQUIRED_FIELD' }] });
    const found = await t.call('GET', '/v1/tenants/acme/users?email=b4@example.com');
    expect(found.body.users[0].id).toBe(res.body.results[3].user.id);
  });

  it('reports duplicates against stored users and within the batch; the first occurrence wins', async () => {
    expect((await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'stored@example.com' } })).status).toBe(201);
    const res = await batch('acme', {
      users: [
        { email: 'stored@example.com' },
        { email: 'dup@example.com' },
        { email: 'DUP@example.com' },
        { email: 'other@example.com', userName: 'dup@example.com' },
        { email: 'named@example.com', userName: 'Shared' },
        { email: 'named2@example.com', userName: 'shared' },
      ],
    });
    expect(res.status).toBe(200);
    const codes = res.body.results.map((r: { status: string; error?: { code: string } }) => r.error?.code ?? r.status);
    expect(codes).toEqual(['DUPLICATE_EMAIL', 'created', 'DUPLICATE_EMAIL', 'DUPLICATE_USERNAME', 'created', 'DUPLICATE_USERNAME']);
    expect(res.body).toMatchObject({ totalProcessed: 6, successCount: 2, failureCount: 4 });
  });

  it('writes nothing on a dry run but still reports duplicates', async () => {
    expect((await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'dry-stored@example.com' } })).status).toBe(201);
    const before = await countUsers('acme');
    const res = await batch('acme', { users: [{ email: 'dry1@example.com' }, { email: 'dry-stored@example.com' }, { email: 'dry1@example.com' }] }, '?dryRun=true');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ dryRun: true, totalProcessed: 3, successCount: 1, failureCount: 2 });
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(['valid', 'failed', 'failed']);
    expect(res.body.results[0]).not.toHaveProperty('user');
    expect(await countUsers('acme')).toBe(before);
  });

  it('reports seats on a dry run', async () => {
    await createTenant(t, { id: 'dry-seats', seatLimit: 2 });
    const res = await batch('dry-seats', { users: [{ email: 'a@example.com' }, { email: 'b@example.com' }, { email: 'c@example.com' }] }, '?dryRun=true');
    expect(res.body.results.map((r: { status: string; error?: { code: string } }) => r.error?.code ?? r.status)).toEqual(['valid', 'valid', 'SEAT_LIMIT_EXCEEDED']);
    expect(await countUsers('dry-seats')).toBe(0);
    expect((await t.call('GET', '/v1/tenants/dry-seats')).body.seatsUsed).toBe(0);
  });

  it('creates all of an atomic batch when every user is valid', async () => {
    const res = await batch('acme', { atomic: true, users: [{ email: 'at1@example.com' }, { email: 'at2@example.com' }] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ successCount: 2, failureCount: 0 });
    expect(res.body.results.every((r: { status: string }) => r.status === 'created')).toBe(true);
  });

  it('refuses a whole atomic batch with 422 and the report when one user fails, writing nothing', async () => {
    expect((await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'at-stored@example.com' } })).status).toBe(201);
    const before = await countUsers('acme');
    const res = await batch('acme', { atomic: true, users: [{ email: 'at3@example.com' }, { email: 'at-stored@example.com' }, { email: 'at4@example.com' }] });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.body).toMatchObject({ totalProcessed: 3, successCount: 0, failureCount: 1, dryRun: false });
    expect(res.body.results[1]).toMatchObject({ index: 1, status: 'failed', error: { code: 'DUPLICATE_EMAIL' } });
    expect(res.body.results.filter((r: { user?: unknown }) => r.user)).toEqual([]);
    expect(await countUsers('acme')).toBe(before);
    expect((await t.call('GET', '/v1/tenants/acme/users?email=at3@example.com')).body.users).toEqual([]);
  });

  it('refuses a whole atomic batch that does not fit in the seats', async () => {
    await createTenant(t, { id: 'atomic-seats', seatLimit: 2 });
    const res = await batch('atomic-seats', { atomic: true, users: [{ email: 'a@example.com' }, { email: 'b@example.com' }, { email: 'c@example.com' }] });
    expect(res.status).toBe(422);
    expect(res.body.results[2].error.code).toBe('SEAT_LIMIT_EXCEEDED');
    expect(await countUsers('atomic-seats')).toBe(0);
    expect((await t.call('GET', '/v1/tenants/atomic-seats')).body.seatsUsed).toBe(0);
  });

  it('creates the users that fit and fails the rest with SEAT_LIMIT_EXCEEDED', async () => {
    await createTenant(t, { id: 'seats', seatLimit: 3 });
    await t.call('POST', '/v1/tenants/seats/users', { body: { email: 'first@example.com' } });
    const res = await batch('seats', { users: [{ email: 'a@example.com' }, { email: 'bad' }, { email: 'b@example.com' }, { email: 'c@example.com' }, { email: 'd@example.com' }] });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { status: string; error?: { code: string } }) => r.error?.code ?? r.status)).toEqual([
      'created',
      'INVALID_FIELD',
      'created',
      'SEAT_LIMIT_EXCEEDED',
      'SEAT_LIMIT_EXCEEDED',
    ]);
    expect(await countUsers('seats')).toBe(3);
    expect((await t.call('GET', '/v1/tenants/seats')).body.seatsUsed).toBe(3);
  });

  it('accepts exactly 1000 users', async () => {
    await createTenant(t, { id: 'thousand' });
    const users = Array.from({ length: 1000 }, (_, i) => ({ email: `u${i}@example.com` }));
    const res = await batch('thousand', { users });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ totalProcessed: 1000, successCount: 1000, failureCount: 0 });
    expect(res.body.results[999]).toMatchObject({ index: 999, status: 'created', user: { email: 'u999@example.com' } });
    expect(await countUsers('thousand')).toBe(1000);
  });

  it('refuses more than 1000 users with 413 BATCH_TOO_LARGE and processes none', async () => {
    await createTenant(t, { id: 'too-many' });
    const users = Array.from({ length: 1001 }, (_, i) => ({ email: `u${i}@example.com` }));
    expectProblem(await batch('too-many', { users }), 413, 'BATCH_TOO_LARGE');
    expectProblem(await batch('too-many', { users }, '?dryRun=true'), 413, 'BATCH_TOO_LARGE');
    expect(await countUsers('too-many')).toBe(0);
  });

  it('accepts an empty batch', async () => {
    const res = await batch('acme', { users: [] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ totalProcessed: 0, successCount: 0, failureCount: 0, results: [] });
  });

  it('refuses a body that is not a batch envelope', async () => {
    expect(expectProblem(await batch('acme', { atomic: true }), 400, 'MISSING_REQUIRED_FIELD').errors[0].field).toBe('users');
    expectProblem(await batch('acme', { users: 'everyone' }), 400, 'INVALID_FIELD');
    expectProblem(await batch('acme', [{ email: 'x@example.com' }]), 400, 'INVALID_FIELD');
    expect(expectProblem(await batch('acme', { users: [], extra: 1 }), 400, 'INVALID_FIELD').errors[0].field).toBe('extra');
  });

  it('fails a record that is not an object on its own', async () => {
    const res = await batch('acme', { users: [null, 'text', { email: 'solo@example.com' }] });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(['failed', 'failed', 'created']);
    expect(res.body.results[0].error.code).toBe('INVALID_FIELD');
  });

  it('hashes the passwords of a batch and never returns them', async () => {
    const res = await batch('acme', {
      users: [
        { email: 'pw1@example.com', password: 'quiet-meadow-73' },
        { email: 'pw2@example.com', password: '123456' },
      ],
    });
    expect(res.body.results.map((r: { status: string; error?: { code: string } }) => r.error?.code ?? r.status)).toEqual(['created', 'PASSWORD_TOO_WEAK']);
    expect(res.body.results[0].user.hasPassword).toBe(true);
    expect(res.text).not.toContain('quiet-meadow-73');
    expect(res.text).not.toContain('123456');
  });
});
