/** POST /v1/tenants/{tenant}/users/{id}/invitation: a new code for a user without a password; the old one stops working. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './helpers/databases.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

const TOKEN_PATTERN = /inv_[A-Za-z0-9_-]{43}/;

describe.each(DATABASES)('resending an invitation on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
    expect((await t.call('POST', '/v1/tenants', { body: { id: 'acme', name: 'Acme' } })).status).toBe(201);
    expect((await t.call('POST', '/v1/tenants', { body: { id: 'other', name: 'Other' } })).status).toBe(201);
    expect((await t.call('PUT', '/v1/tenants/acme/roles/owners', { body: { admin: true } })).status).toBeLessThan(300);
  });
  afterAll(async () => t?.close());

  async function key(role: string, tenant = 'acme'): Promise<string> {
    const res = await t.call('POST', `/v1/tenants/${tenant}/api-keys`, { body: { name: `${role} key`, role } });
    expect(res.status).toBe(201);
    return res.body.token;
  }

  async function messagesOf(userId: string) {
    return (await t.call('GET', `/v1/tenants/acme/messages?userId=${userId}`)).body.messages as { id: string; status: string; text: string; kind: string }[];
  }

  const accept = (token: string) => t.call('POST', '/v1/invitations/accept', { token: null, body: { token, password: 'a long enough passphrase 77' } });

  it('sends a new code, and the old one no longer redeems', async () => {
    const created = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'nia@example.com' } });
    const id = created.body.id as string;
    const [first] = await messagesOf(id);
    const oldCode = TOKEN_PATTERN.exec(first!.text)![0];

    const res = await t.call('POST', `/v1/tenants/acme/users/${id}/invitation`, { token: await key('user-manager') });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ userId: id });
    expect(res.text).not.toMatch(TOKEN_PATTERN);

    const messages = await messagesOf(id);
    const resent = messages.find((m) => m.id === res.body.messageId)!;
    expect(resent.kind).toBe('invitation');
    expect(resent.status).toBe('pending');
    const newCode = TOKEN_PATTERN.exec(resent.text)![0];
    expect(newCode).not.toBe(oldCode);
    // The first message is cancelled, its code taken out of the stored copy.
    const old = messages.find((m) => m.id === first!.id)!;
    expect(old.status).toBe('cancelled');
    expect(old.text).not.toContain(oldCode);

    expect((await accept(oldCode)).status).toBeGreaterThanOrEqual(400);
    expect((await accept(newCode)).status).toBe(200);

    const audit = await t.call('GET', `/v1/tenants/acme/audit?resourceId=${id}&action=user.updated`);
    expect(audit.body.events.some((e: { detail: Record<string, unknown> }) => e.detail.invitation === 'resent')).toBe(true);
  });

  it('refuses a user who has a password (409), a reader (403), another tenant (404) and an unknown user (404)', async () => {
    const withPassword = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'has.password@example.com', password: 'correct horse battery 42' } });
    const refused = await t.call('POST', `/v1/tenants/acme/users/${withPassword.body.id}/invitation`);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('CONFLICT');

    const invited = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'someone@example.com' } });
    const before = await messagesOf(invited.body.id);
    const reader = await t.call('POST', `/v1/tenants/acme/users/${invited.body.id}/invitation`, { token: await key('reader') });
    expect(reader.status).toBe(403);
    const stranger = await t.call('POST', `/v1/tenants/acme/users/${invited.body.id}/invitation`, { token: await key('tenant-admin', 'other') });
    expect(stranger.status).toBe(404);
    expect(await messagesOf(invited.body.id)).toEqual(before);

    const unknown = await t.call('POST', '/v1/tenants/acme/users/0190e1f2-aaaa-7bbb-8ccc-123456789abc/invitation');
    expect(unknown.status).toBe(404);
    const malformed = await t.call('POST', '/v1/tenants/acme/users/not-a-user-id/invitation');
    expect(malformed.status).toBe(404);
  });

  it('lets only a global admin re-invite a holder of an admin role', async () => {
    const owner = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'owner@example.com', roles: ['owners'] } });
    expect(owner.status).toBe(201);
    const byTenantAdmin = await t.call('POST', `/v1/tenants/acme/users/${owner.body.id}/invitation`, { token: await key('tenant-admin') });
    expect(byTenantAdmin.status).toBe(403);
    expect(byTenantAdmin.body.code).toBe('ADMIN_ROLE_FORBIDDEN');
    expect((await t.call('POST', `/v1/tenants/acme/users/${owner.body.id}/invitation`)).status).toBe(202);
  });
});
