/**
 * Property-based hostile input: for every create endpoint, native and each dialect, fast-check
 * generates requests from the documented schemas and far beyond them. Through the whole
 * request pipeline (`app.inject`), every answer must be below 500, match the response schema
 * the route documents for its status, carry no stack trace or SQL, and store exactly the users
 * it reports created — nothing at all for a refused request.
 *
 * HOSTILE_RUNS sets the runs per endpoint on SQLite (default 10,000); PostgreSQL runs a tenth
 * of them (HOSTILE_RUNS_PG overrides), as the same code paths run there and each request costs more.
 *
 * Hashing is not under test here and would dominate the time (the app dialect hashes a generated
 * password for every user it creates): the application runs with a fast stand-in hasher, on a
 * real database. The argon2id parameters are checked in test/secrets-at-rest.test.ts.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import type { PasswordHasher } from '../src/core/ports.js';
import { createDependencies, prepareDatabase } from '../src/dependencies.js';
import { createTestDatabase, DATABASES, type TestDatabase } from './helpers/databases.js';
import { anyJson, email, field, hostileString, password, rawHostileBody, record, validEmail, type RawBody } from './helpers/hostile-values.js';
import { createTenant, issueKey } from './helpers/native-fixtures.js';
import { ResponseSchemas } from './helpers/response-schemas.js';
import { ADMIN_TOKEN, call, type CallOptions, type CallResult } from './helpers/test-app.js';

const SQLITE_RUNS = Number(process.env.HOSTILE_RUNS ?? 10_000);
const POSTGRES_RUNS = Number(process.env.HOSTILE_RUNS_PG ?? Math.ceil(SQLITE_RUNS / 10));

/** What must never appear in an answer: stack frames, driver and database errors (the generated input itself may contain SQL, so SQL text is looked for in test/secrets-*.test.ts). */
const INTERNALS = /\bat [\w.<>]+ \(|node_modules|\.[jt]s:\d+:\d+|SQLITE_[A-Z]|\bKysely|TypeError|ReferenceError|URIError|duplicate key value|violates [a-z ]*constraint|relation "\w+" does not exist|invalid byte sequence/;

interface Ctx {
  tenant: string;
  appKey: string;
}

interface Endpoint {
  /** The route as the OpenAPI document names it. */
  docPath: string;
  url: (ctx: Ctx, query: string) => string;
  /** Query strings to send, from the documented ones to hostile ones. */
  queries: fc.Arbitrary<string>;
  body: fc.Arbitrary<unknown>;
  /** How many users the answer says were stored. */
  created: (status: number, body: any, query: string) => number;
}

const shortText = fc.string({ minLength: 1, maxLength: 12 });
const roleName = fc.constantFrom('staff', 'boss', 'missing-role', 'STAFF');
const code = fc.constantFrom('D1', 'L1', 'nope', 'd1');
const phone = fc.constantFrom('+1 555 0100', '555-0100', '(555) 0100');
const bool = fc.boolean();
/** A flag that, when true, makes the core generate and hash a password: rare. */
const rarelyTrue = fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });

const nativeDraft = record({
  userName: field(shortText),
  email,
  password,
  confirmPassword: fc.oneof(fc.constant(undefined), password),
  generatePassword: fc.oneof({ weight: 4, arbitrary: rarelyTrue }, { weight: 1, arbitrary: anyJson }),
  name: field(record({ givenName: field(shortText), familyName: field(shortText), formatted: field(shortText) })),
  phoneNumber: field(phone),
  roles: field(fc.array(field(roleName), { maxLength: 3 })),
  access: field(record({ departmentId: field(code), locationId: field(code), programAdminRoleId: field(code) })),
  lockedOut: field(bool),
  approved: field(bool),
});

