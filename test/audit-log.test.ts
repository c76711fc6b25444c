/**
 * The audit log: every create, change and delete of a user, tenant or API key is recorded —
 * who (the key), what (action, resource, tenant), when, through which API and in which
 * request — in the transaction of the change, and read at GET /v1/tenants/{tenant}/audit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './helpers/databases.js';
import { createTenant, expectProblem, issueKey, type IssuedKey } from './helpers/native-fixtures.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

interface Event {
  id: string;
  tenant: string;
  action: string;
  resource: { type: string; id: string };
  actor: { keyId: string; role: string };
  dialect: string | null;
  requestId: string | null;
  detail: Record<string, unknown>;
  at: string;
}

describe.each(DATABASES)('audit log on %s', (kind) => {
  let t: TestApp;
  let admin: IssuedKey;
  let appKey: string;

  beforeAll(async () => {
    t = await startTestApp(kind);
    appKey = (await createTenant(t, { id: 'audited' })).appKey;
    await t.call('PUT', '/v1/tenants/audited/roles/staff', { body: { description: 'Staff' } });
    admin = await issueKey(t, 'audited', 'tenant-admin');
  });
  afterAll(async () => t?.close());

  async function events(query = '', token = admin.token): Promise<Event[]> {
    const res = await t.call('GET', `/v1/tenants/audited/audit${query}`, { token });
    expect(res.status, res.text).toBe(200);
    return res.body.events;
  }

  async function auditRows(where: { action?: string; resourceId?: string } = {}): Promise<number> {
    let q = t.db.kysely.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', 'audited');
    if (where.action) q = q.where('action', '=', where.action);
    if (where.resourceId) q = q.where('resource_id', '=', where.resourceId);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  it('records tenant creation and changes, key issue and revocation, with the acting key', async () => {
    const tenantEvents = await events('?action=tenant.created');
    expect(tenantEvents).toEqual([expect.objectContaining({ tenant: 'audited', action: 'tenant.created', resource: { type: 'tenant', id: 'audited' }, actor: { keyId: 'bootstrap', role: 'global-admin' }, dialect: 'native' })]);
    const patched = await t.call('PATCH', '/v1/tenants/audited', { token: admin.token, headers: { 'x-request-id': 'req-tenant-change' }, body: { passwordPolicy: { minLength: 10 } } });
    expect(patched.status).toBe(200);
    const [changed] = await events('?action=tenant.updated');
    expect(changed).toMatchObject({ resource: { type: 'tenant', id: 'audited' }, actor: { keyId: admin.id, role: 'tenant-admin' }, requestId: 'req-tenant-change', detail: { fields: ['passwordPolicy'] } });
    const reader = await issueKey(t, 'audited', 'reader', admin.token);
    expect(await t.call('DELETE', `/v1/tenants/audited/api-keys/${reader.id}`, { token: admin.token })).toMatchObject({ status: 204 });
    const keyEvents = await events(`?resourceId=${reader.id}`);
    expect(keyEvents.map((e) => [e.action, e.actor.keyId, e.detail.role])).toEqual([
      ['api-key.revoked', admin.id, 'reader'],
      ['api-key.issued', admin.id, 'reader'],
    ]);
    // A revocation that revokes nothing records nothing.
    await t.call('DELETE', `/v1/tenants/audited/api-keys/${reader.id}`, { token: admin.token });
    expect(await auditRows({ resourceId: reader.id })).toBe(2);
  });

  it('records each user created through every API, with its dialect and request id', async () => {
    const token = admin.token;
    const h = (id: string) => ({ 'x-request-id': id });
    const created: [string, string, Promise<{ status: number }>][] = [
      ['native', 'req-native', t.call('POST', '/v1/tenants/audited/users', { token, headers: h('req-native'), body: { email: 'native@example.com' } })],
      ['native', 'req-native-batch', t.call('POST', '/v1/tenants/audited/users/batch', { token, headers: h('req-native-batch'), body: { users: [{ email: 'nb@example.com' }] } })],
      ['batch', 'req-batch', t.call('POST', '/compat/batch/users', { token, headers: h('req-batch'), body: [{ email: 'batch@example.com' }] })],
      ['simple', 'req-simple', t.call('POST', '/compat/simple/users', { token, headers: h('req-simple'), body: { firstName: 'S', lastName: 'Imple', contactEmail: 'simple@example.com' } })],
      ['account', 'req-account', t.call('POST', '/api/account/audited/configuration/le-users/users?v=4.0', { token, headers: h('req-account'), body: [{ email: 'account@example.com' }] })],
      ['provisioning', 'req-prov', t.call('POST', '/provisioning/users.svc/', { token, headers: h('req-prov'), body: [{ EmailAddress: 'prov@example.com', FirstName: 'P', Password: 'Quartz-Lantern-8841' }] })],
      ['app', 'req-app', t.call('POST', `/${appKey}/users`, { token, headers: h('req-app'), body: { userName: 'app', email: 'app@example.com', autoCreatePassword: true } })],
    ];
    for (const [, , response] of created) expect((await response).status).toBeLessThan(300);
    const recorded = await events('?action=user.created&limit=200');
    for (const [dialect, requestId] of created) {
      const event = recorded.find((e) => e.requestId === requestId);
      expect(event, requestId).toMatchObject({ tenant: 'audited', action: 'user.created', resource: { type: 'user' }, actor: { keyId: admin.id, role: 'tenant-admin' }, dialect });
      expect(Date.parse(event!.at)).toBeGreaterThan(Date.now() - 60_000);
      const user = await t.call('GET', `/v1/tenants/audited/users/${event!.resource.id}`, { token });
      expect(user.status).toBe(200);
    }
  });

  it('records changes and deletes of users, naming the fields changed but never a password', async () => {
    const token = admin.token;
    const user = (await t.call('POST', '/v1/tenants/audited/users', { token, body: { email: 'changing@example.com' } })).body;
    const patch = await t.call('PATCH', `/v1/tenants/audited/users/${user.id}`, { token, headers: { 'if-match': '"1"', 'x-request-id': 'req-patch' }, body: { name: { givenName: 'Changed' }, password: 'Quartz-Lantern-9932' } });
    expect(patch.status).toBe(200);
    // A refused change (stale ETag) records nothing.
    expect((await t.call('PATCH', `/v1/tenants/audited/users/${user.id}`, { token, headers: { 'if-match': '"1"' }, body: { lockedOut: true } })).status).toBe(412);
    expect((await t.call('DELETE', `/v1/tenants/audited/users/${user.id}`, { token, headers: { 'x-request-id': 'req-delete' } })).status).toBe(204);
    const history = await events(`?resourceId=${user.id}`);
    expect(history.map((e) => [e.action, e.requestId])).toEqual([
      ['user.deleted', 'req-delete'],
      ['user.updated', 'req-patch'],
      ['user.created', expect.any(String)],
    ]);
    expect(history[1]!.detail).toEqual({ fields: ['name', 'password'] });
    const raw = JSON.stringify(await t.db.kysely.selectFrom('audit_events').selectAll().execute());
    expect(raw).not.toMatch(/Quartz-Lantern|\$argon2/);
  });

  it('records a password set by accepting an invitation, naming the invitation as the actor', async () => {
    const invited = (await t.call('POST', '/v1/tenants/audited/users', { token: admin.token, body: { email: 'invitee@example.com' } })).body;
    const { secret } = await t.db.kysely.selectFrom('email_messages').select('secret').where('user_id', '=', invited.id).executeTakeFirstOrThrow();
    const accepted = await t.call('POST', '/v1/invitations/accept', { token: null, headers: { 'x-request-id': 'req-accept' }, body: { token: secret, password: 'Quartz-Lantern-7710' } });
    expect(accepted.status).toBe(200);
    const [event] = await events(`?resourceId=${invited.id}&action=user.updated`);
    expect(event).toMatchObject({ actor: { keyId: expect.stringMatching(/^invitation:/), role: 'invitee' }, dialect: 'native', requestId: 'req-accept', detail: { fields: ['password'] } });
    // A second use is refused and records nothing.
    expect((await t.call('POST', '/v1/invitations/accept', { token: null, body: { token: secret, password: 'Quartz-Lantern-7711' } })).status).toBe(410);
    expect(await events(`?resourceId=${invited.id}&action=user.updated`)).toHaveLength(1);
  });

  it('records nothing for a change that is rolled back or never written', async () => {
    const token = admin.token;
    expect((await t.call('POST', '/v1/tenants/audited/users', { token, body: { email: 'rollback-stored@example.com' } })).status).toBe(201);
    const before = await auditRows({ action: 'user.created' });
    // An atomic batch refused because one record is a duplicate: none of it is written, nor audited.
    const atomic = await t.call('POST', '/v1/tenants/audited/users/batch', { token, body: { atomic: true, users: [{ email: 'fresh1@example.com' }, { email: 'rollback-stored@example.com' }] } });
    expect(atomic.status).toBe(422);
    const account = await t.call('POST', '/api/account/audited/configuration/le-users/users?v=4.0', { token, body: [{ email: 'fresh2@example.com' }, { email: 'not-an-email' }] });
    expect(account.status).toBe(400);
    const dryRun = await t.call('POST', '/v1/tenants/audited/users?dryRun=true', { token, body: { email: 'fresh3@example.com' } });
    expect(dryRun.status).toBe(200);
    expect(await auditRows({ action: 'user.created' })).toBe(before);
    const users = await t.db.kysely.selectFrom('users').select('email_key').where('email_key', 'in', ['fresh1@example.com', 'fresh2@example.com', 'fresh3@example.com']).execute();
    expect(users).toEqual([]);
  });

  it('filters by action, actor, resource and time, and pages with a cursor', async () => {
    // Changes of its own by two actors: users created by the tenant admin and by the bootstrap token, one deleted.
    const made: string[] = [];
    for (let i = 0; i < 6; i++) made.push((await t.call('POST', '/v1/tenants/audited/users', { token: admin.token, body: { email: `filtered${i}@example.com` } })).body.id);
    for (let i = 6; i < 9; i++) made.push((await t.call('POST', '/v1/tenants/audited/users', { body: { email: `filtered${i}@example.com` } })).body.id);
    expect((await t.call('DELETE', `/v1/tenants/audited/users/${made[0]}`, { token: admin.token })).status).toBe(204);
    const all = await events('?limit=200');
    expect(all.length).toBeGreaterThan(10);
    // Newest first (in the order the changes were committed).
    expect(all[0]!.at >= all[all.length - 1]!.at).toBe(true);
    const deleted = await events('?action=user.deleted');
    expect(deleted.length).toBeGreaterThan(0);
    expect(deleted.every((e) => e.action === 'user.deleted')).toBe(true);
    expect(deleted.some((e) => e.resource.id === made[0])).toBe(true);
    expect((await events('?actor=bootstrap&limit=200')).every((e) => e.actor.keyId === 'bootstrap')).toBe(true);
    expect((await events(`?actor=${admin.id}&limit=200`)).length).toBe(all.filter((e) => e.actor.keyId === admin.id).length);
    const middle = all[Math.floor(all.length / 2)]!.at;
    const since = await events(`?since=${encodeURIComponent(middle)}&limit=200`);
    const until = await events(`?until=${encodeURIComponent(middle)}&limit=200`);
    expect(since.every((e) => e.at >= middle) && until.every((e) => e.at < middle)).toBe(true);
    expect(since.length + until.length).toBe(all.length);
    // Pages of three cover everything once, in order.
    const paged: Event[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const res = await t.call('GET', `/v1/tenants/audited/audit?limit=3${cursor ? `&cursor=${cursor}` : ''}`, { token: admin.token });
      expect(res.body.events.length).toBeLessThanOrEqual(3);
      paged.push(...res.body.events);
      cursor = res.body.nextCursor;
    }
    expect(paged.map((e) => e.id)).toEqual(all.map((e) => e.id));
    expectProblem(await t.call('GET', '/v1/tenants/audited/audit?cursor=bm90LWEtbnVtYmVy', { token: admin.token }), 400, 'INVALID_FIELD');
    expectProblem(await t.call('GET', '/v1/tenants/audited/audit?action=user.exploded', { token: admin.token }), 400, 'INVALID_FIELD');
  });

  it('shows the log to tenant admins and above only, and never another tenant’s', async () => {
    for (const role of ['reader', 'user-manager'] as const) {
      const key = await issueKey(t, 'audited', role);
      expectProblem(await t.call('GET', '/v1/tenants/audited/audit', { token: key.token }), 403, 'FORBIDDEN');
    }
    await createTenant(t, { id: 'elsewhere' });
    const other = await issueKey(t, 'elsewhere', 'tenant-admin');
    expectProblem(await t.call('GET', '/v1/tenants/audited/audit', { token: other.token }), 404, 'NOT_FOUND');
    const theirs = await t.call('GET', '/v1/tenants/elsewhere/audit', { token: other.token });
    expect(theirs.body.events.every((e: Event) => e.tenant === 'elsewhere')).toBe(true);
    expect((await t.call('GET', '/v1/tenants/audited/audit')).status).toBe(200);
  });

  it('writes the event in the transaction of the change: when the event cannot be written, the change is not made', async () => {
    const broken = await startTestApp(kind);
    try {
      await createTenant(broken, { id: 'atomic-audit' });
      await broken.db.kysely.schema.alterTable('audit_events').renameTo('audit_events_elsewhere').execute();
      expect((await broken.call('POST', '/v1/tenants/atomic-audit/users', { body: { email: 'lost@example.com' } })).status).toBe(500);
      expect((await broken.call('PATCH', '/v1/tenants/atomic-audit', { body: { name: 'Never' } })).status).toBe(500);
      expect((await broken.call('POST', '/v1/tenants/atomic-audit/api-keys', { body: { name: 'never', role: 'reader' } })).status).toBe(500);
      const k = broken.db.kysely;
      expect(await k.selectFrom('users').selectAll().execute()).toEqual([]);
      expect((await k.selectFrom('tenants').select('name').where('id', '=', 'atomic-audit').executeTakeFirstOrThrow()).name).not.toBe('Never');
      expect(await k.selectFrom('api_keys').selectAll().where('tenant_id', '=', 'atomic-audit').execute()).toEqual([]);
      expect(Number((await k.selectFrom('tenants').select('user_count').where('id', '=', 'atomic-audit').executeTakeFirstOrThrow()).user_count)).toBe(0);
    } finally {
      await broken.close();
    }
  });
});
