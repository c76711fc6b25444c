/**
 * Secrets: no plaintext password, API token or delivered invitation code in any column of any
 * table, in the logs (captured at trace level) or in any response; API keys stored as SHA-256
 * and compared in constant time; passwords hashed with argon2id at or above OWASP's
 * parameters; no stack trace or SQL in any error; security headers on every answer; CORS
 * closed unless configured.
 */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDACTED_PATHS } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { matchesDigest } from '../src/core/credentials/api-keys.js';
import { DATABASES } from './helpers/databases.js';
import { startTestSender } from './helpers/email.js';
import { createTenant, issueKey } from './helpers/native-fixtures.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';
import { ADMIN_TOKEN, startTestApp, type CallOptions, type CallResult, type TestApp } from './helpers/test-app.js';

/** Every text a table holds, row by row, for every table of the database. */
async function dumpDatabase(t: TestApp): Promise<Map<string, string>> {
  const tables =
    t.db.dialect === 'sqlite'
      ? (await t.db.kysely.selectFrom('sqlite_master' as never).select('name' as never).where('type' as never, '=', 'table' as never).execute()).map((r) => (r as { name: string }).name)
      : (
          await t.db.kysely
            .selectFrom('information_schema.tables' as never)
            .select('table_name' as never)
            .where('table_schema' as never, '=', 'public' as never)
            .execute()
        ).map((r) => (r as { table_name: string }).table_name);
  const dump = new Map<string, string>();
  for (const table of tables) {
    const rows = await t.db.kysely.selectFrom(table as never).selectAll().execute();
    dump.set(table, JSON.stringify(rows));
  }
  return dump;
}

/** The tables and columns holding `secret`, if any. */
function whereFound(dump: Map<string, string>, secret: string): string[] {
  return [...dump].filter(([, text]) => text.includes(secret)).map(([table]) => table);
}