/** A draft as the documentation describes it, without a password (so nothing is hashed). */
const documentedDraft = fc.record(
  {
    email: validEmail,
    userName: fc.oneof(validEmail, fc.string({ minLength: 1, maxLength: 20 }).filter((v) => /^[\x21-\x7e]+$/.test(v))),
    name: fc.record({ givenName: fc.constantFrom('Ada', 'Émile', '李'), familyName: fc.constantFrom('Lovelace', 'Zola') }, { requiredKeys: [] }),
    roles: fc.constantFrom([], ['staff']),
    access: fc.record({ departmentId: fc.constant('D1') }, { requiredKeys: [] }),
    lockedOut: bool,
  },
  { requiredKeys: ['email'] },
);

/** A batch one past the limit, built once: 1,001 valid-looking records. */
const OVERSIZED = Array.from({ length: 1001 }, (_, i) => ({ email: `over${i}@example.com` }));

function batchOf<T>(item: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 40, arbitrary: fc.array(item, { maxLength: 5 }) }, { weight: 1, arbitrary: fc.constant(OVERSIZED) });
}

const boolQuery = (name: string) => fc.constantFrom('', `${name}=true`, `${name}=false`, `${name}=1`, `${name}=yes`, `${name}=%00`, `${name}=${'x'.repeat(300)}`);

