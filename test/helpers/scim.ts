import { expect } from 'vitest';
import { issueKey } from './native-fixtures.js';
import type { CallResult, TestApp } from './test-app.js';

export const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const LIST_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';
export const SEARCH_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

export interface ScimCall {
  body?: unknown;
  /** A bearer token; `null` for none. */
  token?: string | null;
  headers?: Record<string, string>;
  raw?: string;
}

/** A SCIM client over one test server: bodies go as application/scim+json with the given key. */
export function scimClient(t: TestApp, token: string) {
  return (method: string, path: string, options: ScimCall = {}): Promise<CallResult> =>
    t.call(method, `/scim/v2${path}`, {
      ...(options.body !== undefined && { body: options.body }),
      ...(options.raw !== undefined && { raw: options.raw }),
      token: options.token === undefined ? token : options.token,
      headers: { ...(options.body !== undefined && { 'content-type': 'application/scim+json' }), ...options.headers },
    });
}

/** A tenant-admin key of `tenant`, the credential a directory is configured with. */
export async function scimToken(t: TestApp, tenant: string): Promise<string> {
  return (await issueKey(t, tenant, 'tenant-admin')).token;
}

export function patch(...operations: Record<string, unknown>[]) {
  return { schemas: [PATCH_OP], Operations: operations };
}

/** Checks the RFC 7644 §3.12 error shape and returns the body. */
export function expectScimError(res: CallResult, status: number, scimType?: string): any {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
  expect(res.body.schemas).toEqual([ERROR]);
  expect(res.body.status).toBe(String(status));
  expect(typeof res.body.detail).toBe('string');
  if (scimType === undefined) expect(res.body.scimType).toBeUndefined();
  else expect(res.body.scimType).toBe(scimType);
  return res.body;
}

/** A user body as a directory sends it. */
export function scimUser(userName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { schemas: [CORE_USER], userName, emails: [{ value: userName.includes('@') ? userName : `${userName}@example.com`, type: 'work', primary: true }], ...extra };
}
