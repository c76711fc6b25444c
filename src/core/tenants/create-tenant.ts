import Type, { type Static } from 'typebox';
import { auditEvent } from '../audit/audit.js';
import { authorize, type Actor } from '../credentials/actor.js';
import { DomainError } from '../errors.js';
import type { Clock, Ids, TenantStore } from '../ports.js';
import { compileValidator, PlainText } from '../validation.js';
import {
  DEFAULT_PASSWORD_POLICY,
  DEFAULT_TENANT_ID,
  EmailDomainRulesSchema,
  PasswordPolicySchema,
  TENANT_ID_PATTERN,
  type PasswordPolicy,
  type Tenant,
} from './tenant.js';

export const TenantSettingsSchema = Type.Object(
  {
    name: Type.Optional(PlainText({ minLength: 1, maxLength: 200 })),
    seatLimit: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 100_000_000 }), Type.Null()])),
    emailDomains: Type.Optional(Type.Partial(EmailDomainRulesSchema)),
    passwordPolicy: Type.Optional(Type.Partial(PasswordPolicySchema)),
  },
  { additionalProperties: false },
);
export type TenantSettings = Static<typeof TenantSettingsSchema>;

export const NewTenantSchema = Type.Object(
  {
    id: Type.String({ pattern: TENANT_ID_PATTERN, description: 'A slug: lower-case letters, digits and dashes.' }),
    ...TenantSettingsSchema.properties,
  },
  { additionalProperties: false },
);
export type NewTenant = Static<typeof NewTenantSchema>;

const validateNewTenant = compileValidator(NewTenantSchema);

/** A policy after applying a partial change, refused when its bounds contradict each other. */
export function mergePasswordPolicy(base: PasswordPolicy, change: Partial<PasswordPolicy> | undefined): PasswordPolicy {
  const policy = { ...base, ...change };
  if (policy.minLength > policy.maxLength) {
    throw new DomainError('INVALID_FIELD', 'passwordPolicy.minLength must not exceed maxLength.', [
      { field: 'passwordPolicy.minLength', code: 'INVALID_FIELD', message: 'minLength must not exceed maxLength.' },
    ]);
  }
  return policy;
}

export function invalidInput(errors: { field: string; code: DomainError['code']; message: string }[]): DomainError {
  const first = errors[0]!;
  return new DomainError(first.code, first.message, errors);
}

/** Creates a tenant with its generated application key (the `app` dialect's path key). */
export async function createTenant(deps: { tenants: TenantStore; clock: Clock; ids: Ids }, actor: Actor, input: unknown): Promise<Tenant> {
  authorize(actor, 'tenants:create', null);
  const checked = validateNewTenant(input);
  if (!checked.ok) throw invalidInput(checked.errors);
  const body = checked.value;
  const now = deps.clock.now().toISOString();
  const tenant: Tenant = {
    id: body.id,
    name: body.name ?? body.id,
    seatLimit: body.seatLimit ?? null,
    emailDomains: { allow: body.emailDomains?.allow ?? [], block: body.emailDomains?.block ?? [] },
    passwordPolicy: mergePasswordPolicy(DEFAULT_PASSWORD_POLICY, body.passwordPolicy),
    appKey: newAppKey(deps.ids),
    userCount: 0,
    usersRevision: 0,
    createdAt: now,
    updatedAt: now,
  };
  const audit = auditEvent(deps, actor, tenant.id, 'tenant.created', tenant.id, { seatLimit: tenant.seatLimit }, now);
  if (!(await deps.tenants.insert(tenant, audit))) throw new DomainError('CONFLICT', `A tenant with id "${tenant.id}" already exists.`);
  return tenant;
}

export function newAppKey(ids: Ids): string {
  return `app_${ids.secret(18)}`;
}

/** Creates the `default` tenant if it does not exist yet (on every start; idempotent). */
export async function ensureDefaultTenant(deps: { tenants: TenantStore; clock: Clock; ids: Ids }): Promise<void> {
  const now = deps.clock.now().toISOString();
  await deps.tenants.insert({
    id: DEFAULT_TENANT_ID,
    name: 'Default',
    seatLimit: null,
    emailDomains: { allow: [], block: [] },
    passwordPolicy: DEFAULT_PASSWORD_POLICY,
    appKey: newAppKey(deps.ids),
    userCount: 0,
    usersRevision: 0,
    createdAt: now,
    updatedAt: now,
  });
}