const ENDPOINTS: Record<string, Endpoint> = {
  'native single create': {
    docPath: '/v1/tenants/{tenant}/users',
    url: (c, q) => `/v1/tenants/${c.tenant}/users${q}`,
    queries: fc.tuple(boolQuery('dryRun'), boolQuery('notify')).map(([a, b]) => `?${[a, b].filter(Boolean).join('&')}`),
    body: fc.oneof({ weight: 3, arbitrary: documentedDraft }, { weight: 6, arbitrary: nativeDraft }, { weight: 1, arbitrary: anyJson }),
    created: (status) => (status === 201 ? 1 : 0),
  },
  'native batch create': {
    docPath: '/v1/tenants/{tenant}/users/batch',
    url: (c, q) => `/v1/tenants/${c.tenant}/users/batch${q}`,
    queries: fc.tuple(boolQuery('dryRun'), boolQuery('notify')).map(([a, b]) => `?${[a, b].filter(Boolean).join('&')}`),
    body: fc.oneof(
      { weight: 3, arbitrary: fc.record({ users: fc.array(documentedDraft, { maxLength: 5 }), atomic: bool }) },
      { weight: 6, arbitrary: record({ users: field(batchOf(fc.oneof(documentedDraft, nativeDraft))), atomic: field(bool) }) },
      { weight: 1, arbitrary: anyJson },
    ),
    created: (status, body) => (status === 200 && !body.dryRun ? body.results.filter((r: { status: string }) => r.status === 'created').length : 0),
  },
  'batch dialect': {
    docPath: '/compat/batch/users',
    url: () => '/compat/batch/users',
    queries: fc.constantFrom('', '?x=1'),
    body: (() => {
      const item = record({
        userName: field(shortText),
        password,
        name: field(record({ firstName: field(shortText), lastName: field(shortText), givenName: field(shortText), familyName: field(shortText) })),
        email,
        phoneNumber: field(phone),
        roles: field(fc.array(field(record({ name: field(roleName), id: field(roleName) })), { maxLength: 3 })),
        userAccess: field(record({ departmentId: field(code), locationId: field(code), programAdminRoleId: field(code) })),
        lockedOut: field(bool),
      });
      const documented = fc.record(
        { email: validEmail, name: fc.record({ firstName: fc.constant('Ada'), lastName: fc.constant('Lovelace') }), roles: fc.constantFrom([], [{ name: 'staff' }], [{ id: 'staff' }]), lockedOut: bool },
        { requiredKeys: ['email'] },
      );
      return fc.oneof(
        { weight: 3, arbitrary: fc.oneof(fc.array(documented, { maxLength: 4 }), documented) },
        { weight: 4, arbitrary: batchOf(fc.oneof(documented, item)) },
        { weight: 2, arbitrary: item },
        { weight: 1, arbitrary: anyJson },
      );
    })(),
    created: (status, body) => (status === 200 || status === 400 ? (body.successCount ?? 0) : 0),
  },
  'simple dialect': {
    docPath: '/compat/simple/users',
    url: () => '/compat/simple/users',
    queries: fc.constantFrom('', '?userId=1'),
    body: fc.oneof(
      { weight: 3, arbitrary: fc.record({ firstName: fc.constantFrom('Ada', 'Émile'), lastName: fc.constantFrom('Lovelace', 'Zola'), contactEmail: validEmail }) },
      { weight: 6, arbitrary: record({ firstName: field(shortText), lastName: field(shortText), contactEmail: email, userId: fc.oneof(fc.constant(undefined), anyJson) }) },
      { weight: 1, arbitrary: anyJson },
    ),
    created: (status) => (status === 201 ? 1 : 0),
  },
  'account dialect': {
    docPath: '/api/account/{accountId}/configuration/le-users/users',
    url: (c, q) => `/api/account/${c.tenant}/configuration/le-users/users${q}`,
    queries: fc.oneof({ weight: 8, arbitrary: fc.constant('?v=4.0') }, { weight: 1, arbitrary: fc.constantFrom('', '?v=3', '?v=4.0&v=4.0', '?v=%00', `?v=${'9'.repeat(30)}`, '?v=') }),
    body: (() => {
      const looseBool = fc.oneof(bool, fc.constantFrom('true', 'false', 'TRUE', 'yes'));
      const looseNumber = fc.oneof(fc.nat(), fc.constantFrom('4', '-1', '1e3', '99999999999999999999'));
      const item = record({
        loginName: field(shortText),
        email,
        fullName: field(shortText),
        passwordSh: password,
        confirmPassword: fc.oneof(fc.constant(undefined), password),
        isEnabled: field(looseBool),
        mobileNumber: field(phone),
        profileIds: field(fc.array(field(looseNumber), { maxLength: 3 })),
        maxChats: field(looseNumber),
        skillIds: field(fc.array(looseNumber, { maxLength: 3 })),
        memberOf: field(record({ agentGroupId: field(looseNumber), assignmentDate: field(hostileString) })),
        userTypeId: field(looseNumber),
      });
      const documented = fc.record({ email: validEmail, fullName: fc.constantFrom('Ada Lovelace'), isEnabled: fc.constantFrom(true, 'false'), maxChats: fc.constantFrom(4, '4') }, { requiredKeys: ['email'] });
      return fc.oneof(
        { weight: 3, arbitrary: fc.oneof(fc.array(documented, { minLength: 1, maxLength: 3 }), documented) },
        { weight: 4, arbitrary: batchOf(item) },
        { weight: 2, arbitrary: item },
        { weight: 1, arbitrary: anyJson },
      );
    })(),
    created: (status, body) => (status === 201 ? (Array.isArray(body) ? body.length : 1) : 0),
  },
  'provisioning dialect': {
    docPath: '/provisioning/users.svc/',
    url: (_c, q) => `/provisioning/users.svc/${q}`,
    queries: fc.constantFrom('', '?modifier=no_email', '?modifier=simulate', '?modifier=bogus', '?modifier=', '?modifier=%0d%0a'),
    body: (() => {
      const item = record({
        EmailAddress: email,
        FirstName: field(shortText),
        LastName: field(shortText),
        Password: password,
        Roles: field(fc.array(field(fc.integer({ min: -1, max: 8 })), { maxLength: 3 })),
        AccountType: field(fc.oneof(fc.integer({ min: -1, max: 5 }), fc.constantFrom('Standard', 'x'))),
        Disabled: field(bool),
        Active: field(bool),
        Id: field(shortText),
      });
      return fc.oneof({ weight: 6, arbitrary: batchOf(item) }, { weight: 3, arbitrary: item }, { weight: 1, arbitrary: anyJson });
    })(),
    created: (status, body, query) => {
      if (query.includes('simulate')) return 0;
      if (status === 200) return body.length;
      return Array.isArray(body?.Users) ? body.Users.length : 0;
    },
  },
  'app dialect': {
    docPath: '/{appKey}/users',
    url: (c, q) => `/${c.appKey}/users${q}`,
    queries: fc.constantFrom('', '?embed=roles', '?embed=%00', `?embed=${'roles,'.repeat(100)}`),
    body: fc.oneof(
      {
        // Every create here hashes a password (given or generated): documented but rarer.
        weight: 1,
        arbitrary: fc.record({
          userName: validEmail,
          email: validEmail,
          autoCreatePassword: fc.constant(true),
          sendEmailNotification: bool,
          roles: fc.array(fc.record({ name: fc.constant('staff') }), { maxLength: 1 }),
        }),
      },
      {
        weight: 6,
        arbitrary: record({
          userName: field(shortText),
          username: fc.oneof(fc.constant(undefined), shortText),
          email,
          password,
          confirmPassword: fc.oneof(fc.constant(undefined), password),
          autoCreatePassword: fc.oneof({ weight: 4, arbitrary: rarelyTrue }, { weight: 1, arbitrary: anyJson }),
          sendEmailNotification: field(bool),
          isApproved: field(bool),
          isLockedOut: field(bool),
          name: field(shortText),
          roles: field(fc.array(field(record({ name: field(roleName), id: field(roleName) })), { maxLength: 3 })),
          dashboardSettings: field(record({ theme: field(shortText) })),
          dateCreated: field(fc.constantFrom('2024-01-01T00:00:00Z', 'yesterday')),
        }),
      },
      { weight: 1, arbitrary: anyJson },
    ),
    created: (status) => (status === 201 ? 1 : 0),
  },
};