describe.each(DATABASES)('secrets on %s', (kind) => {
  let t: TestApp;
  let sink: SmtpSink;
  const logLines: string[] = [];
  const responses: { what: string; res: CallResult }[] = [];
  const passwords: string[] = [];
  let adminKeyToken: string;

  /** Calls the API and keeps the response for the scan of every response body. */
  async function call(method: string, path: string, options: CallOptions = {}): Promise<CallResult> {
    const res = await t.call(method, path, options);
    responses.push({ what: `${method} ${path}`, res });
    return res;
  }

  /** A fresh password that passes the default policy, remembered for the scans. */
  function password(label: string): string {
    const value = `Pw-${createHash('sha256').update(`${kind}${label}`).digest('hex').slice(0, 16)}!`;
    passwords.push(value);
    return value;
  }

  beforeAll(async () => {
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    });
    t = await startTestApp(kind, { logger: { level: 'trace', stream, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } } });
    sink = await startSmtpSink();
    await createTenant(t, { id: 'secrets' });
    await call('PUT', '/v1/tenants/secrets/roles/staff', { body: { description: 'Staff' } });
    adminKeyToken = (await issueKey(t, 'secrets', 'tenant-admin')).token;
    const token = adminKeyToken;
    const appKey = (await call('GET', '/v1/tenants/secrets', { token })).body.appKey;

    // Passwords through every API that takes one, weak ones refused included.
    // With Idempotency-Key too: the stored request and response hold no password either.
    const idempotent = { 'idempotency-key': `idem-${kind}-1` };
    await call('POST', '/v1/tenants/secrets/users', { token, headers: idempotent, body: { email: 'native@example.com', password: password('native') } });
    await call('POST', '/v1/tenants/secrets/users/batch', {
      token,
      headers: { 'idempotency-key': `idem-${kind}-2` },
      body: { users: [{ email: 'b1@example.com', password: password('batch1') }, { email: 'b2@example.com', password: password('batch2') }] },
    });
    await call('POST', '/compat/batch/users', { token, body: [{ email: 'seed0@example.com', password: password('seed0') }] });
    await call('POST', '/api/account/secrets/configuration/le-users/users?v=4.0', { token, body: [{ email: 'seed1@example.com', passwordSh: password('seed1') }] });
    await call('POST', '/provisioning/users.svc/', { token, body: [{ EmailAddress: 'seed2@example.com', FirstName: 'P', Password: password('seed2') }] });
    const pw3 = password('seed3');
    await call('POST', `/${appKey}/users`, { token, body: { userName: 'seed3', email: 'seed3@example.com', password: pw3, confirmPassword: pw3 } });
    const mismatch = password('mismatch');
    await call('POST', `/${appKey}/users`, { token, body: { userName: 'seed3b', email: 'seed3b@example.com', password: mismatch, confirmPassword: `${mismatch}x` } });
    passwords.push('weakpw-containing-weak@example.com');
    await call('POST', '/v1/tenants/secrets/users', { token, body: { email: 'weak@example.com', password: 'weakpw-containing-weak@example.com' } });
    const changed = await call('POST', '/v1/tenants/secrets/users', { token, body: { email: 'changes@example.com' } });
    await call('PATCH', `/v1/tenants/secrets/users/${changed.body.id}`, { token, headers: { 'if-match': '"1"' }, body: { password: password('patched') } });
    // An invitation redeemed with a new password.
    const invited = await call('POST', '/v1/tenants/secrets/users', { token, body: { email: 'invited@example.com' } });
    const message = await t.db.kysely.selectFrom('email_messages').select('secret').where('user_id', '=', invited.body.id).executeTakeFirstOrThrow();
    await call('POST', '/v1/invitations/accept', { token: null, body: { token: message.secret, password: password('accepted') } });
    // An invitation left pending: its message is delivered with its code (the messages of the
    // two above were cancelled when their users' passwords were set).
    await call('POST', '/v1/tenants/secrets/users', { token, body: { email: 'still-invited@example.com' } });
    // Keys issued (their tokens appear once, in the issuing response) and one revoked.
    const reader = await issueKey(t, 'secrets', 'reader');
    await call('GET', '/v1/tenants/secrets/users', { token: reader.token });
    await call('DELETE', `/v1/tenants/secrets/api-keys/${reader.id}`, { token });
    await call('GET', '/v1/tenants/secrets/users', { token: reader.token });
    await call('GET', '/v1/tenants/secrets/users', { token: `${adminKeyToken}x` });
    // Every message is delivered, so no invitation code needs to stay in the outbox.
    const sender = startTestSender(t.db, sink.url);
    await sender.sender.drain();
    await sender.close();
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  /** The invitation codes that were ever issued: every delivered message's. */
  function invitationCodes(): string[] {
    return sink.deliveries.flatMap((m) => [...m.text.matchAll(/inv_[A-Za-z0-9_-]{20,}/g)].map((match) => match[0]));
  }

  it('stores no plaintext password, API token or delivered invitation code in any column of any table', async () => {
    const dump = await dumpDatabase(t);
    expect(dump.size).toBeGreaterThanOrEqual(9);
    const codes = invitationCodes();
    expect(codes.length).toBeGreaterThan(0);
    const tokens = [ADMIN_TOKEN, adminKeyToken, ...responses.flatMap((r) => (typeof r.res.body?.token === 'string' ? [r.res.body.token] : []))];
    for (const secret of [...passwords, ...tokens, ...codes]) expect(whereFound(dump, secret), secret).toEqual([]);
    // What is stored instead: an argon2id hash per password, a SHA-256 per key token and per invitation.
    const keys = await t.db.kysely.selectFrom('api_keys').select('token_hash').execute();
    expect(keys.every((k) => /^[0-9a-f]{64}$/.test(k.token_hash))).toBe(true);
    const invitations = await t.db.kysely.selectFrom('invitations').select('token_hash').execute();
    expect(invitations.every((i) => /^[0-9a-f]{64}$/.test(i.token_hash))).toBe(true);
    expect(codes.some((code) => invitations.some((i) => i.token_hash === createHash('sha256').update(code).digest('hex')))).toBe(true);
  });

  it('keeps an undelivered invitation code only in its outbox message, never in the invitation row', async () => {
    const res = await t.call('POST', '/v1/tenants/secrets/users', { token: adminKeyToken, body: { email: 'pending@example.com' } });
    const message = await t.db.kysely.selectFrom('email_messages').selectAll().where('user_id', '=', res.body.id).executeTakeFirstOrThrow();
    expect(message.secret).toMatch(/^inv_/);
    const dump = await dumpDatabase(t);
    // The outbox must hold the code to send it (and shows it to tenant admins only); it is removed once sent.
    expect(whereFound(dump, message.secret!)).toEqual(['email_messages']);
  });

  it('writes no password, token or invitation code to the logs, even at trace level', () => {
    const log = logLines.join('');
    expect(log.length).toBeGreaterThan(1000);
    expect(t.app.log.level).toBe('trace');
    for (const secret of [...passwords, ADMIN_TOKEN, adminKeyToken, ...invitationCodes()]) expect(log.includes(secret), secret).toBe(false);
  });

  it('returns no password in any response, and a key token only in the response that issued it', () => {
    expect(responses.length).toBeGreaterThan(15);
    for (const { what, res } of responses) {
      for (const secret of passwords) expect(res.text.includes(secret), `${what} shows a password`).toBe(false);
      expect(res.text.includes(ADMIN_TOKEN), what).toBe(false);
      expect(res.text).not.toMatch(/\$argon2|password_?hash/i);
    }
    const issued = responses.filter((r) => typeof r.res.body?.token === 'string');
    for (const { res } of issued) {
      const elsewhere = responses.filter((r) => r.res !== res && r.res.text.includes(res.body.token));
      expect(elsewhere.map((r) => r.what)).toEqual([]);
    }
  });

  it('hashes passwords with argon2id at or above OWASP’s parameters (m ≥ 19456 KiB, t ≥ 2), as read from a stored hash', async () => {
    const rows = await t.db.kysely.selectFrom('users').select('password_hash').where('tenant_id', '=', 'secrets').where('password_hash', 'is not', null).execute();
    expect(rows.length, responses.map((r) => `${r.what} ${r.res.status}`).join('\n')).toBeGreaterThanOrEqual(7);
    for (const { password_hash } of rows) {
      const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.exec(password_hash!);
      expect(match, password_hash!).not.toBeNull();
      expect(Number(match![1])).toBeGreaterThanOrEqual(19_456);
      expect(Number(match![2])).toBeGreaterThanOrEqual(2);
      expect(Number(match![3])).toBeGreaterThanOrEqual(1);
    }
  });

  it('stores API keys as SHA-256 digests and compares presented tokens in constant time', () => {
    const token = 'mst_key-abc_secret';
    const digest = createHash('sha256').update(token).digest();
    expect(matchesDigest(token, digest)).toBe(true);
    expect(matchesDigest(`${token}x`, digest)).toBe(false);
    expect(matchesDigest(token, digest.subarray(0, 16))).toBe(false);
    // The comparison is crypto.timingSafeEqual on equal-length digests, and every token check goes through it.
    const source = readFileSync(new URL('../src/core/credentials/api-keys.ts', import.meta.url), 'utf8');
    expect(source).toMatch(/import \{[^}]*timingSafeEqual[^}]*\} from 'node:crypto'/);
    expect(source).toMatch(/function matchesDigest[\s\S]{0,300}timingSafeEqual\(candidate, digest\)/);
    expect(source).toMatch(/matchesDigest\(token, adminDigest\)/);
    expect(source).toMatch(/matchesDigest\(token, Buffer\.from\(key\.tokenHash, 'hex'\)\)/);
    expect(source).not.toMatch(/(tokenHash|adminToken|token)\s*===|===\s*(key\.)?tokenHash/);
  });

  it('sets the security headers on every answer, errors included', async () => {
    for (const res of [await t.call('GET', '/healthz'), await t.call('GET', '/v1/tenants/secrets/users', { token: null }), await t.call('GET', '/nowhere')]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('sends no CORS header unless origins are configured', async () => {
    const preflight = await t.call('OPTIONS', '/v1/tenants/secrets/users', {
      token: null,
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const simple = await t.call('GET', '/healthz', { headers: { origin: 'https://evil.example' } });
    expect(simple.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('errors show no internals', () => {
  it.each(DATABASES)('answers a database failure on %s with a plain 500 on every create endpoint: no stack trace, no SQL', async (kind) => {
    const logs: string[] = [];
    const stream = new Writable({ write: (chunk: Buffer, _e, done) => (logs.push(chunk.toString('utf8')), done()) });
    const t = await startTestApp(kind, { logger: { level: 'error', stream, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } } });
    try {
      const tenant = await createTenant(t, { id: 'broken' });
      const token = (await issueKey(t, 'broken', 'tenant-admin')).token;
      // The audit table goes missing under the running service: every create fails in its transaction.
      await t.db.kysely.schema.alterTable('audit_events').renameTo('audit_events_gone').execute();
      const pw = 'Broken-Quartz-5521';
      const calls: [string, unknown][] = [
        ['/v1/tenants/broken/users', { email: 'n@example.com', password: pw }],
        ['/v1/tenants/broken/users/batch', { users: [{ email: 'nb@example.com', password: pw }] }],
        ['/compat/batch/users', [{ email: 'b@example.com', password: pw }]],
        ['/compat/simple/users', { firstName: 'S', lastName: 'T', contactEmail: 's@example.com' }],
        ['/api/account/broken/configuration/le-users/users?v=4.0', [{ email: 'a@example.com', passwordSh: pw }]],
        ['/provisioning/users.svc/', [{ EmailAddress: 'p@example.com', FirstName: 'P', Password: pw }]],
        [`/${tenant.appKey}/users`, { userName: 'app', email: 'app@example.com', password: pw, confirmPassword: pw }],
      ];
      for (const [path, body] of calls) {
        const res = await t.call('POST', path, { token, body });
        expect(res.status, path).toBe(500);
        expect(res.text, `${path}: ${res.text}`).not.toMatch(/audit_events|insert into|select |sqlite|relation|syntax|\bat .+\(.+:\d+:\d+\)|node_modules|\.ts\b/i);
        expect(res.text, path).not.toMatch(/[A-Z]\w*Error\b|SQLITE_|errno|stack/);
        expect(res.text, path).not.toContain(pw);
        expect(res.text).toMatch(/[0-9a-f-]{36}/); // the request id, which finds it in the logs
      }
      // The operators' log has the cause (and still no password).
      const log = logs.join('');
      expect(log).toMatch(/audit_events/);
      expect(log).not.toContain(pw);
    } finally {
      await t.close();
    }
  });
});

describe('CORS when configured', () => {
  it('allows exactly the configured origins, and reads them from MUSTER_CORS_ORIGINS', async () => {
    expect(loadConfig({}).MUSTER_CORS_ORIGINS).toBeUndefined();
    expect(loadConfig({ MUSTER_CORS_ORIGINS: 'https://admin.example, https://ops.example:8443' }).MUSTER_CORS_ORIGINS).toBe('https://admin.example, https://ops.example:8443');
    expect(() => loadConfig({ MUSTER_CORS_ORIGINS: 'admin.example' })).toThrow(/MUSTER_CORS_ORIGINS/);
    const t = await startTestApp('sqlite', { corsOrigins: ['https://admin.example'] });
    try {
      const preflight = (origin: string) =>
        t.call('OPTIONS', '/v1/tenants/default/users', { token: null, headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
      const allowed = await preflight('https://admin.example');
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://admin.example');
      expect(allowed.headers.get('access-control-allow-headers')).toMatch(/authorization/);
      expect(allowed.headers.get('access-control-allow-methods')).toMatch(/POST/);
      const refused = await preflight('https://evil.example');
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
      const read = await t.call('GET', '/v1/tenants/default/users', { headers: { origin: 'https://admin.example' } });
      expect(read.status).toBe(200);
      expect(read.headers.get('access-control-allow-origin')).toBe('https://admin.example');
      expect(read.headers.get('access-control-expose-headers')).toMatch(/etag/);
    } finally {
      await t.close();
    }
  });
});
