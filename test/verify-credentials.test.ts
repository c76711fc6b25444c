import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './helpers/databases.js';
import { createTenant, expectProblem, issueKey, type IssuedKey } from './helpers/native-fixtures.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

const PER_LOGIN = 4;

describe.each(DATABASES)('POST /v1/tenants/{tenant}/credentials/verify on %s', (kind) => {
  let t: TestApp;
  let manager: IssuedKey;
  let reader: IssuedKey;
  let stranger: IssuedKey;
  const password = 'tangerine-orbit-57';

  beforeAll(async () => {
    t = await startTestApp(kind, { verifyRateLimitPerMinute: PER_LOGIN });
    await createTenant(t, { id: 'signin', name: 'Sign-in' });
    await createTenant(t, { id: 'elsewhere', name: 'Elsewhere' });
    manager = await issueKey(t, 'signin', 'user-manager');
    reader = await issueKey(t, 'signin', 'reader');
    stranger = await issueKey(t, 'elsewhere', 'tenant-admin');
    const res = await t.call('POST', '/v1/tenants/signin/users/batch', {
      body: {
        users: [
          { userName: 'Ada', email: 'ada@example.com', password },
          { email: 'locked@example.com', password, lockedOut: true },
          { email: 'pending@example.com', password, approved: false },
          { email: 'nopassword@example.com' },
          // Login names that may collide: this user's name is another user's email.
          { userName: 'grace@example.com', email: 'grace.h@example.com', password: 'user-name-wins-42' },
          { userName: 'grace', email: 'grace@example.com', password: 'email-loses-42' },
          ...Array.from({ length: 5 }, (_, i) => ({ email: `timing${i}@example.com`, password })),
        ],
      },
    });
    expect(res.body.successCount, res.text).toBe(11);
  });
  afterAll(async () => t.close());

  const verify = (body: unknown, token = manager.token) => t.call('POST', '/v1/tenants/signin/credentials/verify', { body, token });

  it('accepts the right password by user name or by email, compared after NFKC and case folding', async () => {
    for (const login of ['Ada', 'ada@example.com', 'ADA@EXAMPLE.COM', 'Ａｄａ']) {
      const res = await verify({ login, password });
      expect(res.status, login).toBe(200);
      expect(res.body.valid, login).toBe(true);
      expect(res.body.user).toMatchObject({ userName: 'Ada', email: 'ada@example.com', tenant: 'signin' });
      expect(res.text).not.toContain('argon2');
      expect(res.text).not.toContain(password);
    }
  });

  it('prefers the user whose user name is the login over one whose email is', async () => {
    expect((await verify({ login: 'grace@example.com', password: 'user-name-wins-42' })).body.valid).toBe(true);
    expect((await verify({ login: 'grace@example.com', password: 'email-loses-42' })).body.valid).toBe(false);
  });

  it('answers a wrong password, an unknown login, a locked-out, an unapproved and a password-less user the same way', async () => {
    const answers = await Promise.all([
      verify({ login: 'ada@example.com', password: 'wrong-password-1' }),
      verify({ login: 'nobody@example.com', password }),
      verify({ login: 'locked@example.com', password }),
      verify({ login: 'pending@example.com', password }),
      verify({ login: 'nopassword@example.com', password }),
    ]);
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(res.text).toBe('{"valid":false}');
      expect(res.headers.get('content-type')).toBe(answers[0]!.headers.get('content-type'));
    }
  });

  it('takes about as long for an unknown login as for a known one with a wrong password', async () => {
    const time = async (login: string) => {
      const started = performance.now();
      const res = await verify({ login, password: 'not-the-password' });
      expect(res.body).toEqual({ valid: false });
      return performance.now() - started;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    // Interleaved, one check per login (each login has its own limit), compared by median.
    for (let i = 0; i < 5; i++) {
      known.push(await time(`timing${i}@example.com`));
      unknown.push(await time(`ghost${i}@example.com`));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[2]!;
    // Both include one argon2id verification with the same parameters (tens of milliseconds);
    // the bounds are loose because other work shares the machine.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.4);
    expect(median(unknown)).toBeLessThan(median(known) * 2.5 + 25);
  });

  it('limits the checks per login, whether the login exists or not, and leaves other logins alone', async () => {
    for (const login of ['pending@example.com', 'ghost-limit@example.com']) {
      const statuses: number[] = [];
      let limited: Awaited<ReturnType<typeof verify>> | undefined;
      for (let i = 0; i < PER_LOGIN + 1; i++) {
        const res = await verify({ login, password: 'guess' });
        statuses.push(res.status);
        if (res.status === 429) limited = res;
      }
      expect(statuses.slice(-1), login).toEqual([429]);
      const problem = expectProblem(limited!, 429, 'RATE_LIMIT_EXCEEDED');
      expect(problem.detail).not.toContain(login);
      expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // The same login in another case or width is the same login.
      expect((await verify({ login: login.toUpperCase(), password: 'guess' })).status).toBe(429);
    }
    expect((await verify({ login: 'Ada', password })).body.valid).toBe(true);
  });

  it('re-hashes a weaker argon2id hash on success and keeps a current one as it is', async () => {
    const before = await t.db.kysely.selectFrom('users').select(['id', 'password_hash', 'revision']).where('email', '=', 'ada@example.com').executeTakeFirstOrThrow();
    expect((await verify({ login: 'ada@example.com', password })).body.valid).toBe(true);
    const after = await t.db.kysely.selectFrom('users').select(['password_hash', 'revision']).where('id', '=', before.id).executeTakeFirstOrThrow();
    expect(after.password_hash).toBe(before.password_hash);
    expect(after.revision).toBe(before.revision);
  });

  it('lets only user managers and above of the tenant verify', async () => {
    expectProblem(await verify({ login: 'Ada', password }, reader.token), 403, 'FORBIDDEN');
    expectProblem(await verify({ login: 'Ada', password }, stranger.token), 404, 'NOT_FOUND');
    expectProblem(await verify({ login: 'Ada', password }, 'not-a-token'), 401, 'UNAUTHORIZED');
  });

  it('refuses a body without login or password, or with other fields', async () => {
    expect(expectProblem(await verify({ password }), 400, 'MISSING_REQUIRED_FIELD').errors[0].field).toBe('login');
    expect(expectProblem(await verify({ login: 'shape1@example.com' }), 400, 'MISSING_REQUIRED_FIELD').errors[0].field).toBe('password');
    expectProblem(await verify({ login: 'shape2@example.com', password, extra: 1 }), 400, 'INVALID_FIELD');
    expectProblem(await verify({ login: 'shape3@example.com', password: 42 }), 400, 'INVALID_FIELD');
  });
});
