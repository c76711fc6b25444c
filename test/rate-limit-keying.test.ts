/**
 * Whom the per-credential limit counts: the API key a request authenticates with, however the
 * header spells it (Bearer in any case, padded, or Basic with the key's id); a request without
 * a valid credential by its client address — which comes from X-Forwarded-For only when
 * `trustProxy` names the proxy. (The limit shared by several instances is in fleet.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../src/http/shared/metrics.js';
import { DATABASES } from './helpers/databases.js';
import { basic, expectProblem } from './helpers/native-fixtures.js';
import { startTestApp, type CallResult, type TestApp } from './helpers/test-app.js';

const LIMIT = 6;

describe.each(DATABASES)('rate-limit keying on %s', (kind) => {
  let t: TestApp;
  afterEach(async () => {
    await t?.close();
  });

  async function readerKey(): Promise<{ id: string; token: string }> {
    const res = await t.call('POST', '/v1/tenants/default/api-keys', { body: { name: 'reader', role: 'reader' } });
    expect(res.status, res.text).toBe(201);
    return res.body;
  }

  it('counts one key once across Bearer spellings and HTTP Basic, and apart from every other key', async () => {
    t = await startTestApp(kind, { rateLimitPerMinute: LIMIT });
    const key = await readerKey();
    const spellings = [{ authorization: `Bearer ${key.token}` }, { authorization: `bearer ${key.token}` }, { authorization: `BEARER   ${key.token}` }, basic(key.id, key.token)];
    const results: CallResult[] = [];
    for (let i = 0; i < 2 * LIMIT; i++) results.push(await t.call('GET', '/v1/tenants/default/users', { headers: spellings[i % spellings.length]! }));
    expect(results.map((r) => r.status)).toEqual([...Array(LIMIT).fill(200), ...Array(LIMIT).fill(429)]);
    expect(results[0]!.headers.get('ratelimit-limit')).toBe(String(LIMIT));
    expect(results[LIMIT - 1]!.headers.get('ratelimit-remaining')).toBe('0');
    expectProblem(results[LIMIT]!, 429, 'RATE_LIMIT_EXCEEDED');
    // The admin token (another credential) still has its own allowance.
    expect((await t.call('GET', '/v1/tenants/default/users')).status).toBe(200);
  });

  it('counts made-up and revoked credentials by client address, so new inventions get no new allowance', async () => {
    t = await startTestApp(kind, { rateLimitPerMinute: LIMIT });
    const key = await readerKey();
    expect((await t.call('DELETE', `/v1/tenants/default/api-keys/${key.id}`)).status).toBe(204);
    const results: CallResult[] = [];
    for (let i = 0; i < LIMIT + 3; i++) {
      const authorization = i % 3 === 0 ? `Bearer ${key.token}` : i % 3 === 1 ? `Bearer mst_key-invented${i}_secret${i}` : `Basic ${Buffer.from(`x${i}:y`).toString('base64')}`;
      results.push(await t.call('POST', '/v1/invitations/accept', { headers: { authorization }, body: { token: `made-up-${i}`, password: 'a long enough password 1' } }));
    }
    expect(results.slice(0, LIMIT).every((r) => r.status !== 429 && r.status < 500)).toBe(true);
    expect(results.slice(LIMIT).map((r) => r.status)).toEqual([429, 429, 429]);
    // No credential at all: the same address, the same bucket.
    expect((await t.call('GET', '/v1/tenants/default/users', { token: null })).status).toBe(429);
  });

  it('believes X-Forwarded-For only from a trusted proxy', async () => {
    t = await startTestApp(kind, { rateLimitPerMinute: LIMIT });
    const statuses = [];
    for (let i = 0; i < LIMIT + 1; i++) statuses.push((await t.call('GET', '/openapi.json', { token: null, headers: { 'x-forwarded-for': `203.0.113.${i}` } })).status);
    // Not trusted: every request is the socket's peer, whatever the header claims.
    expect(statuses.at(-1)).toBe(429);
    await t.close();

    t = await startTestApp(kind, { rateLimitPerMinute: LIMIT, trustProxy: '127.0.0.1' });
    for (let i = 0; i < LIMIT + 1; i++) expect((await t.call('GET', '/openapi.json', { token: null, headers: { 'x-forwarded-for': `203.0.113.${i}` } })).status).toBe(200);
    const one: number[] = [];
    for (let i = 0; i < LIMIT + 1; i++) one.push((await t.call('GET', '/openapi.json', { token: null, headers: { 'x-forwarded-for': '198.51.100.7' } })).status);
    expect(one.at(-1)).toBe(429);
  });

  it('never limits /healthz, /readyz or /metrics', async () => {
    t = await startTestApp(kind, { rateLimitPerMinute: 1, metrics: createMetrics() });
    for (let i = 0; i < 5; i++) {
      expect((await t.call('GET', '/healthz', { token: null })).status).toBe(200);
      expect((await t.call('GET', '/readyz', { token: null })).status).toBe(200);
      expect((await t.call('GET', '/metrics', { token: null })).status).toBe(200);
    }
    expect((await t.call('GET', '/openapi.json', { token: null })).status).toBe(200);
    expect((await t.call('GET', '/openapi.json', { token: null })).status).toBe(429);
  });
});
