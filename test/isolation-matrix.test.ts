/**
 * Isolation, for every endpoint the application serves (read from its OpenAPI document, so a new
 * endpoint is covered when it appears): a credential of another tenant never sees or changes
 * this tenant's data (404 for its resources, as PRODUCT.md §2 says; the account dialect answers
 * 403 as its vendor does), and each role below an endpoint's least role is refused with 403.
 * Whatever is refused leaves the tenant exactly as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyRole } from '../src/core/credentials/actor.js';
import { DATABASES } from './helpers/databases.js';
import { createTenant, issueKey } from './helpers/native-fixtures.js';
import { startTestApp, type CallResult, type TestApp } from './helpers/test-app.js';

type Least = KeyRole | 'public';

/**
 * The least role of each endpoint (PRODUCT.md §2 and the ACTIONS of src/core/credentials/actor.ts).
 * An endpoint missing here still gets the cross-tenant checks and "a reader never writes".
 */
const LEAST_ROLE: Record<string, Least> = {
  'GET /healthz': 'public',
  'POST /v1/invitations/accept': 'public',
  'POST /v1/tenants': 'global-admin',
  'GET /v1/tenants': 'global-admin',
  'GET /v1/tenants/{tenant}': 'tenant-admin',
  'PATCH /v1/tenants/{tenant}': 'tenant-admin',
  'POST /v1/tenants/{tenant}/api-keys': 'tenant-admin',
  'GET /v1/tenants/{tenant}/api-keys': 'tenant-admin',
  'DELETE /v1/tenants/{tenant}/api-keys/{id}': 'tenant-admin',
  'GET /v1/tenants/{tenant}/audit': 'tenant-admin',
  'GET /v1/tenants/{tenant}/messages': 'tenant-admin',
  'GET /v1/tenants/{tenant}/email-templates/{kind}': 'tenant-admin',
  'PUT /v1/tenants/{tenant}/email-templates/{kind}': 'tenant-admin',
  'DELETE /v1/tenants/{tenant}/email-templates/{kind}': 'tenant-admin',
  'POST /v1/tenants/{tenant}/users': 'user-manager',
  'POST /v1/tenants/{tenant}/users/batch': 'user-manager',
  'GET /v1/tenants/{tenant}/users': 'reader',
  'GET /v1/tenants/{tenant}/users/{id}': 'reader',
  'PATCH /v1/tenants/{tenant}/users/{id}': 'user-manager',
  'DELETE /v1/tenants/{tenant}/users/{id}': 'tenant-admin',
  'GET /v1/tenants/{tenant}/users/export': 'reader',
  'POST /v1/tenants/{tenant}/users/{id}/invitation': 'user-manager',
  /** Who the calling key is: every key may ask about itself. */
  'GET /v1/session': 'reader',
  'POST /compat/simple/users': 'user-manager',
  'POST /users': 'user-manager',
  'POST /compat/batch/users': 'user-manager',
  'POST /{appKey}/users': 'user-manager',
  'POST /api/account/{accountId}/configuration/le-users/users': 'user-manager',
  'POST /provisioning/users.svc/': 'tenant-admin',
};
for (const catalog of ['roles/{name}', 'departments/{code}', 'locations/{code}', 'program-admin-roles/{code}']) {
  const list = catalog.split('/')[0];
  LEAST_ROLE[`GET /v1/tenants/{tenant}/${list}`] = 'tenant-admin';
  for (const method of ['GET', 'PUT', 'DELETE']) LEAST_ROLE[`${method} /v1/tenants/{tenant}/${catalog}`] = 'tenant-admin';
}

/** Endpoints answered 501 Not Implemented to every credential (SCIM's /Me and root .search): nothing to see or change. */
const NOT_IMPLEMENTED = new Set(['GET /scim/v2/Me', 'POST /scim/v2/Me', 'PUT /scim/v2/Me', 'PATCH /scim/v2/Me', 'DELETE /scim/v2/Me', 'POST /scim/v2/.search']);

