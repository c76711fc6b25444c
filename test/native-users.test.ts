import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './helpers/databases.js';
import { createTenant, expectProblem } from './helpers/native-fixtures.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

describe.each(DATABASES)('native users API on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
    await createTenant(t, { id: 'acme', name: 'Acme' });
  });
  afterAll(async () => t.close());

  /** Creates a user without a password (hashing costs time) and returns it. */
  async function newUser(body: Record<string, unknown>): Promise<any> {
    const res = await t.call('POST', '/v1/tenants/acme/users', { body });
    expect(res.status, res.text).toBe(201);
    return res.body;
  }

  describe('creating one user', () => {
    it('creates a user and returns it with Location and ETag, never its password', async () => {
      const res = await t.call('POST', '/v1/tenants/acme/users', {
        body: { email: 'ada@example.com', password: 'correct horse battery', name: { givenName: 'Ada', familyName: 'Lovelace' } },
      });
      expect(res.status).toBe(201);
      expect(res.headers.get('location')).toBe(`/v1/tenants/acme/users/${res.body.id}`);
      expect(res.headers.get('etag')).toBe('"1"');
      expect(res.body).toMatchObject({
        userName: 'ada@example.com',
        email: 'ada@example.com',
        tenant: 'acme',
        name: { givenName: 'Ada', familyName: 'Lovelace', formatted: 'Ada Lovelace' },
        hasPassword: true,
        lockedOut: false,
        approved: true,
        roles: [],
        revision: 1,
      });
      expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.body.number).toBeGreaterThan(0);
      expect(res.text).not.toContain('correct horse battery');
      expect(res.text).not.toContain('argon2');
      expect(res.body).not.toHaveProperty('password');
      expect(res.body).not.toHaveProperty('passwordHash');
    });

    it('stores the password only as an argon2id hash', async () => {
      const user = await newUser({ email: 'hash@example.com', password: 'velvet-lantern-91' });
      const row = await t.db.kysely.selectFrom('users').select('password_hash').where('id', '=', user.id).executeTakeFirstOrThrow();
      expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/);
      expect(row.password_hash).not.toContain('velvet-lantern-91');
      expect(await t.core.hasher.verify(row.password_hash!, 'velvet-lantern-91')).toBe(true);
    });

    it('generates a password when asked, and never shows it', async () => {
      const res = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'generated@example.com', generatePassword: true } });
      expect(res.status).toBe(201);
      expect(res.body.hasPassword).toBe(true);
      const row = await t.db.kysely.selectFrom('users').select('password_hash').where('id', '=', res.body.id).executeTakeFirstOrThrow();
      expect(row.password_hash).toMatch(/^\$argon2id\$/);
      expect(Object.keys(res.body)).not.toContain('password');
    });

    it('gives each user a distinct, growing number', async () => {
      const a = await newUser({ email: 'n1@example.com' });
      const b = await newUser({ email: 'n2@example.com' });
      expect(b.number).toBeGreaterThan(a.number);
    });

    it('defaults the user name to the email', async () => {
      const user = await newUser({ email: 'Grace@Example.com' });
      expect(user.userName).toBe('Grace@Example.com');
      expect(user.hasPassword).toBe(false);
    });

    it('rejects a second user with the same email in one tenant, whatever its case', async () => {
      await newUser({ email: 'case@example.com' });
      const res = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'CASE@Example.COM' } });
      expect(res.status).toBe(409);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.code).toBe('DUPLICATE_EMAIL');
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'email', code: 'DUPLICATE_EMAIL' })]);
    });

    it('rejects an email that equals an existing one after NFKC normalisation', async () => {
      await newUser({ email: 'zoe@example.com' });
      expectProblem(await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'ｚｏｅ@example.com' } }), 409, 'DUPLICATE_EMAIL');
    });

    it('rejects a second user with the same user name, compared after NFKC and case folding', async () => {
      await newUser({ email: 'strasse1@example.com', userName: 'Straße' });
      const res = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'strasse2@example.com', userName: 'STRASSE' } });
      expect(expectProblem(res, 409, 'DUPLICATE_USERNAME').errors[0].field).toBe('userName');
      expectProblem(await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'strasse3@example.com', userName: 'ＳＴＲＡＳＳＥ' } }), 409, 'DUPLICATE_USERNAME');
    });

    it('treats a user name equal to an existing default user name as a duplicate', async () => {
      await newUser({ email: 'linus@example.com' });
      expectProblem(await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'other-linus@example.com', userName: 'LINUS@example.com' } }), 409, 'DUPLICATE_USERNAME');
    });

    it('allows the same email in two different tenants', async () => {
      await newUser({ email: 'twice@example.com' });
      await createTenant(t, { id: 'globex' });
      const res = await t.call('POST', '/v1/tenants/globex/users', { body: { email: 'twice@example.com' } });
      expect(res.status).toBe(201);
      expect(res.body.tenant).toBe('globex');
    });

    it('reports MISSING_REQUIRED_FIELD and INVALID_FIELD by field', async () => {
      const missing = await t.call('POST', '/v1/tenants/acme/users', { body: { name: { givenName: 'Nobody' } } });
      expect(expectProblem(missing, 400, 'MISSING_REQUIRED_FIELD').errors).toEqual([expect.objectContaining({ field: 'email', code: 'MISSING_REQUIRED_FIELD' })]);
      const invalid = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'not-an-email', name: { givenName: 'x'.repeat(101) } } });
      const body = expectProblem(invalid, 400, 'INVALID_FIELD');
      expect(body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['email', 'name.givenName']);
    });

    it('refuses a weak password without echoing it', async () => {
      const res = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'weak@example.com', password: 'password123' } });
      expectProblem(res, 400, 'PASSWORD_TOO_WEAK');
      expect(res.text).not.toContain('password123');
    });

    it('refuses a password containing the user name', async () => {
      const res = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'marguerite@example.com', password: 'I-am-Marguerite-7' } });
      expectProblem(res, 400, 'PASSWORD_TOO_WEAK');
    });

    it('refuses a confirmPassword that does not match', async () => {
      const res = await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'mismatch@example.com', password: 'velvet-lantern-91', confirmPassword: 'velvet-lantern-92' } });
      expect(expectProblem(res, 400, 'PASSWORD_MISMATCH').errors[0].field).toBe('confirmPassword');
    });

    it('creates nothing and reports the user valid on a dry run', async () => {
      const res = await t.call('POST', '/v1/tenants/acme/users?dryRun=true', { body: { email: 'dry@example.com' } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ dryRun: true, status: 'valid' });
      expect((await t.call('GET', '/v1/tenants/acme/users?email=dry@example.com')).body.users).toEqual([]);
    });

    it('reports duplicates on a dry run', async () => {
      await newUser({ email: 'dry-taken@example.com' });
      expectProblem(await t.call('POST', '/v1/tenants/acme/users?dryRun=true', { body: { email: 'dry-taken@example.com' } }), 409, 'DUPLICATE_EMAIL');
    });

    it('answers 404 for a tenant that does not exist', async () => {
      expectProblem(await t.call('POST', '/v1/tenants/nowhere/users', { body: { email: 'x@example.com' } }), 404, 'NOT_FOUND');
    });
  });

  describe('reading and listing', () => {
    it('reads one user with its ETag', async () => {
      const user = await newUser({ email: 'read@example.com', phoneNumber: '+1 555 0100' });
      const res = await t.call('GET', `/v1/tenants/acme/users/${user.id}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).toBe('"1"');
      expect(res.body).toEqual(user);
    });

    it('answers 404 for a user that does not exist, and for an id that is not a UUID', async () => {
      expectProblem(await t.call('GET', '/v1/tenants/acme/users/00000000-0000-4000-8000-000000000000'), 404, 'NOT_FOUND');
      expectProblem(await t.call('GET', '/v1/tenants/acme/users/not-a-uuid'), 404, 'NOT_FOUND');
    });

    it('pages through every user once, in creation order, with a cursor', async () => {
      await createTenant(t, { id: 'paged' });
      const emails = Array.from({ length: 7 }, (_, i) => `page${i}@example.com`);
      await t.call('POST', '/v1/tenants/paged/users/batch', { body: { users: emails.map((email) => ({ email })) } });
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor ? `?limit=3&cursor=${encodeURIComponent(cursor)}` : '?limit=3';
        const res = await t.call('GET', `/v1/tenants/paged/users${query}`);
        expect(res.status).toBe(200);
        expect(res.body.users.length).toBeLessThanOrEqual(3);
        seen.push(...res.body.users.map((u: { email: string }) => u.email));
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor && pages < 10);
      expect(pages).toBe(3);
      expect(seen).toEqual(emails);
    });

    it('ends with a null cursor when the last page is full', async () => {
      await createTenant(t, { id: 'exact' });
      await t.call('POST', '/v1/tenants/exact/users/batch', { body: { users: [{ email: 'e1@example.com' }, { email: 'e2@example.com' }] } });
      const res = await t.call('GET', '/v1/tenants/exact/users?limit=2');
      expect(res.body.users).toHaveLength(2);
      expect(res.body.nextCursor).toBeNull();
    });

    it('filters by exact email and user name, normalised', async () => {
      const user = await newUser({ email: 'Filter.Me@Example.com', userName: 'FilterMe' });
      for (const query of ['email=filter.me%40example.com', 'email=FILTER.ME%40EXAMPLE.COM', `email=${encodeURIComponent('ｆｉｌｔｅｒ.me@example.com')}`, 'userName=filterme', 'userName=FILTERME']) {
        const res = await t.call('GET', `/v1/tenants/acme/users?${query}`);
        expect(res.status).toBe(200);
        expect(res.body.users.map((u: { id: string }) => u.id), query).toEqual([user.id]);
      }
      expect((await t.call('GET', '/v1/tenants/acme/users?email=filter%40example.com')).body.users).toEqual([]);
      expect((await t.call('GET', '/v1/tenants/acme/users?userName=filter')).body.users).toEqual([]);
    });

    it('refuses a malformed cursor or limit', async () => {
      expectProblem(await t.call('GET', '/v1/tenants/acme/users?cursor=%21%21%21'), 400, 'INVALID_FIELD');
      expectProblem(await t.call('GET', '/v1/tenants/acme/users?limit=0'), 400, 'INVALID_FIELD');
      expectProblem(await t.call('GET', '/v1/tenants/acme/users?limit=100000'), 400, 'INVALID_FIELD');
      expectProblem(await t.call('GET', '/v1/tenants/acme/users?limit=abc'), 400, 'INVALID_FIELD');
    });
  });

  describe('changing a user', () => {
    it('needs If-Match (428 without it)', async () => {
      const user = await newUser({ email: 'patch428@example.com' });
      expectProblem(await t.call('PATCH', `/v1/tenants/acme/users/${user.id}`, { body: { lockedOut: true } }), 428, 'PRECONDITION_REQUIRED');
      expect((await t.call('GET', `/v1/tenants/acme/users/${user.id}`)).body.lockedOut).toBe(false);
    });

    it('refuses a stale If-Match with 412 and changes nothing', async () => {
      const user = await newUser({ email: 'patch412@example.com' });
      expectProblem(await t.call('PATCH', `/v1/tenants/acme/users/${user.id}`, { headers: { 'if-match': '"7"' }, body: { lockedOut: true } }), 412, 'PRECONDITION_FAILED');
      expectProblem(await t.call('PATCH', `/v1/tenants/acme/users/${user.id}`, { headers: { 'if-match': 'garbage' }, body: { lockedOut: true } }), 412, 'PRECONDITION_FAILED');
      expect((await t.call('GET', `/v1/tenants/acme/users/${user.id}`)).body).toMatchObject({ lockedOut: false, revision: 1 });
    });

    it('changes fields with the current ETag and returns the new ETag', async () => {
      const user = await newUser({ email: 'patch200@example.com', name: { givenName: 'Old' }, phoneNumber: '+1 555 0101' });
      const res = await t.call('PATCH', `/v1/tenants/acme/users/${user.id}`, {
        headers: { 'if-match': '"1"' },
        body: { name: { givenName: 'New', familyName: 'Name' }, lockedOut: true, approved: false, phoneNumber: null },
      });
      expect(res.status, res.text).toBe(200);
      expect(res.headers.get('etag')).toBe('"2"');
      expect(res.body).toMatchObject({ name: { givenName: 'New', familyName: 'Name', formatted: 'New Name' }, lockedOut: true, approved: false, phoneNumber: null, revision: 2, email: 'patch200@example.com' });
      expect((await t.call('GET', `/v1/tenants/acme/users/${user.id}`)).body).toEqual(res.body);
      expectProblem(await t.call('PATCH', `/v1/tenants/acme/users/${user.id}`, { headers: { 'if-match': '"1"' }, body: { lockedOut: false } }), 412, 'PRECONDITION_FAILED');
    });

    it('changes the email and the user name, and frees the old ones', async () => {
      const user = await newUser({ email: 'before@example.com' });
      const res = await t.call('PATCH', `/v1/tenants/acme/users/${user.id}`, { headers: { 'if-match': '"1"' }, body: { email: 'after@example.com', userName: 'after' } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ email: 'after@example.com', userName: 'after' });
      expect((await t.call('GET', '/v1/tenants/acme/users?email=AFTER@example.com')).body.users).toHaveLength(1);
      expect((await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'before@example.com' } })).status).toBe(201);
    });

    it('sets a new password and stores only its hash', async () => {
      const user = await newUser({ email: 'newpass@example.com' });
      const res = await t.call('PATCH', `/v1/tenants/acme/users/${user.id}`, { headers: { 'if-match': '"1"' }, body: { password: 'amber-orchard-58' } });
      expect(res.status).toBe(200);
      expect(res.body.hasPassword).toBe(true);
      expect(res.text).not.toContain('amber-orchard-58');
    });

    it('refuses an email taken by another user with 409', async () => {
      await newUser({ email: 'taken@example.com' });
      const user = await newUser({ email: 'taker@example.com' });
      const res = await t.call('PATCH', `/v1/tenants/acme/users/${user.id}`, { headers: { 'if-match': '"1"' }, body: { email: 'TAKEN@example.com' } });
      expect(expectProblem(res, 409, 'DUPLICATE_EMAIL').errors[0].field).toBe('email');
      expect((await t.call('GET', `/v1/tenants/acme/users/${user.id}`)).body).toMatchObject({ email: 'taker@example.com', revision: 1 });
    });

    it('refuses a user name taken by another user with 409', async () => {
      await newUser({ email: 'un1@example.com', userName: 'unique-name' });
      const user = await newUser({ email: 'un2@example.com' });
      const res = await t.call('PATCH', `/v1/tenants/acme/users/${user.id}`, { headers: { 'if-match': '"1"' }, body: { userName: 'Unique-Name' } });
      expectProblem(res, 409, 'DUPLICATE_USERNAME');
    });

    it('validates the changed fields like a new user', async () => {
      const user = await newUser({ email: 'validate-patch@example.com' });
      const bad = await t.call('PATCH', `/v1/tenants/acme/users/${user.id}`, { headers: { 'if-match': '"1"' }, body: { email: 'nope', name: { givenName: 'Bad\u0007' } } });
      expectProblem(bad, 400, 'INVALID_FIELD');
      const unknown = await t.call('PATCH', `/v1/tenants/acme/users/${user.id}`, { headers: { 'if-match': '"1"' }, body: { number: 5 } });
      expect(expectProblem(unknown, 400, 'INVALID_FIELD').errors[0].field).toBe('number');
    });

    it('lets an admin lock out a user whose email domain was blocked after the user was created', async () => {
      await createTenant(t, { id: 'blocked-later' });
      const user = (await t.call('POST', '/v1/tenants/blocked-later/users', { body: { email: 'mallory@evil.test' } })).body;
      await t.call('PATCH', '/v1/tenants/blocked-later', { body: { emailDomains: { block: ['evil.test'] } } });
      const res = await t.call('PATCH', `/v1/tenants/blocked-later/users/${user.id}`, { headers: { 'if-match': '"1"' }, body: { lockedOut: true } });
      expect(res.status, res.text).toBe(200);
      expect(res.body.lockedOut).toBe(true);
      const moved = await t.call('PATCH', `/v1/tenants/blocked-later/users/${user.id}`, { headers: { 'if-match': '"2"' }, body: { email: 'mallory2@evil.test' } });
      expectProblem(moved, 400, 'EMAIL_DOMAIN_RESTRICTED');
    });

    it('answers 404 for a user that does not exist', async () => {
      expectProblem(await t.call('PATCH', '/v1/tenants/acme/users/00000000-0000-4000-8000-000000000000', { headers: { 'if-match': '"1"' }, body: { lockedOut: true } }), 404, 'NOT_FOUND');
    });
  });

  describe('deleting a user', () => {
    it('deletes with 204, after which the user is 404 and its email is free', async () => {
      const user = await newUser({ email: 'gone@example.com' });
      const res = await t.call('DELETE', `/v1/tenants/acme/users/${user.id}`);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expectProblem(await t.call('GET', `/v1/tenants/acme/users/${user.id}`), 404, 'NOT_FOUND');
      expectProblem(await t.call('DELETE', `/v1/tenants/acme/users/${user.id}`), 404, 'NOT_FOUND');
      expect((await t.call('POST', '/v1/tenants/acme/users', { body: { email: 'gone@example.com' } })).status).toBe(201);
    });
  });

  describe('seats', () => {
    it('refuses the user past the seat limit with 402, and a deleted user frees a seat', async () => {
      await createTenant(t, { id: 'small', seatLimit: 2 });
      const first = await t.call('POST', '/v1/tenants/small/users', { body: { email: 's1@example.com' } });
      expect(first.status).toBe(201);
      expect((await t.call('POST', '/v1/tenants/small/users', { body: { email: 's2@example.com' } })).status).toBe(201);
      expectProblem(await t.call('POST', '/v1/tenants/small/users', { body: { email: 's3@example.com' } }), 402, 'SEAT_LIMIT_EXCEEDED');
      expectProblem(await t.call('POST', '/v1/tenants/small/users?dryRun=true', { body: { email: 's3@example.com' } }), 402, 'SEAT_LIMIT_EXCEEDED');
      expect((await t.call('GET', '/v1/tenants/small')).body.seatsUsed).toBe(2);
      expect((await t.call('DELETE', `/v1/tenants/small/users/${first.body.id}`)).status).toBe(204);
      expect((await t.call('GET', '/v1/tenants/small')).body.seatsUsed).toBe(1);
      expect((await t.call('POST', '/v1/tenants/small/users', { body: { email: 's3@example.com' } })).status).toBe(201);
      expectProblem(await t.call('POST', '/v1/tenants/small/users', { body: { email: 's4@example.com' } }), 402, 'SEAT_LIMIT_EXCEEDED');
    });

    it('refuses new users when a global admin lowers the limit below the users held', async () => {
      await createTenant(t, { id: 'lowered' });
      for (const email of ['l1@example.com', 'l2@example.com']) expect((await t.call('POST', '/v1/tenants/lowered/users', { body: { email } })).status).toBe(201);
      expect((await t.call('PATCH', '/v1/tenants/lowered', { body: { seatLimit: 1 } })).status).toBe(200);
      expectProblem(await t.call('POST', '/v1/tenants/lowered/users', { body: { email: 'l3@example.com' } }), 402, 'SEAT_LIMIT_EXCEEDED');
      expect((await t.call('PATCH', '/v1/tenants/lowered', { body: { seatLimit: null } })).status).toBe(200);
      expect((await t.call('POST', '/v1/tenants/lowered/users', { body: { email: 'l3@example.com' } })).status).toBe(201);
    });

    it('keeps the stored count equal to the rows', async () => {
      await createTenant(t, { id: 'counted', seatLimit: 3 });
      const created = await t.call('POST', '/v1/tenants/counted/users/batch', { body: { users: ['c1', 'c2', 'c3', 'c4'].map((n) => ({ email: `${n}@example.com` })) } });
      expect(created.body).toMatchObject({ successCount: 3, failureCount: 1 });
      expect((await t.call('DELETE', `/v1/tenants/counted/users/${created.body.results[0].user.id}`)).status).toBe(204);
      const rows = await t.db.kysely.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', 'counted').executeTakeFirstOrThrow();
      expect(Number(rows.n)).toBe(2);
      expect((await t.call('GET', '/v1/tenants/counted')).body.seatsUsed).toBe(Number(rows.n));
    });
  });
});
