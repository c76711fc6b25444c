import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUsers } from '../src/core/users/create-users.js';
import type { CoreDeps } from '../src/core/ports.js';
import { createUserWrites } from '../src/dependencies.js';
import { DATABASES } from './helpers/databases.js';
import { outboxRows } from './helpers/email.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

const TOKEN_PATTERN = /inv_[A-Za-z0-9_-]{43}/;
const GLOBAL_ADMIN = { keyId: 'bootstrap', role: 'global-admin', tenantId: null } as const;

describe.each(DATABASES)('email outbox on %s', (kind) => {
  let t: TestApp;
  let managerToken: string;
  let otherAdminToken: string;

  beforeAll(async () => {
    t = await startTestApp(kind);
    await t.call('POST', '/v1/tenants', { body: { id: 'acme', name: 'Acme & Sons' } });
    await t.call('POST', '/v1/tenants', { body: { id: 'globex', name: 'Globex' } });
    managerToken = (await t.call('POST', '/v1/tenants/acme/api-keys', { body: { name: 'hr', role: 'user-manager' } })).body.token;
    otherAdminToken = (await t.call('POST', '/v1/tenants/globex/api-keys', { body: { name: 'admin', role: 'tenant-admin' } })).body.token;
  });
  afterAll(async () => t.close());

  const messagesOf = async (userId: string) => (await t.call('GET', `/v1/tenants/acme/messages?userId=${userId}`)).body.messages as any[];

  it('writes a welcome message with the user when the user is created with a password', async () => {
    const res = await t.call('POST', '/v1/tenants/acme/users', {
      body: { email: 'ada@example.com', password: 'correct horse battery', name: { givenName: 'Ada', familyName: 'Lovelace' } },
    });
    expect(res.status).toBe(201);
    const list = await t.call('GET', `/v1/tenants/acme/messages?userId=${res.body.id}`);
    expect(list.status).toBe(200);
    expect(list.headers.get('cache-control')).toBe('no-store');
    expect(list.body.messages).toHaveLength(1);
    const [message] = list.body.messages;
    expect(message).toMatchObject({
      userId: res.body.id,
      kind: 'welcome',
      to: 'ada@example.com',
      subject: 'Welcome to Acme & Sons',
      status: 'pending',
      attempts: 0,
      lastError: null,
      sentAt: null,
    });
    expect(message.messageId).toMatch(/^<[0-9a-f-]{36}@muster\.invalid>$/);
    expect(message.text).toContain('Hello Ada Lovelace,');
    expect(message.text).toContain('Your user name is ada@example.com');
    expect(message.html).toContain('Acme &amp; Sons');
    expect(message.text).not.toContain('correct horse battery');
    expect(message.html).not.toContain('correct horse battery');
  });

  it('invites a user created without a password, with a token stored only as its hash', async () => {
    const res = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'grace@example.com', name: { givenName: 'Grace' } } });
    expect(res.status).toBe(201);
    expect(res.text).not.toMatch(TOKEN_PATTERN);
    const [message] = await messagesOf(res.body.id);
    expect(message.kind).toBe('invitation');
    expect(message.subject).toBe('You are invited to Acme & Sons');
    const token = TOKEN_PATTERN.exec(message.text)![0];
    expect(message.html).toContain(token);
    expect(message.text).toContain('/v1/invitations/accept');

    const invitations = await t.db.kysely.selectFrom('invitations').selectAll().where('user_id', '=', res.body.id).execute();
    expect(invitations).toHaveLength(1);
    expect(invitations[0]!.token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(invitations)).not.toContain(token);
    const hours = (Date.parse(invitations[0]!.expires_at) - Date.parse(invitations[0]!.created_at)) / 3_600_000;
    expect(hours).toBe(72);
  });

  it('invites a user whose password was generated, since nobody knows it', async () => {
    const res = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'gen@example.com', generatePassword: true } });
    expect(res.status).toBe(201);
    expect(res.body.hasPassword).toBe(true);
    const [message] = await messagesOf(res.body.id);
    expect(message.kind).toBe('invitation');
    expect(message.text).toMatch(TOKEN_PATTERN);
  });

  it('writes nothing for a dry run', async () => {
    const before = (await outboxRows(t.db)).length;
    const invitationsBefore = (await t.db.kysely.selectFrom('invitations').selectAll().execute()).length;
    const res = await t.call('POST', '/v1/tenants/acme/users?dryRun=true', { body: { email: 'dry@example.com' } });
    expect(res.status).toBe(200);
    const batch = await t.call('POST', '/v1/tenants/acme/users/batch?dryRun=true', { body: { users: [{ email: 'dry1@example.com' }, { email: 'dry2@example.com' }] } });
    expect(batch.body.successCount).toBe(2);
    expect(await outboxRows(t.db)).toHaveLength(before);
    expect(await t.db.kysely.selectFrom('invitations').selectAll().execute()).toHaveLength(invitationsBefore);
  });

  it('writes nothing when notify=false, neither message nor invitation', async () => {
    const res = await t.call('POST', '/v1/tenants/acme/users?notify=false', { body: { email: 'quiet@example.com' } });
    expect(res.status).toBe(201);
    expect(await messagesOf(res.body.id)).toEqual([]);
    expect(await t.db.kysely.selectFrom('invitations').selectAll().where('user_id', '=', res.body.id).execute()).toEqual([]);
    const batch = await t.call('POST', '/v1/tenants/acme/users/batch?notify=false', { body: { users: [{ email: 'quiet1@example.com' }] } });
    expect(batch.body.successCount).toBe(1);
    expect(await messagesOf(batch.body.results[0].user.id)).toEqual([]);
  });

  it('writes one message per user a batch created, and none for the records it refused', async () => {
    expect((await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'stored@example.com' } })).status).toBe(201);
    const res = await t.call('POST', '/v1/tenants/acme/users/batch', {
      token: managerToken,
      body: { users: [{ email: 'b1@example.com' }, { email: 'not-an-email' }, { email: 'stored@example.com' }, { email: 'b2@example.com' }] },
    });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(['created', 'failed', 'failed', 'created']);
    const rows = await outboxRows(t.db);
    for (const r of res.body.results.filter((r: { status: string }) => r.status === 'created')) {
      expect(rows.filter((m) => m.user_id === r.user.id)).toHaveLength(1);
    }
    expect(rows.filter((m) => m.to_address === 'not-an-email')).toEqual([]);
    // The stored user's own message only; none for the refused duplicate.
    expect(rows.filter((m) => m.to_address === 'stored@example.com')).toHaveLength(1);
  });

  it('writes nothing for an atomic batch that was refused', async () => {
    expect((await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'atomic-stored@example.com' } })).status).toBe(201);
    const before = (await outboxRows(t.db)).length;
    const res = await t.call('POST', '/v1/tenants/acme/users/batch', { body: { atomic: true, users: [{ email: 'a1@example.com' }, { email: 'atomic-stored@example.com' }] } });
    expect(res.status).toBe(422);
    expect(await outboxRows(t.db)).toHaveLength(before);
  });

  it('writes nothing for users past the seat limit', async () => {
    await t.call('POST', '/v1/tenants', { body: { id: 'tiny', name: 'Tiny', seatLimit: 1 } });
    const res = await t.call('POST', '/v1/tenants/tiny/users/batch', { body: { users: [{ email: 's1@example.com' }, { email: 's2@example.com' }] } });
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(['created', 'failed']);
    const rows = (await outboxRows(t.db)).filter((m) => m.tenant_id === 'tiny');
    expect(rows.map((m) => m.to_address)).toEqual(['s1@example.com']);
  });

  it('writes messages exactly for the users kept when concurrent batches race for the last seats', async () => {
    await t.call('POST', '/v1/tenants', { body: { id: 'race', name: 'Race', seatLimit: 5 } });
    const batch = (prefix: string) =>
      t.call('POST', '/v1/tenants/race/users/batch', { body: { users: [1, 2, 3].map((i) => ({ email: `${prefix}${i}@example.com` })) } });
    const results = await Promise.all([batch('x'), batch('y'), batch('z')]);
    const created = results.flatMap((r) => r.body.results.filter((o: { status: string }) => o.status === 'created').map((o: { user: { id: string } }) => o.user.id));
    const refused = results.flatMap((r) => r.body.results.filter((o: { status: string }) => o.status === 'failed'));
    expect(created).toHaveLength(5);
    expect(refused.every((o: { error: { code: string } }) => o.error.code === 'SEAT_LIMIT_EXCEEDED')).toBe(true);
    const rows = (await outboxRows(t.db)).filter((m) => m.tenant_id === 'race');
    expect(rows.map((m) => m.user_id).sort()).toEqual([...created].sort());
    const invitations = await t.db.kysely.selectFrom('invitations').select('user_id').where('tenant_id', '=', 'race').execute();
    expect(invitations.map((i) => i.user_id).sort()).toEqual([...created].sort());
  });

  it('rolls the users back when their messages cannot be written, and keeps no message either', async () => {
    const users: CoreDeps['users'] = {
      ...t.core.users,
      // The message write fails after it ran, inside the users' transaction (a full disk, say).
      transaction: (work) => t.core.users.transaction((tx) => work({ ...tx, insertEmails: async (batch) => { await tx.insertEmails(batch); throw new Error('disk full'); } })),
    };
    const core: CoreDeps = { ...t.core, users, userWrites: createUserWrites({ ...t.core, users }) };
    await expect(createUsers(core, 'acme', GLOBAL_ADMIN, [{ email: 'lost@example.com' }])).rejects.toThrow('disk full');
    expect(await t.db.kysely.selectFrom('users').select('id').where('email', '=', 'lost@example.com').execute()).toEqual([]);
    expect((await outboxRows(t.db)).filter((m) => m.to_address === 'lost@example.com')).toEqual([]);
    expect(await t.db.kysely.selectFrom('invitations').innerJoin('users', 'users.id', 'invitations.user_id').select('users.email').where('users.email', '=', 'lost@example.com').execute()).toEqual([]);
  });

  it('escapes user fields in the HTML part and keeps them as written in the text part', async () => {
    const res = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'xss@example.com', name: { givenName: '<img src=x onerror=alert(1)>' } } });
    expect(res.status).toBe(201);
    const [message] = await messagesOf(res.body.id);
    expect(message.html).not.toContain('<img');
    expect(message.html).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
    expect(message.text).toContain('Hello <img src=x onerror=alert(1)>,');
  });

  it('pages through the outbox, newest first', async () => {
    await t.call('POST', '/v1/tenants', { body: { id: 'paged', name: 'Paged' } });
    for (const n of [1, 2, 3, 4, 5]) expect((await t.call('POST', '/v1/tenants/paged/users', { body: { email: `p${n}@example.com` } })).status).toBe(201);
    const first = await t.call('GET', '/v1/tenants/paged/messages?limit=2');
    expect(first.body.messages).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await t.call('GET', `/v1/tenants/paged/messages?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.messages).toHaveLength(2);
    const all = (await t.call('GET', '/v1/tenants/paged/messages?limit=200')).body.messages;
    expect(all.map((m: { to: string }) => m.to)).toEqual(['p5@example.com', 'p4@example.com', 'p3@example.com', 'p2@example.com', 'p1@example.com']);
    expect([...first.body.messages, ...second.body.messages].map((m: { id: string }) => m.id)).toEqual(all.slice(0, 4).map((m: { id: string }) => m.id));
    expect(all.map((m: { createdAt: string }) => m.createdAt)).toEqual([...all.map((m: { createdAt: string }) => m.createdAt)].sort().reverse());
    const pending = await t.call('GET', '/v1/tenants/paged/messages?status=sent');
    expect(pending.body.messages).toEqual([]);
  });

  it('shows the outbox to tenant admins only: 403 for a user manager, 404 for another tenant', async () => {
    expect((await t.call('GET', '/v1/tenants/acme/messages', { token: managerToken })).status).toBe(403);
    const foreign = await t.call('GET', '/v1/tenants/acme/messages', { token: otherAdminToken });
    expect(foreign.status).toBe(404);
    expect(foreign.text).not.toMatch(TOKEN_PATTERN);
    expect((await t.call('GET', '/v1/tenants/acme/messages', { token: null })).status).toBe(401);
  });

  it('uses the tenant template once set, and the default again once removed', async () => {
    const put = await t.call('PUT', '/v1/tenants/acme/email-templates/welcome', {
      body: { subject: 'Hi {{user.givenName}} from {{tenant.name}}', text: 'Number {{user.number}}: {{user.email}}', html: '<h1>{{user.displayName}}</h1>' },
    });
    expect(put.status).toBe(201);
    expect(put.body).toMatchObject({ kind: 'welcome', custom: true, subject: 'Hi {{user.givenName}} from {{tenant.name}}' });
    expect(put.body.variables).toContain('invitation.token');
    const again = await t.call('PUT', '/v1/tenants/acme/email-templates/welcome', { body: { ...put.body, kind: undefined, custom: undefined, updatedAt: undefined, variables: undefined } });
    expect(again.status).toBe(200);

    const user = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'linus@example.com', password: 'penguins are great', name: { givenName: 'Linus', familyName: '<T>' } } });
    const [message] = await messagesOf(user.body.id);
    expect(message.subject).toBe('Hi Linus from Acme & Sons');
    expect(message.text).toBe(`Number ${user.body.number}: linus@example.com`);
    expect(message.html).toBe('<h1>Linus &lt;T&gt;</h1>');
    // Another tenant is not affected.
    expect((await t.call('GET', '/v1/tenants/globex/email-templates/welcome')).body.custom).toBe(false);

    const reset = await t.call('DELETE', '/v1/tenants/acme/email-templates/welcome');
    expect(reset.status).toBe(200);
    expect(reset.body.custom).toBe(false);
    const next = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'ken@example.com', password: 'unix is forever', name: { givenName: 'Ken' } } });
    expect((await messagesOf(next.body.id))[0].subject).toBe('Welcome to Acme & Sons');
  });

  it('refuses a template that does not parse, uses partials, or prints a field unescaped into HTML', async () => {
    const base = { subject: 's', text: 't', html: '<p>{{user.email}}</p>' };
    const broken = await t.call('PUT', '/v1/tenants/acme/email-templates/invitation', { body: { ...base, text: 'Hello {{#user}}' } });
    expect(broken.status).toBe(400);
    expect(broken.body.errors[0]).toMatchObject({ field: 'text', code: 'INVALID_FIELD' });
    const raw = await t.call('PUT', '/v1/tenants/acme/email-templates/invitation', { body: { ...base, html: '<p>{{{user.displayName}}}</p>' } });
    expect(raw.status).toBe(400);
    expect(raw.body.errors[0].field).toBe('html');
    const ampersand = await t.call('PUT', '/v1/tenants/acme/email-templates/invitation', { body: { ...base, html: '{{#user}}{{& displayName}}{{/user}}' } });
    expect(ampersand.status).toBe(400);
    const partial = await t.call('PUT', '/v1/tenants/acme/email-templates/invitation', { body: { ...base, text: '{{> header}}' } });
    expect(partial.status).toBe(400);
    const missing = await t.call('PUT', '/v1/tenants/acme/email-templates/invitation', { body: { subject: 's' } });
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe('MISSING_REQUIRED_FIELD');
    const unknownKind = await t.call('GET', '/v1/tenants/acme/email-templates/farewell');
    expect(unknownKind.status).toBe(400);
    expect((await t.call('GET', '/v1/tenants/acme/email-templates/invitation')).body.custom).toBe(false);
  });

  it('keeps templates to tenant admins', async () => {
    expect((await t.call('GET', '/v1/tenants/acme/email-templates/welcome', { token: managerToken })).status).toBe(403);
    expect((await t.call('PUT', '/v1/tenants/acme/email-templates/welcome', { token: otherAdminToken, body: { subject: 's', text: 't', html: 'h' } })).status).toBe(404);
  });

  it('gives a template no way to reach beyond the data it is given', async () => {
    // Named outright, a property of the objects' prototypes is not a variable: refused when stored.
    const refused = await t.call('PUT', '/v1/tenants/acme/email-templates/invitation', {
      body: { subject: '[{{user.constructor}}]', text: '[{{user.constructor.name}}][{{tenant.__proto__}}][{{user.hasOwnProperty}}]', html: '<p>{{user.toString}}</p>' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('INVALID_FIELD');
    // Inside a section names are relative and cannot be checked against the list: they reach nothing either.
    const stored = await t.call('PUT', '/v1/tenants/acme/email-templates/invitation', {
      body: {
        subject: '[{{#user}}{{constructor}}{{/user}}]',
        text: '[{{#user}}{{constructor.name}}{{/user}}][{{#tenant}}{{__proto__}}{{/tenant}}][{{#user}}{{hasOwnProperty}}{{/user}}]',
        html: '<p>{{#user}}{{toString}}{{/user}}</p>',
      },
    });
    expect(stored.status, stored.text).toBe(201);
    const res = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'proto@example.com' } });
    const [message] = await messagesOf(res.body.id);
    expect(message.subject).toBe('[]');
    expect(message.text).toBe('[][][]');
    expect(message.html).toBe('<p></p>');
    await t.call('DELETE', '/v1/tenants/acme/email-templates/invitation');
  });
});