/** SCIM, when the application serves it: the same properties for its create endpoint. */
const SCIM_ENDPOINT: Endpoint = {
  docPath: '/scim/v2/Users',
  url: () => '/scim/v2/Users',
  queries: fc.constant(''),
  body: fc.oneof(
    {
      weight: 8,
      arbitrary: record({
        schemas: field(fc.constant(['urn:ietf:params:scim:schemas:core:2.0:User'])),
        userName: email,
        externalId: field(shortText),
        name: field(record({ givenName: field(shortText), familyName: field(shortText), formatted: field(shortText) })),
        emails: field(fc.array(field(record({ value: email, primary: field(bool), type: field(shortText) })), { maxLength: 2 })),
        active: field(bool),
        password,
        phoneNumbers: field(fc.array(field(record({ value: field(phone) })), { maxLength: 2 })),
      }),
    },
    { weight: 1, arbitrary: anyJson },
  ),
  created: (status) => (status === 201 ? 1 : 0),
};

type Request = { kind: 'json'; body: unknown; query: string } | { kind: 'raw'; raw: RawBody; query: string };

function requests(endpoint: Endpoint): fc.Arbitrary<Request> {
  return fc.oneof(
    { weight: 9, arbitrary: fc.tuple(endpoint.body, endpoint.queries).map(([body, query]): Request => ({ kind: 'json', body, query })) },
    { weight: 1, arbitrary: fc.tuple(rawHostileBody, endpoint.queries).map(([raw, query]): Request => ({ kind: 'raw', raw, query })) },
  );
}

