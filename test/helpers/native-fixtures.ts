import { expect } from 'vitest';
import type { KeyRole } from '../../src/core/credentials/actor.js';
import type { CallOptions, CallResult, TestApp } from './test-app.js';

export interface IssuedKey {
  id: string;
  token: string;
  role: KeyRole;
  tenant: string | null;
}

/** Creates a tenant as the bootstrap admin and returns its body. */
export async function createTenant(t: TestApp, body: Record<string, unknown>): Promise<any> {
  const res = await t.call('POST', '/v1/tenants', { body });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

/** Issues an API key in a tenant (as the bootstrap admin unless `as` is given). */
export async function issueKey(t: TestApp, tenant: string, role: KeyRole, as?: string): Promise<IssuedKey> {
  const res = await t.call('POST', `/v1/tenants/${tenant}/api-keys`, { body: { name: `${role} key`, role }, ...(as !== undefined && { token: as }) });
  expect(res.status, res.text).toBe(201);
  return res.body as IssuedKey;
}

/** HTTP Basic credentials for a key: its id as user name, its token as password. */
export function basic(user: string, password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

/** Checks the RFC 9457 shape every native error has, and returns the body. */
export function expectProblem(res: { status: number; headers: Headers; body: any; text: string }, status: number, code: string): any {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
  expect(Array.isArray(res.body.errors)).toBe(true);
  return res.body;
}

/** The users of a tenant whose email is `email` (after normalisation), read through the native API. */
export async function usersWithEmail(t: TestApp, tenant: string, email: string): Promise<any[]> {
  const res = await t.call('GET', `/v1/tenants/${tenant}/users?email=${encodeURIComponent(email)}`);
  expect(res.status, res.text).toBe(200);
  return res.body.users as any[];
}

/**
 * A `call` that keeps every answer in `seen`, so that a suite can check at its end that no
 * response carried a secret (the API description is left out: its schemas name the password fields).
 */
export function recordingCall(t: () => TestApp, seen: CallResult[]) {
  return async (method: string, path: string, options: CallOptions = {}): Promise<CallResult> => {
    const res = await t().call(method, path, options);
    if (!path.startsWith('/openapi.json') && !path.startsWith('/docs')) seen.push(res);
    return res;
  };
}
