/**
 * Discovery (RFC 7644 §4, RFC 7643 §5–7): what Muster's SCIM service supports, and nothing
 * more. The schemas list only the attributes Muster keeps, each as the server requires,
 * accepts and returns it (the README lists the attributes of the standard schemas that are
 * accepted and ignored; a PATCH naming any other is refused). These documents are the same
 * for every tenant and need no credential.
 */
import Type from 'typebox';
import { MAX_SEARCH_RESULTS } from '../../core/users/search-users.js';
import { ATTRIBUTE_MAX } from '../../core/users/user.js';
import { MAX_BULK_OPERATIONS, MAX_BULK_PAYLOAD_BYTES } from './bulk.js';
import { ScimProtocolError } from './map-error.js';
import {
  CORE_GROUP,
  CORE_USER,
  ENTERPRISE_USER,
  LIST_RESPONSE,
  RESOURCE_TYPE,
  SCHEMA_SCHEMA,
  ScimErrorSchema,
  SERVICE_PROVIDER_CONFIG,
} from './schemas.js';
import type { ScimScope } from './index.js';

type AttributeType = 'string' | 'boolean' | 'dateTime' | 'reference' | 'complex';

interface ScimAttribute {
  name: string;
  type: AttributeType;
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact?: boolean;
  mutability: string;
  returned: string;
  uniqueness?: string;
  subAttributes?: ScimAttribute[];
  canonicalValues?: string[];
  referenceTypes?: string[];
}

interface AttributeOptions {
  multiValued?: boolean;
  required?: boolean;
  caseExact?: boolean;
  mutability?: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned?: 'always' | 'never' | 'default' | 'request';
  uniqueness?: 'none' | 'server' | 'global';
  subAttributes?: ScimAttribute[];
  canonicalValues?: string[];
  referenceTypes?: string[];
}

function attribute(name: string, type: AttributeType, description: string, options: AttributeOptions = {}): ScimAttribute {
  return {
    name,
    type,
    multiValued: options.multiValued ?? false,
    description,
    required: options.required ?? false,
    ...(type !== 'complex' && type !== 'boolean' && { caseExact: options.caseExact ?? false }),
    mutability: options.mutability ?? 'readWrite',
    returned: options.returned ?? 'default',
    ...(type !== 'complex' && type !== 'boolean' && { uniqueness: options.uniqueness ?? 'none' }),
    ...(options.subAttributes && { subAttributes: options.subAttributes }),
    ...(options.canonicalValues && { canonicalValues: options.canonicalValues }),
    ...(options.referenceTypes && { referenceTypes: options.referenceTypes }),
  };
}

const multiValue = (what: string) => [
  attribute('value', 'string', `The ${what}: required in every element sent.`, { required: true }),
  attribute('type', 'string', 'Always "work": Muster keeps one.', { canonicalValues: ['work'] }),
  attribute('primary', 'boolean', 'Always true: Muster keeps one.'),
];

const USER_ATTRIBUTES = [
  attribute('userName', 'string', 'Unique in the tenant, compared after Unicode NFKC normalisation and case folding.', { required: true, uniqueness: 'server' }),
  attribute('name', 'complex', "The user's name.", {
    subAttributes: [
      attribute('formatted', 'string', 'The full name; derived from givenName and familyName when not given. Separate from displayName.'),
      attribute('familyName', 'string', 'Family name, 1–100 characters.'),
      attribute('givenName', 'string', 'Given name, 1–100 characters.'),
    ],
  }),
  attribute('displayName', 'string', 'The name the user is shown by; kept apart from name.formatted.'),
  attribute('active', 'boolean', 'false locks the user out; it cannot be removed (replace it with false instead).'),
  attribute('password', 'string', "Checked against the tenant's password policy and stored only as an argon2id hash.", { mutability: 'writeOnly', returned: 'never' }),
  attribute(
    'emails',
    'complex',
    'Muster keeps one address, unique in the tenant: the primary one, else the work one, else the first. Not required when userName is an email address (that address is used); otherwise a user needs one. It cannot be removed, only replaced.',
    {
    multiValued: true,
    uniqueness: 'server',
    subAttributes: multiValue('email address'),
  }),
  attribute('phoneNumbers', 'complex', 'Muster keeps one number: the primary one, else the one last set.', { multiValued: true, subAttributes: multiValue('phone number') }),
  attribute('groups', 'complex', 'The roles the user holds; changed through /Groups.', {
    multiValued: true,
    mutability: 'readOnly',
    subAttributes: [
      attribute('value', 'string', "The group's id.", { mutability: 'readOnly' }),
      attribute('$ref', 'reference', 'The group.', { mutability: 'readOnly', referenceTypes: ['Group'] }),
      attribute('display', 'string', 'The role name.', { mutability: 'readOnly' }),
      attribute('type', 'string', 'Always "direct".', { mutability: 'readOnly', canonicalValues: ['direct'] }),
    ],
  }),
];

const ENTERPRISE_ATTRIBUTES = [
  attribute('employeeNumber', 'string', `Free text, at most ${ATTRIBUTE_MAX} characters.`),
  attribute('department', 'string', `Free text, at most ${ATTRIBUTE_MAX} characters (not a department code of the tenant's catalog).`),
];

