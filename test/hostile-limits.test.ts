/**
 * The explicit limits on what a client may send and how slowly: body size, batch size, string
 * lengths, JSON depth, header size, and the time allowed for headers and for a whole request.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { MAX_BATCH_SIZE } from '../src/core/users/create-users.js';
import { MAX_JSON_DEPTH } from '../src/http/shared/json-body.js';
import { DATABASES } from './helpers/databases.js';
import { createTenant, expectProblem, issueKey } from './helpers/native-fixtures.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/test-app.js';

const BODY_LIMIT = 64 * 1024;
const HEADERS_TIMEOUT_MS = 600;
const REQUEST_TIMEOUT_MS = 1200;

async function userCount(t: TestApp, tenant: string): Promise<number> {
  const row = await t.db.kysely.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenant).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Opens a raw connection to the server; resolves `closed` with the time the server closed it. */
function rawConnection(t: TestApp): Promise<{ socket: Socket; received: () => string; closed: Promise<number> }> {
  const { port } = new URL(t.baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (data += chunk));
    const closed = new Promise<number>((done) => socket.on('close', () => done(Date.now())));
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

/** Writes `text` one character every `everyMs` until the socket closes or the text ends. */
async function dribble(socket: Socket, text: string, everyMs: number): Promise<void> {
  for (const char of text) {
    if (socket.destroyed || socket.writableEnded) return;
    socket.write(char);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

describe('limits as configured', () => {
  it('defaults to a 16 KiB header limit, 20 s for headers, 120 s for a request, 60 s of silence and an 8 MiB body', () => {
    const config = loadConfig({});
    expect(config.MUSTER_MAX_HEADER_BYTES).toBe(16 * 1024);
    expect(config.MUSTER_HEADERS_TIMEOUT_MS).toBe(20_000);
    expect(config.MUSTER_REQUEST_TIMEOUT_MS).toBe(120_000);
    expect(config.MUSTER_IDLE_TIMEOUT_MS).toBe(60_000);
    expect(config.MUSTER_BODY_LIMIT).toBe(8 * 1024 * 1024);
    expect(DEFAULT_LIMITS).toEqual({ maxHeaderBytes: 16 * 1024, headersTimeoutMs: 20_000, requestTimeoutMs: 120_000, idleTimeoutMs: 60_000 });
  });

  it('reads the limits from the environment and refuses nonsense', () => {
    const config = loadConfig({ MUSTER_MAX_HEADER_BYTES: '8192', MUSTER_HEADERS_TIMEOUT_MS: '5000', MUSTER_REQUEST_TIMEOUT_MS: '30000', MUSTER_IDLE_TIMEOUT_MS: '10000' });
    expect([config.MUSTER_MAX_HEADER_BYTES, config.MUSTER_HEADERS_TIMEOUT_MS, config.MUSTER_REQUEST_TIMEOUT_MS, config.MUSTER_IDLE_TIMEOUT_MS]).toEqual([8192, 5000, 30000, 10000]);
    expect(() => loadConfig({ MUSTER_HEADERS_TIMEOUT_MS: '0' })).toThrow(/MUSTER_HEADERS_TIMEOUT_MS/);
    expect(() => loadConfig({ MUSTER_MAX_HEADER_BYTES: 'lots' })).toThrow(/MUSTER_MAX_HEADER_BYTES/);
    expect(loadConfig({}).MUSTER_HEAP_GROWTH_PERCENT).toBe(25);
    expect(loadConfig({ MUSTER_HEAP_GROWTH_PERCENT: '0' }).MUSTER_HEAP_GROWTH_PERCENT).toBe(0);
    expect(() => loadConfig({ MUSTER_HEAP_GROWTH_PERCENT: '-5' })).toThrow(/MUSTER_HEAP_GROWTH_PERCENT/);
  });
});

describe.each(DATABASES)('request limits on %s', (kind) => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await startTestApp(kind, {
      bodyLimit: BODY_LIMIT,
      limits: { headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS, idleTimeoutMs: 5_000, maxHeaderBytes: 8 * 1024 },
    });
    await createTenant(t, { id: 'limits' });
    token = (await issueKey(t, 'limits', 'tenant-admin')).token;
  });
  afterAll(async () => t?.close());

  it('applies the configured timeouts and header limit to the HTTP server', () => {
    expect(t.app.server.headersTimeout).toBe(HEADERS_TIMEOUT_MS);
    expect(t.app.server.requestTimeout).toBe(REQUEST_TIMEOUT_MS);
    expect(t.app.server.timeout).toBe(5_000);
    expect((t.app.server as unknown as { maxHeaderSize: number }).maxHeaderSize).toBe(8 * 1024);
  });

  it('refuses a body over the size limit with 413 on every create endpoint, storing nothing', async () => {
    const big = 'x'.repeat(BODY_LIMIT);
    const tenant = await t.call('GET', '/v1/tenants/limits');
    const targets = [
      '/v1/tenants/limits/users',
      '/v1/tenants/limits/users/batch',
      '/compat/batch/users',
      '/compat/simple/users',
      '/api/account/limits/configuration/le-users/users?v=4.0',
      '/provisioning/users.svc/',
      `/${tenant.body.appKey}/users`,
    ];
    for (const path of targets) {
      const res = await t.call('POST', path, { token, body: { email: 'big@example.com', name: { formatted: big } } });
      expect(res.status, path).toBe(413);
      expect(res.text, path).toContain('PAYLOAD_TOO_LARGE');
    }
    expect(await userCount(t, 'limits')).toBe(0);
  });

  it(`refuses a batch of ${MAX_BATCH_SIZE + 1} as BATCH_TOO_LARGE on every batch endpoint (413; the batch dialect's seed says 400), storing nothing`, async () => {
    const emails = Array.from({ length: MAX_BATCH_SIZE + 1 }, (_, i) => `b${i}@example.com`);
    const large = await startTestApp(kind);
    try {
      await createTenant(large, { id: 'limits' });
      const key = (await issueKey(large, 'limits', 'tenant-admin')).token;
      const cases: [string, unknown, number][] = [
        ['/v1/tenants/limits/users/batch', { users: emails.map((email) => ({ email })) }, 413],
        ['/compat/batch/users', emails.map((email) => ({ email })), 400],
        ['/api/account/limits/configuration/le-users/users?v=4.0', emails.map((email) => ({ email })), 413],
        ['/provisioning/users.svc/', emails.map((email) => ({ EmailAddress: email, FirstName: 'A', Password: 'Quartz-Lantern-8841' })), 413],
      ];
      for (const [path, body, status] of cases) {
        const res = await large.call('POST', path, { token: key, body });
        expect(res.status, path).toBe(status);
        expect(res.text, path).toContain('BATCH_TOO_LARGE');
      }
      const full = await large.call('POST', '/v1/tenants/limits/users/batch?notify=false', { token: key, body: { users: emails.slice(0, MAX_BATCH_SIZE).map((email) => ({ email })) } });
      expect(full.status).toBe(200);
      expect(full.body.successCount).toBe(MAX_BATCH_SIZE);
      expect(await userCount(large, 'limits')).toBe(MAX_BATCH_SIZE);
    } finally {
      await large.close();
    }
  });

  it('refuses strings past their documented lengths, storing nothing', async () => {
    const cases: Record<string, unknown>[] = [
      { email: `${'a'.repeat(250)}@example.com` },
      { email: 'ok@example.com', userName: 'u'.repeat(256) },
      { email: 'ok@example.com', name: { givenName: 'g'.repeat(101) } },
      { email: 'ok@example.com', name: { formatted: 'f'.repeat(202) } },
      { email: 'ok@example.com', password: 'p'.repeat(4097) },
      { email: 'ok@example.com', phoneNumber: `+${'1'.repeat(32)}` },
      { email: 'ok@example.com', roles: Array.from({ length: 101 }, (_, i) => `r${i}`) },
      { email: 'ok@example.com', roles: ['r'.repeat(101)] },
      { email: 'ok@example.com', name: { givenName: '' } },
      { email: '' },
    ];
    for (const body of cases) {
      const res = await t.call('POST', '/v1/tenants/limits/users', { token, body });
      expectProblem(res, 400, 'INVALID_FIELD');
    }
    const simple = await t.call('POST', '/compat/simple/users', { token, body: { firstName: 'f'.repeat(101), lastName: 'L', contactEmail: 'ok@example.com' } });
    expect(simple.status).toBe(400);
    expect(await userCount(t, 'limits')).toBe(0);
  });

  it(`refuses JSON nested deeper than ${MAX_JSON_DEPTH} levels as malformed, and reads the body up to that depth`, async () => {
    // Inside the body's top-level object: the whole body nests `depth` levels.
    const nest = (depth: number) => `${'['.repeat(depth - 1)}1${']'.repeat(depth - 1)}`;
    const deep = await t.call('POST', '/v1/tenants/limits/users', { token, raw: `{"email":"deep@example.com","roles":${nest(MAX_JSON_DEPTH + 1)}}`, headers: { 'content-type': 'application/json' } });
    expectProblem(deep, 400, 'MALFORMED_JSON');
    expect(deep.body.detail).toMatch(/deeper than 32/);
    const atLimit = await t.call('POST', '/v1/tenants/limits/users', { token, raw: `{"email":"deep@example.com","roles":${nest(MAX_JSON_DEPTH)}}`, headers: { 'content-type': 'application/json' } });
    expectProblem(atLimit, 400, 'INVALID_FIELD');
    // Brackets inside strings are text, not nesting.
    const inString = await t.call('POST', '/v1/tenants/limits/users', { token, raw: JSON.stringify({ email: 'brackets@example.com', name: { formatted: '[[[[{{{{'.repeat(10) } }), headers: { 'content-type': 'application/json' } });
    expect(inString.status).toBe(201);
    const million = await t.call('POST', '/compat/simple/users', { token, raw: '['.repeat(BODY_LIMIT - 10), headers: { 'content-type': 'application/json' } });
    expect(million.status).toBe(400);
    expect(million.body.reason).toBe('MALFORMED_JSON');
  });

  it('refuses a body that is not UTF-8, or that carries __proto__ or constructor.prototype, as malformed', async () => {
    const bad = Buffer.concat([Buffer.from('{"email":"'), Buffer.from([0xff, 0xfe]), Buffer.from('@example.com"}')]);
    const res = await fetch(`${t.baseUrl}/v1/tenants/limits/users`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: bad });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string; code: string }).code).toBe('MALFORMED_JSON');
    for (const raw of ['{"email":"p@example.com","__proto__":{"admin":true}}', '{"email":"c@example.com","constructor":{"prototype":{"admin":true}}}']) {
      expectProblem(await t.call('POST', '/v1/tenants/limits/users', { token, raw, headers: { 'content-type': 'application/json' } }), 400, 'MALFORMED_JSON');
    }
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('answers 431 to headers larger than the limit', async () => {
    const conn = await rawConnection(t);
    conn.socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: ${'a'.repeat(9 * 1024)}\r\n\r\n`);
    await conn.closed;
    expect(conn.received()).toMatch(/^HTTP\/1\.1 431 /);
    const fine = await t.call('GET', '/healthz', { headers: { 'x-filler': 'a'.repeat(4 * 1024) } });
    expect(fine.status).toBe(200);
  });

  it('closes the connection of a client that sends its headers too slowly', async () => {
    const before = await userCount(t, 'limits');
    const conn = await rawConnection(t);
    const started = Date.now();
    const writing = dribble(conn.socket, `POST /v1/tenants/limits/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nX-Slow: ${'s'.repeat(400)}\r\n\r\n`, 20);
    const closedAt = await conn.closed;
    await writing;
    const held = closedAt - started;
    expect(held).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    // The timeout plus Node's checking interval (a quarter of it, at most a second).
    expect(held).toBeLessThan(HEADERS_TIMEOUT_MS * 2 + 500);
    expect(conn.received()).toMatch(/^(HTTP\/1\.1 408 |$)/);
    expect(await userCount(t, 'limits')).toBe(before);
  });

  it('closes the connection of a client that sends its body too slowly, creating nothing', async () => {
    const before = await userCount(t, 'limits');
    const conn = await rawConnection(t);
    const started = Date.now();
    const body = JSON.stringify({ email: 'slow@example.com', name: { formatted: 'x'.repeat(200) } });
    conn.socket.write(`POST /v1/tenants/limits/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    const writing = dribble(conn.socket, body, 20);
    const closedAt = await conn.closed;
    await writing;
    expect(closedAt - started).toBeLessThan(REQUEST_TIMEOUT_MS * 2 + 500);
    expect(conn.received()).toMatch(/^(HTTP\/1\.1 408 |$)/);
    expect(await userCount(t, 'limits')).toBe(before);
  });

  it('closes a connection on which nothing is ever sent', async () => {
    const conn = await rawConnection(t);
    const started = Date.now();
    const closedAt = await conn.closed;
    expect(closedAt - started).toBeLessThan(HEADERS_TIMEOUT_MS * 2 + 500);
  });

  it('still serves a client that is slow but within the limits', async () => {
    const conn = await rawConnection(t);
    await dribble(conn.socket, `GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nConnection: close\r\n\r\n`, 2);
    await conn.closed;
    expect(conn.received()).toMatch(/^HTTP\/1\.1 200 /);
  });
});
