import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDomainError } from '../src/core/errors.js';
import { finishIdempotentRequest, startIdempotentRequest } from '../src/core/idempotency/idempotency.js';
import { DATABASES } from './helpers/databases.js';
import { createTenant, expectProblem, issueKey } from './helpers/native-fixtures.js';
import { startTestApp, type CallResult, type TestApp } from './helpers/test-app.js';

const PASSWORD = 'quartz-meadow-6120';

describe.each(DATABASES)('Idempotency-Key on %s', (kind) => {
  let t: TestApp;
  let appKey: string;

  beforeAll(async () => {
    t = await startTestApp(kind, { rootUsers: 'simple' });
    await createTenant(t, { id: 'idem', name: 'Idempotent' });
    appKey = (await t.call('GET', '/v1/tenants/idem')).body.appKey;
  });
  afterAll(async () => t.close());

  /** How many users exist with these emails, read from the database itself. */
  async function countUsers(...emails: string[]): Promise<number> {
    const row = await t.db.kysely.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).where('email', 'in', emails).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  const withKey = (key: string, headers: Record<string, string> = {}) => ({ ...headers, 'idempotency-key': key });

  /** The same response: status, the headers that describe it, and the body byte for byte. */
  function expectSameResponse(replay: CallResult, first: CallResult): void {
    expect(replay.status).toBe(first.status);
    expect(replay.text).toBe(first.text);
    for (const name of ['content-type', 'location', 'etag', 'ac-revision']) expect(replay.headers.get(name), name).toBe(first.headers.get(name));
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
  }

  describe('on the native API', () => {
    it('replays the stored response of a repeated create, creating nothing the second time', async () => {
      const body = { email: 'once@example.com', password: PASSWORD };
      const first = await t.call('POST', '/v1/tenants/idem/users', { body, headers: withKey('create-once-1') });
      expect(first.status, first.text).toBe(201);
      const replay = await t.call('POST', '/v1/tenants/idem/users', { body, headers: withKey('create-once-1') });
      expectSameResponse(replay, first);
      expect(await countUsers('once@example.com')).toBe(1);
      // Without the key the same request is a new one, and the email is taken.
      expectProblem(await t.call('POST', '/v1/tenants/idem/users', { body }), 409, 'DUPLICATE_EMAIL');
    });

    it('replays an error response too: the request is not run again', async () => {
      const body = { email: 'not an email' };
      const first = await t.call('POST', '/v1/tenants/idem/users', { body, headers: withKey('bad-request-1') });
      expectProblem(first, 400, 'INVALID_FIELD');
      const replay = await t.call('POST', '/v1/tenants/idem/users', { body, headers: withKey('bad-request-1') });
      expect(replay.status).toBe(400);
      expect(replay.body.code).toBe('INVALID_FIELD');
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
    });

    it('refuses the same key with a different body, path or query with 422 IDEMPOTENCY_KEY_REUSED and creates nothing', async () => {
      const first = await t.call('POST', '/v1/tenants/idem/users', { body: { email: 'first-body@example.com' }, headers: withKey('reused-1') });
      expect(first.status).toBe(201);
      const otherBody = await t.call('POST', '/v1/tenants/idem/users', { body: { email: 'second-body@example.com' }, headers: withKey('reused-1') });
      const problem = expectProblem(otherBody, 422, 'IDEMPOTENCY_KEY_REUSED');
      expect(problem.errors).toEqual([{ field: 'Idempotency-Key', code: 'IDEMPOTENCY_KEY_REUSED', message: expect.any(String) }]);
      expectProblem(await t.call('POST', '/v1/tenants/idem/users?dryRun=true', { body: { email: 'first-body@example.com' }, headers: withKey('reused-1') }), 422, 'IDEMPOTENCY_KEY_REUSED');
      expectProblem(
        await t.call('POST', '/v1/tenants/idem/users/batch', { body: { users: [{ email: 'first-body@example.com' }] }, headers: withKey('reused-1') }),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );
      expect(await countUsers('first-body@example.com', 'second-body@example.com')).toBe(1);
    });

    it('creates once when concurrent requests share a key, and gives each the same answer', async () => {
      const users = Array.from({ length: 8 }, (_, i) => ({ email: `race${i}@example.com`, password: PASSWORD }));
      const answers = await Promise.all(
        Array.from({ length: 4 }, () => t.call('POST', '/v1/tenants/idem/users/batch', { body: { users }, headers: withKey('race-1') })),
      );
      for (const res of answers) {
        expect(res.status, res.text).toBe(200);
        expect(res.body.successCount).toBe(8);
        expect(res.text).toBe(answers[0]!.text);
      }
      expect(answers.filter((res) => res.headers.get('idempotent-replayed') === null)).toHaveLength(1);
      expect(await countUsers(...users.map((u) => u.email))).toBe(8);
    });

    it('keeps keys per credential: another credential may use the same key for its own request', async () => {
      const other = await issueKey(t, 'idem', 'user-manager');
      const mine = await t.call('POST', '/v1/tenants/idem/users', { body: { email: 'mine@example.com' }, headers: withKey('shared-name') });
      const theirs = await t.call('POST', '/v1/tenants/idem/users', { body: { email: 'theirs@example.com' }, headers: withKey('shared-name'), token: other.token });
      expect(mine.status).toBe(201);
      expect(theirs.status).toBe(201);
      expect(theirs.headers.get('idempotent-replayed')).toBeNull();
      expect(await countUsers('mine@example.com', 'theirs@example.com')).toBe(2);
    });

    it('forgets a key after 24 hours', async () => {
      const first = await t.call('POST', '/v1/tenants/idem/users', { body: { email: 'day-one@example.com' }, headers: withKey('expiring-1') });
      expect(first.status).toBe(201);
      // A day passes (the record's expiry is moved into the past).
      await t.db.kysely.updateTable('idempotency_keys').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).execute();
      const later = await t.call('POST', '/v1/tenants/idem/users', { body: { email: 'day-two@example.com' }, headers: withKey('expiring-1') });
      expect(later.status).toBe(201);
      expect(later.headers.get('idempotent-replayed')).toBeNull();
      expect(await countUsers('day-one@example.com', 'day-two@example.com')).toBe(2);
    });

    it('refuses a malformed key before doing anything', async () => {
      for (const key of ['x'.repeat(256), 'é-not-ascii']) {
        const res = await t.call('POST', '/v1/tenants/idem/users', { body: { email: 'badkey@example.com' }, headers: { 'idempotency-key': key } });
        expect(expectProblem(res, 400, 'INVALID_FIELD').errors[0].field).toBe('Idempotency-Key');
      }
      expect(await countUsers('badkey@example.com')).toBe(0);
    });

    it('stores the key only as a digest and never stores a password', async () => {
      await t.call('POST', '/v1/tenants/idem/users', { body: { email: 'digest@example.com', password: PASSWORD }, headers: withKey('visible-key-text') });
      const rows = await t.db.kysely.selectFrom('idempotency_keys').selectAll().execute();
      const dump = JSON.stringify(rows);
      expect(dump).not.toContain('visible-key-text');
      expect(dump).not.toContain(PASSWORD);
    });
  });

  describe('on every compatibility dialect', () => {
    const cases: { name: string; request: () => { method: string; path: string; body: unknown }; emails: string[] }[] = [
      { name: 'simple (POST /users)', request: () => ({ method: 'POST', path: '/users', body: { firstName: 'Sim', lastName: 'Ple', contactEmail: 'simple-idem@example.com' } }), emails: ['simple-idem@example.com'] },
      { name: 'simple (/compat/simple/users)', request: () => ({ method: 'POST', path: '/compat/simple/users', body: { firstName: 'Sim', lastName: 'Two', contactEmail: 'simple2-idem@example.com' } }), emails: ['simple2-idem@example.com'] },
      {
        name: 'batch',
        request: () => ({ method: 'POST', path: '/compat/batch/users', body: [{ userName: 'batch-idem-a', email: 'batch-a@example.com' }, { userName: 'batch-idem-b', email: 'batch-b@example.com' }] }),
        emails: ['batch-a@example.com', 'batch-b@example.com'],
      },
      {
        name: 'account',
        request: () => ({ method: 'POST', path: '/api/account/idem/configuration/le-users/users?v=4.0', body: [{ loginName: 'account-idem', email: 'account-idem@example.com' }] }),
        emails: ['account-idem@example.com'],
      },
      {
        name: 'provisioning',
        request: () => ({ method: 'POST', path: '/provisioning/users.svc/', body: [{ EmailAddress: 'prov-idem@example.com', FirstName: 'Pro', LastName: 'Vision', Password: PASSWORD }] }),
        emails: ['prov-idem@example.com'],
      },
      {
        name: 'app',
        request: () => ({ method: 'POST', path: `/${appKey}/users`, body: { userName: 'app-idem', email: 'app-idem@example.com', password: PASSWORD, confirmPassword: PASSWORD } }),
        emails: ['app-idem@example.com'],
      },
    ];

    it.each(cases)('$name: replays, refuses a reused key, and creates once under a race', async ({ name, request, emails }) => {
      const { method, path, body } = request();
      const key = `dialect-${name}`;
      const answers = await Promise.all([0, 1, 2].map(() => t.call(method, path, { body, headers: withKey(key) })));
      expect(answers[0]!.status, answers[0]!.text).toBeLessThan(300);
      for (const res of answers) expect(res.text).toBe(answers[0]!.text);
      const first = answers.find((res) => res.headers.get('idempotent-replayed') === null)!;
      expect(first).toBeDefined();
      expectSameResponse(await t.call(method, path, { body, headers: withKey(key) }), first);
      expect(await countUsers(...emails)).toBe(emails.length);

      const reused = await t.call(method, path, { body: Array.isArray(body) ? [] : { ...(body as object), other: true }, headers: withKey(key) });
      expect(reused.status).toBe(422);
      expect(reused.text).toContain('IDEMPOTENCY_KEY_REUSED');
      expect(await countUsers(...emails)).toBe(emails.length);
    });
  });

  describe('the claim itself', () => {
    const deps = () => ({ idempotency: t.core.idempotency, clock: t.core.clock, ids: t.core.ids });
    const request = { scope: 'test-scope', key: 'claim-1', fingerprint: 'f1' };

    it('lets one holder run, makes the next wait and then answer CONFLICT, and replays once finished', async () => {
      const first = await startIdempotentRequest(deps(), request);
      expect(first.kind).toBe('proceed');
      const waited = await startIdempotentRequest(deps(), request, { waitMs: 150 }).catch((error: unknown) => error);
      expect(isDomainError(waited) && waited.code).toBe('CONFLICT');
      if (first.kind !== 'proceed') throw new Error('unreachable');
      await finishIdempotentRequest(deps(), first.claim, { status: 201, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' });
      expect(await startIdempotentRequest(deps(), request)).toEqual({ kind: 'replay', response: { status: 201, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' } });
    });

    it('hands a claim whose lease ended (its process died) to the next request', async () => {
      const stuck = { ...request, key: 'claim-2' };
      expect((await startIdempotentRequest(deps(), stuck)).kind).toBe('proceed');
      await t.db.kysely.updateTable('idempotency_keys').set({ locked_until: new Date(Date.now() - 1000).toISOString() }).where('scope', '=', 'test-scope').execute();
      const next = await startIdempotentRequest(deps(), stuck, { waitMs: 0 });
      expect(next.kind).toBe('proceed');
    });

    it('gives the key back when the request ends without a storable response', async () => {
      const released = { ...request, key: 'claim-3' };
      const first = await startIdempotentRequest(deps(), released);
      if (first.kind !== 'proceed') throw new Error('expected to proceed');
      await finishIdempotentRequest(deps(), first.claim, undefined);
      const again = await startIdempotentRequest(deps(), { ...released, fingerprint: 'another request' }, { waitMs: 0 });
      expect(again.kind).toBe('proceed');
    });
  });
});
