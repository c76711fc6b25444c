/**
 * The examples `/docs` offers in "Try it out", one per operation that takes a body or a path
 * parameter. Each works as sent against a fresh server (the `default` tenant exists from the
 * first start), in the order a person follows the page: create a tenant, a role, codes, a user;
 * then read, change and delete. A test sends every one of them and expects a 2xx.
 */

/** Path parameter examples by name: values that name things the examples below create. */
export const PARAMETER_EXAMPLES: Record<string, string> = {
  tenant: 'default',
  accountId: 'default',
  name: 'editor',
  code: 'D1',
  kind: 'welcome',
};

const ADA = {
  email: 'ada@example.com',
  userName: 'ada',
  password: 'analytical engine 1843',
  name: { givenName: 'Ada', familyName: 'Lovelace' },
  phoneNumber: '+44 20 7946 0018',
};

/**
 * Parameter examples of one operation (by `METHOD path`), where the name alone does not say
 * (an `id` of SCIM's discovery), or a query parameter the operation needs. Each is marked
 * required in the document: the operation answers 400 without it.
 */
export const OPERATION_PARAMETER_EXAMPLES: Record<string, Record<string, string>> = {
  'GET /scim/v2/ResourceTypes/{id}': { id: 'User' },
  'GET /scim/v2/Schemas/{id}': { id: 'urn:ietf:params:scim:schemas:core:2.0:User' },
  'POST /api/account/{accountId}/configuration/le-users/users': { v: '4.0' },
  'PATCH /v1/tenants/{tenant}/users/{id}': { 'if-match': '"1"' },
};

/** Request body examples by `METHOD path` as the OpenAPI document writes the path. */
export const BODY_EXAMPLES: Record<string, unknown> = {
  'POST /v1/tenants': { id: 'example-co', name: 'Example Co', seatLimit: 500, emailDomains: { allow: [], block: ['mailinator.com'] } },
  'PATCH /v1/tenants/{tenant}': { passwordPolicy: { minLength: 10 }, emailDomains: { allow: [], block: ['mailinator.com'] } },
  'POST /v1/tenants/{tenant}/api-keys': { name: 'provisioning job', role: 'user-manager' },
  'PUT /v1/tenants/{tenant}/roles/{name}': { description: 'Can edit content' },
  'PUT /v1/tenants/{tenant}/departments/{code}': { name: 'Research' },
  'PUT /v1/tenants/{tenant}/locations/{code}': { name: 'London' },
  'PUT /v1/tenants/{tenant}/program-admin-roles/{code}': { name: 'Programme lead' },
  'POST /v1/tenants/{tenant}/users': ADA,
  'POST /v1/tenants/{tenant}/users/batch': {
    users: [
      { email: 'grace@example.com', name: { givenName: 'Grace', familyName: 'Hopper' } },
      { email: 'alan@example.com', userName: 'alan', phoneNumber: '+44 161 496 0000' },
    ],
    atomic: false,
  },
  'PATCH /v1/tenants/{tenant}/users/{id}': { name: { givenName: 'Augusta Ada', familyName: 'King' }, phoneNumber: '+44 20 7946 0999' },
  'POST /v1/tenants/{tenant}/credentials/verify': { login: 'ada', password: 'analytical engine 1843' },
  'PUT /v1/tenants/{tenant}/email-templates/{kind}': {
    subject: 'Welcome to {{tenant.name}}',
    text: 'Hello {{user.displayName}}, your account {{user.userName}} at {{tenant.name}} is ready.',
    html: '<p>Hello {{user.displayName}}, your account <b>{{user.userName}}</b> at {{tenant.name}} is ready.</p>',
  },
  'POST /v1/invitations/accept': { token: 'the code from the invitation email', password: 'a long new passphrase' },
  'POST /compat/simple/users': { firstName: 'Katherine', lastName: 'Johnson', contactEmail: 'katherine@example.com' },
  'POST /users': { firstName: 'Dorothy', lastName: 'Vaughan', contactEmail: 'dorothy@example.com' },
  'POST /compat/batch/users': [
    { userName: 'jdoe', email: 'john.doe@example.com', password: 'Tr0ub4dor&3-staple', name: { firstName: 'John', lastName: 'Doe' }, phoneNumber: '+1 555 0100' },
  ],
  'POST /{appKey}/users': { userName: 'mhamilton', email: 'margaret@example.com', password: 'apollo guidance 1969', confirmPassword: 'apollo guidance 1969' },
  'POST /api/account/{accountId}/configuration/le-users/users': [{ loginName: 'agent1', email: 'agent1@example.com', fullName: 'Annie Easley', mobileNumber: '0542-123456' }],
  'POST /provisioning/users.svc/': { EmailAddress: 'mary@example.com', FirstName: 'Mary', LastName: 'Jackson', Password: 'wind tunnel 1958' },
  'POST /scim/v2/Users': {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: 'hedy@example.com',
    name: { givenName: 'Hedy', familyName: 'Lamarr' },
    emails: [{ value: 'hedy@example.com', primary: true }],
    active: true,
  },
  'PUT /scim/v2/Users/{id}': {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: 'hedy@example.com',
    name: { givenName: 'Hedy', familyName: 'Kiesler' },
    emails: [{ value: 'hedy@example.com', primary: true }],
    active: true,
  },
  'PATCH /scim/v2/Users/{id}': {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations: [{ op: 'replace', path: 'name.familyName', value: 'Lamarr' }],
  },
  'POST /scim/v2/Users/.search': { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName sw "h"', count: 10 },
  'POST /scim/v2/Groups/.search': { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'displayName sw "Eng"' },
  'POST /scim/v2/.search': { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName sw "h"', count: 10 },
  'POST /scim/v2/Groups': { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Engineers' },
  'PUT /scim/v2/Groups/{id}': { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Engineering' },
  'PATCH /scim/v2/Groups/{id}': {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations: [{ op: 'replace', path: 'displayName', value: 'Engineers' }],
  },
  'POST /scim/v2/Bulk': {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
    Operations: [
      {
        method: 'POST',
        path: '/Users',
        bulkId: 'u1',
        data: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'frances@example.com', emails: [{ value: 'frances@example.com', primary: true }] },
      },
    ],
  },
};

/** Import upload examples by media type: two users, in each format the importer reads. */
export const IMPORT_EXAMPLES: Record<string, string> = {
  'text/csv': 'email,givenName,familyName,roles\nlin@example.com,Lin,Chen,\nsam@example.com,Sam,Okafor,\n',
  'application/x-ndjson': '{"email":"lin@example.com","name":{"givenName":"Lin","familyName":"Chen"}}\n{"email":"sam@example.com","name":{"givenName":"Sam","familyName":"Okafor"}}\n',
  'application/json': '[{"email":"lin@example.com","name":{"givenName":"Lin","familyName":"Chen"}},{"email":"sam@example.com"}]',
};
