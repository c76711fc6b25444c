import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './helpers/databases.js';
import { createTenant, issueKey } from './helpers/native-fixtures.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

describe.each(DATABASES)('concurrent requests on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => t.close());

  async function rows(tenant: string, where: { emailKey?: string } = {}): Promise<number> {
    let q = t.db.kysely.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenant);
    if (where.emailKey) q = q.where('email_key', '=', where.emailKey);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  async function seatsUsed(tenant: string): Promise<number> {
    return (await t.call('GET', `/v1/tenants/${tenant}`)).body.seatsUsed;
  }

  it('lets exactly one of 20 concurrent creates of one email win; the others get 409', async () => {
    await createTenant(t, { id: 'race-email' });
    const spellings = ['same@example.com', 'SAME@example.com', 'Same@Example.com', 'ｓａｍｅ@example.com'];
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => t.call('POST', '/v1/tenants/race-email/users', { body: { email: spellings[i % spellings.length] } })),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    expect(responses.filter((r) => r.status === 409).every((r) => r.body.code === 'DUPLICATE_EMAIL')).toBe(true);
    expect(await rows('race-email', { emailKey: 'same@example.com' })).toBe(1);
    expect(await seatsUsed('race-email')).toBe(1);
  });

  it('lets exactly one of 20 concurrent creates of one user name win', async () => {
    await createTenant(t, { id: 'race-name' });
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => t.call('POST', '/v1/tenants/race-name/users', { body: { email: `n${i}@example.com`, userName: i % 2 ? 'Shared' : 'SHARED' } })),
    );
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 409 && r.body.code === 'DUPLICATE_USERNAME')).toHaveLength(19);
    expect(await rows('race-name')).toBe(1);
  });

  it('never creates the same email twice when concurrent batches overlap', async () => {
    await createTenant(t, { id: 'race-batch' });
    const users = (offset: number) => Array.from({ length: 30 }, (_, i) => ({ email: `u${(i + offset) % 40}@example.com` }));
    const responses = await Promise.all([0, 10, 20, 5].map((offset) => t.call('POST', '/v1/tenants/race-batch/users/batch', { body: { users: users(offset) } })));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const created = responses.reduce((n, r) => n + r.body.successCount, 0);
    const failures = responses.flatMap((r) => r.body.results.filter((x: { status: string }) => x.status === 'failed'));
    expect(failures.every((f: { error: { code: string } }) => f.error.code === 'DUPLICATE_EMAIL')).toBe(true);
    expect(created).toBe(40);
    expect(created + failures.length).toBe(120);
    expect(await rows('race-batch')).toBe(40);
    expect(await seatsUsed('race-batch')).toBe(40);
  });

  it('never exceeds the seat limit when two batches race for the last seats', async () => {
    await createTenant(t, { id: 'race-seats', seatLimit: 15 });
    await t.call('POST', '/v1/tenants/race-seats/users/batch', { body: { users: Array.from({ length: 5 }, (_, i) => ({ email: `early${i}@example.com` })) } });
    const batch = (prefix: string) => ({ users: Array.from({ length: 8 }, (_, i) => ({ email: `${prefix}${i}@example.com` })) });
    const [a, b] = await Promise.all([
      t.call('POST', '/v1/tenants/race-seats/users/batch', { body: batch('a') }),
      t.call('POST', '/v1/tenants/race-seats/users/batch', { body: batch('b') }),
    ]);
    expect(a!.status).toBe(200);
    expect(b!.status).toBe(200);
    const created = a!.body.successCount + b!.body.successCount;
    const refused = a!.body.failureCount + b!.body.failureCount;
    expect(created).toBe(10);
    expect(refused).toBe(6);
    const seatFailures = [...a!.body.results, ...b!.body.results].filter((r: { status: string }) => r.status === 'failed');
    expect(seatFailures.every((r: { error: { code: string } }) => r.error.code === 'SEAT_LIMIT_EXCEEDED')).toBe(true);
    expect(await rows('race-seats')).toBe(15);
    expect(await seatsUsed('race-seats')).toBe(15);
    const listed = await t.call('GET', '/v1/tenants/race-seats/users?limit=200');
    const reported = [...a!.body.results, ...b!.body.results].filter((r: { status: string }) => r.status === 'created').map((r: { user: { id: string } }) => r.user.id);
    const stored = new Set(listed.body.users.map((u: { id: string }) => u.id));
    expect(reported.every((id: string) => stored.has(id))).toBe(true);
  });

  it('never exceeds the seat limit under many single creates at once', async () => {
    await createTenant(t, { id: 'race-single-seats', seatLimit: 7 });
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => t.call('POST', '/v1/tenants/race-single-seats/users', { body: { email: `s${i}@example.com` } })));
    expect(responses.filter((r) => r.status === 201)).toHaveLength(7);
    expect(responses.filter((r) => r.status === 402 && r.body.code === 'SEAT_LIMIT_EXCEEDED')).toHaveLength(13);
    expect(await rows('race-single-seats')).toBe(7);
    expect(await seatsUsed('race-single-seats')).toBe(7);
  });

  it('keeps an atomic batch all-or-nothing when it races another for the last seats', async () => {
    await createTenant(t, { id: 'race-atomic', seatLimit: 10 });
    const batch = (prefix: string, atomic: boolean) => ({ atomic, users: Array.from({ length: 6 }, (_, i) => ({ email: `${prefix}${i}@example.com` })) });
    const [a, b] = await Promise.all([
      t.call('POST', '/v1/tenants/race-atomic/users/batch', { body: batch('a', true) }),
      t.call('POST', '/v1/tenants/race-atomic/users/batch', { body: batch('b', true) }),
    ]);
    const outcomes = [a!, b!].map((r) => [r.status, r.body.successCount]);
    expect(outcomes).toContainEqual([200, 6]);
    expect(outcomes).toContainEqual([422, 0]);
    expect(await rows('race-atomic')).toBe(6);
    expect(await seatsUsed('race-atomic')).toBe(6);
  });

  it('writes creates that arrive together in one go, yet keeps each request its own key, request id, email and outcome', async () => {
    await createTenant(t, { id: 'race-group' });
    const [manager, admin] = [await issueKey(t, 'race-group', 'user-manager'), await issueKey(t, 'race-group', 'tenant-admin')];
    const requests = Array.from({ length: 40 }, (_, i) => ({
      key: i % 2 === 0 ? manager : admin,
      requestId: `group-${i}`,
      notify: i % 4 < 2,
      // Every tenth request repeats the email of the request before it.
      email: i % 10 === 9 ? `g${i - 1}@example.com` : `g${i}@example.com`,
    }));
    const responses = await Promise.all(
      requests.map((r) =>
        t.call('POST', `/v1/tenants/race-group/users${r.notify ? '' : '?notify=false'}`, { token: r.key.token, headers: { 'x-request-id': r.requestId }, body: { email: r.email } }),
      ),
    );
    expect(responses.filter((r) => r.status === 201)).toHaveLength(36);
    expect(responses.filter((r) => r.status === 409 && r.body.code === 'DUPLICATE_EMAIL')).toHaveLength(4);
    expect(await rows('race-group')).toBe(36);
    expect(await seatsUsed('race-group')).toBe(36);
    const audit = await t.call('GET', '/v1/tenants/race-group/audit?action=user.created&limit=100', { token: admin.token });
    const messages = await t.call('GET', '/v1/tenants/race-group/messages?limit=100', { token: admin.token });
    for (const [i, response] of responses.entries()) {
      if (response.status !== 201) continue;
      const events = audit.body.events.filter((e: { resource: { id: string } }) => e.resource.id === response.body.id);
      expect(events).toEqual([expect.objectContaining({ actor: { keyId: requests[i]!.key.id, role: requests[i]!.key.role }, requestId: requests[i]!.requestId, detail: { number: response.body.number } })]);
      const invitations = messages.body.messages.filter((m: { userId: string }) => m.userId === response.body.id);
      expect(invitations, requests[i]!.requestId).toHaveLength(requests[i]!.notify ? 1 : 0);
    }
    expect(new Set(responses.filter((r) => r.status === 201).map((r) => r.body.number)).size).toBe(36);
  });

  it('lets only one of two concurrent changes with the same ETag win', async () => {
    await createTenant(t, { id: 'race-patch' });
    const user = (await t.call('POST', '/v1/tenants/race-patch/users', { body: { email: 'p@example.com' } })).body;
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => t.call('PATCH', `/v1/tenants/race-patch/users/${user.id}`, { headers: { 'if-match': '"1"' }, body: { name: { givenName: `Writer ${i}` } } })),
    );
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 412)).toHaveLength(9);
    expect((await t.call('GET', `/v1/tenants/race-patch/users/${user.id}`)).body.revision).toBe(2);
  });
});
