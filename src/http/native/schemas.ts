import Type from 'typebox';
import type { ApiKeyRecord } from '../../core/credentials/api-key-record.js';
import type { CatalogEntry } from '../../core/catalogs/catalog.js';
import type { Role } from '../../core/roles/role.js';
import { EmailDomainRulesSchema, PasswordPolicySchema, type Tenant } from '../../core/tenants/tenant.js';
import { UserAccessSchema, UserNameSchema, type User } from '../../core/users/user.js';
import { FieldErrorSchema } from '../shared/problem.js';

const Timestamp = Type.String({ format: 'date-time' });

/**
 * A string or null, as `type: ["string", "null"]`. The same contract as an `anyOf` of the two,
 * but the response serializer writes it directly, where an `anyOf` has it validate each value
 * against each branch (most of the cost of serialising a 1000-user batch report).
 */
function NullableString(options: { description?: string } = {}) {
  return Type.Unsafe<string | null>({ ...options, type: ['string', 'null'] });
}

/** A user as the native API shows it. Being the response schema, it is also the list of fields that may leave. */
export const UserSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    number: Type.Integer({ minimum: 1 }),
    tenant: Type.String(),
    userName: Type.String(),
    email: Type.String(),
    name: UserNameSchema,
    phoneNumber: NullableString(),
    roles: Type.Array(Type.String()),
    access: UserAccessSchema,
    lockedOut: Type.Boolean(),
    approved: Type.Boolean(),
    hasPassword: Type.Boolean(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    revision: Type.Integer(),
    externalId: NullableString({ description: "A provisioning client's own id for the user (SCIM externalId); unique in the tenant." }),
    displayName: NullableString(),
    employeeNumber: NullableString(),
    department: NullableString({ description: 'Free text from the directory; not a department code.' }),
  },
);

export function presentUser(user: User) {
  // Field by field: an object rest spread costs more than the serialisation of the user.
  return {
    id: user.id,
    number: user.number,
    tenant: user.tenantId,
    userName: user.userName,
    email: user.email,
    name: user.name,
    phoneNumber: user.phoneNumber,
    roles: user.roles,
    access: user.access,
    lockedOut: user.lockedOut,
    approved: user.approved,
    hasPassword: user.hasPassword,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
    revision: user.revision,
    externalId: user.externalId,
    displayName: user.displayName,
    employeeNumber: user.employeeNumber,
    department: user.department,
  };
}

export const ItemErrorSchema = Type.Object({ code: Type.String(), message: Type.String(), errors: Type.Array(FieldErrorSchema) });

export const BatchReportSchema = Type.Object(
  {
    totalProcessed: Type.Integer(),
    successCount: Type.Integer(),
    failureCount: Type.Integer(),
    dryRun: Type.Boolean(),
    atomic: Type.Boolean(),
    results: Type.Array(
      Type.Object({
        index: Type.Integer(),
        status: Type.Unsafe<'created' | 'failed' | 'valid'>({ type: 'string', enum: ['created', 'failed', 'valid'] }),
        user: Type.Optional(UserSchema),
        error: Type.Optional(ItemErrorSchema),
      }),
    ),
  },
);

export const TenantSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    seatLimit: Type.Union([Type.Integer(), Type.Null()]),
    seatsUsed: Type.Integer(),
    emailDomains: EmailDomainRulesSchema,
    passwordPolicy: PasswordPolicySchema,
    appKey: Type.String({ description: 'Names this tenant in the `app` dialect: POST /{appKey}/users.' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: 'Tenant' },
);

export function presentTenant(t: Tenant) {
  return {
    id: t.id,
    name: t.name,
    seatLimit: t.seatLimit,
    seatsUsed: t.userCount,
    emailDomains: t.emailDomains,
    passwordPolicy: t.passwordPolicy,
    appKey: t.appKey,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}

export const ApiKeySchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    role: Type.String(),
    tenant: Type.Union([Type.String(), Type.Null()]),
    createdAt: Timestamp,
    revokedAt: Type.Union([Timestamp, Type.Null()]),
  },
  { $id: 'ApiKey' },
);

export const IssuedApiKeySchema = Type.Object({
  ...ApiKeySchema.properties,
  token: Type.String({ description: 'The bearer token. Shown this once; only its hash is stored.' }),
});

export function presentKey(key: ApiKeyRecord & { token?: string }) {
  return {
    id: key.id,
    name: key.name,
    role: key.role,
    tenant: key.tenantId,
    createdAt: key.createdAt,
    revokedAt: key.revokedAt,
    ...(key.token !== undefined && { token: key.token }),
  };
}

export const RoleSchema = Type.Object(
  {
    name: Type.String(),
    description: Type.Union([Type.String(), Type.Null()]),
    admin: Type.Boolean(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: 'Role' },
);

export function presentRole(role: Role) {
  const { tenantId: _t, ...rest } = role;
  return rest;
}

export const CatalogEntrySchema = Type.Object(
  { code: Type.String(), name: Type.Union([Type.String(), Type.Null()]), createdAt: Timestamp },
  { $id: 'CatalogEntry' },
);

export function presentEntry(entry: CatalogEntry) {
  return { code: entry.code, name: entry.name, createdAt: entry.createdAt };
}

export const TenantParams = Type.Object({ tenant: Type.String({ maxLength: 63 }) });

export const ErrorResponses = {
  400: Type.Ref('Problem'),
  401: Type.Ref('Problem'),
  403: Type.Ref('Problem'),
  404: Type.Ref('Problem'),
  429: Type.Ref('Problem'),
  500: Type.Ref('Problem'),
};