const GROUP_ATTRIBUTES = [
  attribute('displayName', 'string', "The role's name: letters, digits, spaces and _ . : - (at most 100), unique in the tenant; a new one renames the role (its id and members stay).", {
    required: true,
    caseExact: true,
    uniqueness: 'server',
  }),
  attribute('members', 'complex', 'The users holding the role.', {
    multiValued: true,
    subAttributes: [
      attribute('value', 'string', 'The user id: a user of the tenant (an unknown id is refused).', { required: true, mutability: 'immutable' }),
      attribute('$ref', 'reference', 'The user.', { mutability: 'immutable', referenceTypes: ['User'] }),
      attribute('display', 'string', "The user's userName.", { mutability: 'readOnly' }),
      attribute('type', 'string', 'Always "User".', { mutability: 'immutable', canonicalValues: ['User'] }),
    ],
  }),
];

const SCHEMAS = [
  { id: CORE_USER, name: 'User', description: 'User Account', attributes: USER_ATTRIBUTES },
  { id: ENTERPRISE_USER, name: 'EnterpriseUser', description: 'Enterprise User', attributes: ENTERPRISE_ATTRIBUTES },
  { id: CORE_GROUP, name: 'Group', description: 'Group: a Muster role', attributes: GROUP_ATTRIBUTES },
];

function serviceProviderConfig(base: string) {
  return {
    schemas: [SERVICE_PROVIDER_CONFIG],
    documentationUri: `${base.replace(/\/scim\/v2$/, '')}/docs`,
    patch: { supported: true },
    bulk: { supported: true, maxOperations: MAX_BULK_OPERATIONS, maxPayloadSize: MAX_BULK_PAYLOAD_BYTES },
    filter: { supported: true, maxResults: MAX_SEARCH_RESULTS },
    changePassword: { supported: true },
    sort: { supported: true },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer token',
        description: 'A Muster API key token in "Authorization: Bearer …"; the key\'s tenant is the tenant provisioned (a global key provisions "default").',
        specUri: 'https://www.rfc-editor.org/info/rfc6750',
        primary: true,
      },
      {
        type: 'httpbasic',
        name: 'HTTP Basic',
        description: 'The API key id as user name and its token as password.',
        specUri: 'https://www.rfc-editor.org/info/rfc7617',
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}

function resourceTypes(base: string) {
  return [
    {
      schemas: [RESOURCE_TYPE],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'User Account',
      schema: CORE_USER,
      schemaExtensions: [{ schema: ENTERPRISE_USER, required: false }],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` },
    },
    {
      schemas: [RESOURCE_TYPE],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'Group: a Muster role',
      schema: CORE_GROUP,
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` },
    },
  ];
}

function schemas(base: string) {
  return SCHEMAS.map((s) => ({ schemas: [SCHEMA_SCHEMA], ...s, meta: { resourceType: 'Schema', location: `${base}/Schemas/${s.id}` } }));
}

function list<T>(resources: T[]) {
  return { schemas: [LIST_RESPONSE], totalResults: resources.length, startIndex: 1, itemsPerPage: resources.length, Resources: resources };
}

function notFound(what: string): ScimProtocolError {
  return new ScimProtocolError('NOT_FOUND', undefined, `No ${what}.`);
}

const tags = ['scim'];
const Document = Type.Record(Type.String(), Type.Unknown());

/** GET /ServiceProviderConfig, /ResourceTypes[/{id}], /Schemas[/{id}]. */
export function discoveryRoutes(app: ScimScope, baseOf: (request: { protocol: string; host: string }) => string): void {
  const responses = (ok: object) => ({ 200: ok, 404: ScimErrorSchema, 429: ScimErrorSchema, 500: ScimErrorSchema });
  app.get('/ServiceProviderConfig', { schema: { tags, summary: 'What this SCIM service supports', response: responses(Document) } }, async (request) =>
    serviceProviderConfig(baseOf(request)),
  );
  app.get('/ResourceTypes', { schema: { tags, summary: 'The resource types: User and Group', response: responses(Document) } }, async (request) =>
    list(resourceTypes(baseOf(request))),
  );
  app.get('/ResourceTypes/:id', { schema: { tags, summary: 'One resource type', params: Type.Object({ id: Type.String({ maxLength: 100 }) }), response: responses(Document) } }, async (request) => {
    const found = resourceTypes(baseOf(request)).find((r) => r.id === request.params.id);
    if (!found) throw notFound('such resource type');
    return found;
  });
  app.get('/Schemas', { schema: { tags, summary: 'The schemas and the attributes Muster keeps', response: responses(Document) } }, async (request) =>
    list(schemas(baseOf(request))),
  );
  app.get('/Schemas/:id', { schema: { tags, summary: 'One schema', params: Type.Object({ id: Type.String({ maxLength: 200 }) }), response: responses(Document) } }, async (request) => {
    const found = schemas(baseOf(request)).find((s) => s.id === request.params.id);
    if (!found) throw notFound('such schema');
    return found;
  });
}