const RANK: Record<KeyRole, number> = { reader: 1, 'user-manager': 2, 'tenant-admin': 3, 'global-admin': 4 };
const LOWER_ROLES: KeyRole[] = ['reader', 'user-manager', 'tenant-admin'];

/** Marks every datum of the victim tenant, so that a leak is visible in any response. */
const SECRET = 'victimsecret';

/** A body each endpoint would accept from an authorised caller: the refusal is then about who asks, not what. */
function bodyFor(method: string, path: string): unknown {
  const key = `${method} ${path}`;
  const bodies: Record<string, unknown> = {
    'POST /v1/tenants': { id: 'intruded' },
    'PATCH /v1/tenants/{tenant}': { name: 'Hijacked' },
    'POST /v1/tenants/{tenant}/api-keys': { name: 'sneaky', role: 'reader' },
    'PUT /v1/tenants/{tenant}/email-templates/{kind}': { subject: 'Hijacked', text: 'Hijacked', html: '<p>Hijacked</p>' },
    'POST /v1/tenants/{tenant}/users': { email: 'sneaky1@example.com' },
    'POST /v1/tenants/{tenant}/users/batch': { users: [{ email: 'sneaky2@example.com' }] },
    'PATCH /v1/tenants/{tenant}/users/{id}': { name: { givenName: 'Hijacked' } },
    'POST /compat/simple/users': { firstName: 'Sneaky', lastName: 'Three', contactEmail: 'sneaky3@example.com' },
    'POST /users': { firstName: 'Sneaky', lastName: 'Four', contactEmail: 'sneaky4@example.com' },
    'POST /compat/batch/users': [{ email: 'sneaky5@example.com' }],
    'POST /{appKey}/users': { userName: 'sneaky6', email: 'sneaky6@example.com', autoCreatePassword: true },
    'POST /api/account/{accountId}/configuration/le-users/users': [{ email: 'sneaky7@example.com' }],
    'POST /provisioning/users.svc/': [{ EmailAddress: 'sneaky8@example.com', FirstName: 'Sneaky', Password: 'Quartz-Lantern-8841' }],
    'POST /scim/v2/Users': { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'sneaky9@example.com' },
    'PUT /scim/v2/Users/{id}': { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'hijacked@example.com' },
    'PATCH /scim/v2/Users/{id}': { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] },
    'POST /scim/v2/Groups': { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'sneaky-group' },
    'PUT /scim/v2/Groups/{id}': { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'staff' },
    'PATCH /scim/v2/Groups/{id}': { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: [{ value: 'x' }] }] },
    'POST /scim/v2/Users/.search': { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'] },
    'POST /scim/v2/Bulk': {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [{ method: 'POST', path: '/Users', bulkId: 'one', data: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'sneaky10@example.com' } }],
    },
  };
  if (key in bodies) return bodies[key];
  if (method === 'PUT' && path.startsWith('/v1/tenants/{tenant}/')) return { description: 'Hijacked', name: 'Hijacked' };
  return method === 'GET' || method === 'DELETE' ? undefined : {};
}

interface Route {
  method: string;
  path: string;
}

