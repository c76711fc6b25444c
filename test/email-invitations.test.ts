import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './helpers/databases.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

const TOKEN_PATTERN = /inv_[A-Za-z0-9_-]{43}/;

describe.each(DATABASES)('invitations on %s', (kind) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(kind);
    await t.call('POST', '/v1/tenants', {
      body: { id: 'acme', name: 'Acme', passwordPolicy: { minLength: 12, requireDigit: true } },
    });
  });
  afterAll(async () => t.close());

  /** Creates a user without a password and returns it with the invitation code from its email. */
  async function invite(email: string): Promise<{ id: string; token: string }> {
    const res = await t.call('POST', '/v1/tenants/acme/users', { body: { email } });
    expect(res.status).toBe(201);
    const messages = (await t.call('GET', `/v1/tenants/acme/messages?userId=${res.body.id}`)).body.messages;
    return { id: res.body.id, token: TOKEN_PATTERN.exec(messages[0].text)![0] };
  }

  const accept = (body: unknown) => t.call('POST', '/v1/invitations/accept', { token: null, body });

  async function passwordHash(userId: string) {
    const row = await t.db.kysely.selectFrom('users').select(['password_hash', 'revision']).where('id', '=', userId).executeTakeFirstOrThrow();
    return row;
  }

  it('sets the password of the invited user, with no credential but the token', async () => {
    const { id, token } = await invite('ada@example.com');
    expect((await passwordHash(id)).password_hash).toBeNull();
    const res = await accept({ token, password: 'analytical engine 1843' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'accepted', tenant: 'acme', userId: id, userName: 'ada@example.com' });
    expect(res.text).not.toContain(token);
    expect(res.text).not.toContain('analytical engine 1843');

    const stored = await passwordHash(id);
    expect(stored.revision).toBe(2);
    expect(stored.password_hash).toMatch(/^\$argon2id\$/);
    expect(await t.core.hasher.verify(stored.password_hash!, 'analytical engine 1843')).toBe(true);
    const user = await t.call('GET', `/v1/tenants/acme/users/${id}`);
    expect(user.body.hasPassword).toBe(true);
    expect(user.headers.get('etag')).toBe('"2"');
  });

  it('refuses a token used once already', async () => {
    const { token } = await invite('grace@example.com');
    expect((await accept({ token, password: 'compiler pioneer 1952' })).status).toBe(200);
    const again = await accept({ token, password: 'another password 2024' });
    expect(again.status).toBe(410);
    expect(again.body.code).toBe('INVITATION_USED');
    expect(again.headers.get('content-type')).toContain('application/problem+json');
    expect(again.text).not.toContain(token);
  });

  it('refuses an expired token, and leaves the password unset', async () => {
    const { id, token } = await invite('late@example.com');
    await t.db.kysely.updateTable('invitations').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('user_id', '=', id).execute();
    const res = await accept({ token, password: 'too late for this 1' });
    expect(res.status).toBe(410);
    expect(res.body.code).toBe('INVITATION_EXPIRED');
    expect((await passwordHash(id)).password_hash).toBeNull();
  });

  it('refuses an unknown token without telling anything about real ones', async () => {
    const res = await accept({ token: `inv_${'A'.repeat(43)}`, password: 'whatever it is 12' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('INVITATION_INVALID');
  });

  it("checks the password against the tenant's policy and keeps the invitation usable after a refusal", async () => {
    const { id, token } = await invite('weak@example.com');
    const short = await accept({ token, password: 'short1' });
    expect(short.status).toBe(400);
    expect(short.body.code).toBe('PASSWORD_TOO_WEAK');
    expect(short.text).not.toContain('short1');
    const noDigit = await accept({ token, password: 'no digits in here at all' });
    expect(noDigit.body.code).toBe('PASSWORD_TOO_WEAK');
    const personal = await accept({ token, password: 'weak@example.com-1234' });
    expect(personal.body.code).toBe('PASSWORD_TOO_WEAK');
    const mismatch = await accept({ token, password: 'a good password 42', confirmPassword: 'a good password 43' });
    expect(mismatch.body.code).toBe('PASSWORD_MISMATCH');
    expect((await passwordHash(id)).password_hash).toBeNull();
    expect((await accept({ token, password: 'a good password 42', confirmPassword: 'a good password 42' })).status).toBe(200);
  });

  it('validates the body: both fields required, nothing else allowed, JSON only', async () => {
    expect((await accept({ password: 'a good password 42' })).body.code).toBe('MISSING_REQUIRED_FIELD');
    expect((await accept({ token: 'x' })).body.code).toBe('MISSING_REQUIRED_FIELD');
    expect((await accept({ token: 'x', password: 'a good password 42', role: 'admin' })).body.code).toBe('INVALID_FIELD');
    const text = await t.call('POST', '/v1/invitations/accept', { token: null, raw: 'token=x', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
  });

  it('lets only one of two simultaneous redemptions of one token through', async () => {
    const { id, token } = await invite('race@example.com');
    const results = await Promise.all([accept({ token, password: 'first of the two 1' }), accept({ token, password: 'second of the two 2' })]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 410]);
    const winner = results.find((r) => r.status === 200)!;
    expect(winner.body.userId).toBe(id);
    expect(results.find((r) => r.status === 410)!.body.code).toBe('INVITATION_USED');
    expect((await passwordHash(id)).revision).toBe(2);
  });

  it('stops working when its user is deleted', async () => {
    const { id, token } = await invite('gone@example.com');
    expect((await t.call('DELETE', `/v1/tenants/acme/users/${id}`)).status).toBe(204);
    const res = await accept({ token, password: 'nobody to set 123' });
    expect(res.body.code).toBe('INVITATION_INVALID');
    expect((await t.call('GET', `/v1/tenants/acme/messages?userId=${id}`)).body.messages).toEqual([]);
  });

  it('never writes a token or password to the log', async () => {
    const lines: string[] = [];
    const logged = await startTestApp(kind, {
      logger: { level: 'trace', stream: { write: (line: string) => lines.push(line) } } as never,
    });
    try {
      await logged.call('POST', '/v1/tenants', { body: { id: 'acme', name: 'Acme' } });
      const user = await logged.call('POST', '/v1/tenants/acme/users', { body: { email: 'log@example.com' } });
      const messages = await logged.call('GET', `/v1/tenants/acme/messages?userId=${user.body.id}`);
      const token = TOKEN_PATTERN.exec(messages.body.messages[0].text)![0];
      await logged.call('POST', '/v1/invitations/accept', { token: null, body: { token, password: 'logged nowhere 2024' } });
      await logged.call('POST', '/v1/invitations/accept', { token: null, body: { token, password: 'logged nowhere 2024' } });
      expect(lines.length).toBeGreaterThan(0);
      const log = lines.join('\n');
      expect(log).not.toContain(token);
      expect(log).not.toContain('logged nowhere 2024');
    } finally {
      await logged.close();
    }
  });
});