describe.each(DATABASES)('hostile input on %s', (kind) => {
  const runs = kind === 'sqlite' ? SQLITE_RUNS : POSTGRES_RUNS;
  let database: TestDatabase;
  let t: { app: Awaited<ReturnType<typeof buildApp>>; db: ReturnType<TestDatabase['open']>; call(method: string, path: string, options?: CallOptions): Promise<CallResult> };
  let schemas: ResponseSchemas;
  const endpoints: [string, Endpoint][] = Object.entries(ENDPOINTS);

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    const db = database.open();
    const digest = (password: string) => `stand-in$${createHash('sha256').update(password).digest('hex')}`;
    const fastHasher: PasswordHasher = {
      hash: async (password) => digest(password),
      hashAll: async (passwords) => passwords.map((p) => (p === undefined ? undefined : digest(p))),
      verify: async (encoded, password) => encoded === digest(password),
    };
    const core = createDependencies(db, { hasher: fastHasher });
    await prepareDatabase(db, core);
    const app = await buildApp({ core, adminToken: ADMIN_TOKEN, rateLimitPerMinute: 100_000_000, rootUsers: 'simple' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    t = { app, db, call: (method, path, options) => call(baseUrl, method, path, options) };
    schemas = new ResponseSchemas(t.app);
    if (schemas.doc.paths['/scim/v2/Users']?.post) endpoints.push(['scim', SCIM_ENDPOINT]);
  });
  afterAll(async () => {
    await t?.app.close();
    await t?.db.close();
    await database?.drop();
  });

  /** A tenant of its own for each endpoint, with roles and codes to reference, and a tenant-admin key. */
  async function prepare(name: string): Promise<Ctx & { token: string }> {
    const tenant = `hostile-${name.replace(/[^a-z]+/g, '-').replace(/-+$/, '')}`;
    const created = await createTenant(t as never, { id: tenant });
    await t.call('PUT', `/v1/tenants/${tenant}/roles/staff`, { body: { description: 'Staff' } });
    await t.call('PUT', `/v1/tenants/${tenant}/roles/boss`, { body: { description: 'Boss', admin: true } });
    for (const kind of ['departments', 'locations', 'program-admin-roles']) await t.call('PUT', `/v1/tenants/${tenant}/${kind}/D1`, { body: { name: 'One' } });
    const key = await issueKey(t as never, tenant, 'tenant-admin');
    return { tenant, appKey: created.appKey, token: key.token };
  }

  /** The tenant's users and user.created audit events, counted in one query. */
  async function stored(tenant: string): Promise<{ users: number; audited: number }> {
    const row = await t.db.kysely
      .selectNoFrom((eb) => [
        eb.selectFrom('users').select((e) => e.fn.countAll().as('n')).where('tenant_id', '=', tenant).as('users'),
        eb.selectFrom('audit_events').select((e) => e.fn.countAll().as('n')).where('tenant_id', '=', tenant).where('action', '=', 'user.created').as('audited'),
      ])
      .executeTakeFirstOrThrow();
    return { users: Number(row.users), audited: Number(row.audited) };
  }

  it.each(Object.keys(ENDPOINTS).concat('scim'))(
    'answers every generated request to the %s endpoint below 500, as documented, storing only what it reports created',
    async (name) => {
      const entry = endpoints.find(([n]) => n === name);
      if (!entry) {
        // The SCIM endpoint is covered once the application serves it.
        expect(schemas.doc.paths['/scim/v2/Users']?.post).toBeUndefined();
        return;
      }
      const endpoint = entry[1];
      const ctx = await prepare(name);
      const statuses = new Map<number, number>();
      let before = await stored(ctx.tenant);
      await fc.assert(
        fc.asyncProperty(requests(endpoint), async (req) => {
          const headers: Record<string, string> = { authorization: `Bearer ${ctx.token}` };
          let payload: string | Buffer;
          if (req.kind === 'json') {
            payload = JSON.stringify(req.body) ?? '';
            headers['content-type'] = 'application/json';
          } else {
            payload = req.raw.payload;
            if (req.raw.contentType) headers['content-type'] = req.raw.contentType;
          }
          const res = await t.app.inject({ method: 'POST', url: endpoint.url(ctx, req.query), headers, payload });
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          expect(res.statusCode, res.body).toBeLessThan(500);
          expect(res.body).not.toMatch(INTERNALS);
          const body = res.body === '' ? undefined : JSON.parse(res.body);
          const check = schemas.check(endpoint.docPath, 'POST', res.statusCode, body);
          expect(check.ok, `${check.problem}: ${res.body.slice(0, 500)}`).toBe(true);
          const after = await stored(ctx.tenant);
          const reported = endpoint.created(res.statusCode, body, req.query);
          expect(after.users - before.users, `stored vs reported for ${res.statusCode} ${res.body.slice(0, 300)}`).toBe(reported);
          expect(after.audited - before.audited).toBe(reported);
          before = after;
        }),
        { numRuns: runs, endOnFailure: false },
      );
      // The generators reach both sides: some requests are refused and some create users.
      expect([...statuses.keys()].some((s) => s >= 400), JSON.stringify([...statuses])).toBe(true);
      expect([...statuses.keys()].some((s) => s < 300), JSON.stringify([...statuses])).toBe(true);
    },
    600_000,
  );
});