describe.each(DATABASES)('tenant isolation and roles on %s, for every endpoint', (kind) => {
  let t: TestApp;
  let routes: Route[];
  let victim: { appKey: string; userId: string; keyId: string; groupId: string; tokens: Record<KeyRole, string> };
  let intruder: string;

  beforeAll(async () => {
    t = await startTestApp(kind);
    const doc = (await t.call('GET', '/openapi.json')).body;
    routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
        .map((m) => ({ method: m.toUpperCase(), path })),
    );
    const tenant = await createTenant(t, { id: 'victim', name: `Tenant ${SECRET}` });
    await t.call('PUT', '/v1/tenants/victim/roles/staff', { body: { description: `role ${SECRET}` } });
    for (const catalog of ['departments', 'locations', 'program-admin-roles']) await t.call('PUT', `/v1/tenants/victim/${catalog}/D1`, { body: { name: `code ${SECRET}` } });
    await t.call('PUT', '/v1/tenants/victim/email-templates/welcome', { body: { subject: `Hello ${SECRET}`, text: `Welcome ${SECRET}`, html: `<p>${SECRET}</p>` } });
    const user = await t.call('POST', '/v1/tenants/victim/users', { body: { email: `${SECRET}@victim.example`, userName: `${SECRET}-user`, name: { givenName: SECRET }, roles: ['staff'] } });
    expect(user.status, user.text).toBe(201);
    const keyRes = await t.call('POST', '/v1/tenants/victim/api-keys', { body: { name: `key ${SECRET}`, role: 'reader' } });
    const tokens = {} as Record<KeyRole, string>;
    for (const role of LOWER_ROLES) tokens[role] = (await issueKey(t, 'victim', role)).token;
    const staff = await t.db.kysely.selectFrom('roles').select('id').where('tenant_id', '=', 'victim').where('name', '=', 'staff').executeTakeFirstOrThrow();
    victim = { appKey: tenant.appKey, userId: user.body.id, keyId: keyRes.body.id, groupId: staff.id, tokens };
    await createTenant(t, { id: 'intruder' });
    intruder = (await issueKey(t, 'intruder', 'tenant-admin')).token;
  });
  afterAll(async () => t?.close());

  /** Every row of the victim tenant, to compare before and after. */
  async function snapshot(): Promise<string> {
    const k = t.db.kysely;
    const tables = ['users', 'user_roles', 'roles', 'catalog_entries', 'api_keys', 'email_templates', 'email_messages', 'invitations', 'audit_events'] as const;
    const parts: unknown[] = [await k.selectFrom('tenants').selectAll().where('id', '=', 'victim').execute()];
    for (const table of tables) parts.push(await k.selectFrom(table).selectAll().where('tenant_id', '=', 'victim').execute());
    return JSON.stringify(parts);
  }

  function urlFor(route: Route, asTenant: string): string {
    const url = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      if (name === 'tenant' || name === 'accountId') return asTenant;
      if (name === 'appKey') return victim.appKey;
      if (name === 'kind') return 'welcome';
      if (name === 'name') return 'staff';
      if (name === 'code') return 'D1';
      if (name === 'id') return route.path.includes('/api-keys/') ? victim.keyId : route.path.includes('/Groups/') ? victim.groupId : victim.userId;
      return 'x';
    });
    return route.path.startsWith('/api/account/') ? `${url}?v=4.0` : url;
  }

  function send(route: Route, token: string, asTenant = 'victim'): Promise<CallResult> {
    const body = bodyFor(route.method, route.path);
    const headers: Record<string, string> = route.method === 'PATCH' || route.method === 'PUT' ? { 'if-match': '"1"' } : {};
    return t.call(route.method, urlFor(route, asTenant), { token, ...(body !== undefined && { body }), headers });
  }

  it('enumerates the endpoints from the OpenAPI document and knows the least role of each native and dialect endpoint', () => {
    expect(routes.length).toBeGreaterThan(30);
    const unknown = routes.filter((r) => !(`${r.method} ${r.path}` in LEAST_ROLE) && !r.path.startsWith('/scim/') && !r.path.startsWith('/docs'));
    // New native or dialect endpoints must be classified here; SCIM endpoints get the generic checks.
    expect(unknown.map((r) => `${r.method} ${r.path}`).filter((r) => !/\/(imports|credentials)(\/|$)/.test(r))).toEqual([]);
  });

  it("never shows or changes a tenant's data to another tenant's credential: 404 for its resources on every endpoint", async () => {
    const before = await snapshot();
    const problems: string[] = [];
    for (const route of routes) {
      if (LEAST_ROLE[`${route.method} ${route.path}`] === 'public' || route.path.startsWith('/docs')) continue;
      const res = await send(route, intruder);
      const where = `${route.method} ${route.path} → ${res.status}`;
      if (NOT_IMPLEMENTED.has(`${route.method} ${route.path}`) && res.status === 501) continue;
      if (res.text.includes(SECRET)) problems.push(`${where} shows the victim's data: ${res.text.slice(0, 200)}`);
      const namesVictim = /\{(tenant|accountId|appKey)\}/.test(route.path);
      const namesVictimResource = /\{id\}/.test(route.path);
      if (res.status >= 500) problems.push(`${where}: ${res.text.slice(0, 200)}`);
      if (route.path.startsWith('/v1/tenants/{tenant}') && res.status !== 404) problems.push(`${where}, expected 404`);
      else if (route.path.startsWith('/api/account/') && res.status !== 403) problems.push(`${where}, expected 403 (the vendor's "Not Authorized")`);
      else if ((namesVictim || namesVictimResource) && ![400, 401, 403, 404].includes(res.status)) problems.push(`${where}, expected a refusal`);
    }
    // The provisioning dialect names a tenant by its AppKey header: another tenant's is a bad credential.
    const appKeyed = await t.call('POST', '/provisioning/users.svc/', { token: intruder, headers: { appkey: victim.appKey }, body: bodyFor('POST', '/provisioning/users.svc/') });
    if (appKeyed.status !== 401) problems.push(`provisioning with the victim's AppKey → ${appKeyed.status}`);
    expect(problems).toEqual([]);
    expect(await snapshot()).toBe(before);
  });

  it('refuses every role below an endpoint’s least role with 403, changing nothing', async () => {
    const before = await snapshot();
    const problems: string[] = [];
    let checked = 0;
    for (const route of routes) {
      const least = LEAST_ROLE[`${route.method} ${route.path}`];
      if (least === 'public' || route.path.startsWith('/docs')) continue;
      for (const role of LOWER_ROLES) {
        // Unclassified endpoints (SCIM, new ones): at least, a reader never writes (a search by POST is a read).
        const isRead = route.method === 'GET' || route.path.endsWith('/.search');
        const refused = least === undefined ? role === 'reader' && !isRead : RANK[role] < RANK[least];
        if (!refused) continue;
        checked++;
        const res = await send(route, victim.tokens[role]);
        if (NOT_IMPLEMENTED.has(`${route.method} ${route.path}`) && res.status === 501) continue;
        // A bulk request answers 200 with each operation's own status.
        const bulkRefused = res.status === 200 && Array.isArray(res.body?.Operations) && res.body.Operations.every((o: { status: string }) => o.status === '403');
        const expected = least === undefined ? [403, 404] : [403];
        if (!expected.includes(res.status) && !bulkRefused) problems.push(`${role} ${route.method} ${route.path} → ${res.status} ${res.text.slice(0, 160)}`);
      }
    }
    expect(checked).toBeGreaterThan(60);
    expect(problems).toEqual([]);
    expect(await snapshot()).toBe(before);
  });

  it('lets each role do what its least role allows (the matrix refuses for the right reason)', async () => {
    // One allowed call per role, on its own tenant: reading users as reader, creating as user-manager, reading keys as tenant-admin.
    expect((await t.call('GET', '/v1/tenants/victim/users', { token: victim.tokens.reader })).status).toBe(200);
    expect((await t.call('POST', '/v1/tenants/victim/users', { token: victim.tokens['user-manager'], body: { email: 'allowed@example.com' } })).status).toBe(201);
    expect((await t.call('GET', '/v1/tenants/victim/api-keys', { token: victim.tokens['tenant-admin'] })).status).toBe(200);
    expect((await t.call('GET', '/v1/tenants/intruder/users', { token: intruder })).status).toBe(200);
  });
});
