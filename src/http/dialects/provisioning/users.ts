/**
 * The user object of seed 002 (the vendor's public samples show its fields: EmailAddress,
 * FirstName, LastName, Password, Disabled, Active, Roles, AccountType, Status, Id,
 * CreatedDateUtc, LastLoginDateUtc) and how it maps onto Muster's user.
 */
import Type from 'typebox';
import { fieldError, type FieldError } from '../../../core/errors.js';
import type { UserDraft, User } from '../../../core/users/user.js';
import { isPlainObject, withoutNulls } from '../../shared/dialect-input.js';
import { SEED_MESSAGES } from './map-error.js';

/** The vendor's role numbers, each naming a Muster role of the tenant by this name. */
export const ROLE_NAMES: Readonly<Record<number, string>> = {
  1: 'AccountOwner',
  2: 'Administrator',
  3: 'Support',
  4: 'ReportViewer',
  5: 'SupportAdmin',
  6: 'EDiscoveryAdmin',
};
const ROLE_NUMBERS = new Map(Object.entries(ROLE_NAMES).map(([number, name]) => [name, Number(number)]));

/** The vendor's account types, by name and number; the samples send either form. */
const ACCOUNT_TYPES: Readonly<Record<string, number>> = {
  Unknown: 0,
  Free: 1,
  PaidIndividual: 2,
  PaidBusiness: 3,
  LimitedFree: 6,
  LimitedBusiness: 7,
  PaidPersonal: 13,
  TrialBusiness: 14,
  Reseller: 15,
  PendingBusiness: 16,
};
const ACCOUNT_TYPE_NUMBERS = new Set(Object.values(ACCOUNT_TYPES));
const PAID_BUSINESS = 3;
const PENDING_BUSINESS = 16;
const STATUS = { disabled: 1, enabled: 2, pendingActivation: 4 } as const;

export const ProvisioningUserInput = Type.Object(
  {
    EmailAddress: Type.String({ format: 'email', description: 'Required; unique in the company → Muster `email` (and user name).' }),
    FirstName: Type.Optional(Type.String({ description: '→ Muster `name.givenName`. FirstName or LastName must be set.' })),
    LastName: Type.Optional(Type.String({ description: '→ Muster `name.familyName`. FirstName or LastName must be set.' })),
    Password: Type.String({ writeOnly: true, description: "Required; checked against the company's password policy, stored as an argon2id hash." }),
    Roles: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: 6 }), {
        description:
          'Role numbers: 1 AccountOwner, 2 Administrator, 3 Support, 4 ReportViewer, 5 SupportAdmin, 6 EDiscoveryAdmin. Each names the Muster role of that name, which must exist in the tenant; a role marked admin may only be granted by a global admin.',
      }),
    ),
    AccountType: Type.Optional(
      Type.Union([Type.Integer(), Type.String()], {
        description: 'An account type number or name (3 PaidBusiness, 7 LimitedBusiness, 14 TrialBusiness, 16 PendingBusiness, …). 16 creates the user unapproved (Muster `approved: false`); the others create an approved user.',
      }),
    ),
    Disabled: Type.Optional(Type.Boolean({ description: '`true` creates the user locked out (Muster `lockedOut`).' })),
    Active: Type.Optional(Type.Boolean({ description: '`false` creates the user locked out, like Disabled.' })),
    Id: Type.Optional(Type.String({ description: 'Accepted and ignored: the id is generated.' })),
    Status: Type.Optional(Type.Integer({ description: 'Accepted and ignored: read only.' })),
    CreatedDateUtc: Type.Optional(Type.String({ description: 'Accepted and ignored: read only.' })),
    LastLoginDateUtc: Type.Optional(Type.String({ description: 'Accepted and ignored: read only.' })),
  },
  { description: 'A user. Fields not listed here are ignored, as the vendor does.' },
);

/** What a user of the request becomes: a core draft and what to show of it if only simulated, or why it was refused before the core. */
export type MappedUser = { ok: true; draft: UserDraft; simulated: SimulatedUser } | { ok: false; error: FieldError };
export type SimulatedUser = { EmailAddress: string; FirstName?: string; LastName?: string; Disabled: boolean; Roles: number[]; AccountType: number; Status: number };

/** A non-empty string, or undefined for absent and empty; a value of another type is returned for the core to refuse. */
function setText(value: unknown): unknown {
  return value === undefined || value === '' ? undefined : value;
}

function accountTypeOf(value: unknown): number | undefined {
  if (typeof value === 'number' && ACCOUNT_TYPE_NUMBERS.has(value)) return value;
  if (typeof value === 'string') return ACCOUNT_TYPES[value] ?? (/^\d{1,2}$/.test(value) && ACCOUNT_TYPE_NUMBERS.has(Number(value)) ? Number(value) : undefined);
  return undefined;
}

/**
 * Maps one user of the request onto a core draft, checking first what this API requires
 * beyond the core (a name, a password) in the seed's order; values of the wrong type are
 * passed on for the core to refuse.
 */
export function mapUser(input: unknown): MappedUser {
  if (!isPlainObject(input)) return { ok: false, error: fieldError('', 'INVALID_FIELD', 'Each user must be an object.') };
  const user = withoutNulls(input);
  const email = setText(user.EmailAddress);
  if (email === undefined) return { ok: false, error: fieldError('EmailAddress', 'MISSING_REQUIRED_FIELD', SEED_MESSAGES.email) };
  const firstName = setText(user.FirstName);
  const lastName = setText(user.LastName);
  if (firstName === undefined && lastName === undefined) return { ok: false, error: fieldError('FirstName', 'MISSING_REQUIRED_FIELD', SEED_MESSAGES.name) };
  const password = setText(user.Password);
  if (password === undefined) return { ok: false, error: fieldError('Password', 'MISSING_REQUIRED_FIELD', SEED_MESSAGES.passwordMissing) };

  const roleNumbers = user.Roles ?? [];
  if (!Array.isArray(roleNumbers) || !roleNumbers.every((n) => typeof n === 'number' && ROLE_NAMES[n] !== undefined)) {
    return { ok: false, error: fieldError('Roles', 'INVALID_FIELD', 'Roles must be a list of role numbers from 1 to 6.') };
  }
  const accountType = user.AccountType === undefined ? PAID_BUSINESS : accountTypeOf(user.AccountType);
  if (accountType === undefined) {
    return { ok: false, error: fieldError('AccountType', 'INVALID_FIELD', `AccountType must be one of ${Object.entries(ACCOUNT_TYPES).map(([name, n]) => `${n} (${name})`).join(', ')}.`) };
  }
  for (const flag of ['Disabled', 'Active'] as const) {
    if (user[flag] !== undefined && typeof user[flag] !== 'boolean') {
      return { ok: false, error: fieldError(flag, 'INVALID_FIELD', `${flag} must be true or false.`) };
    }
  }
  const lockedOut = user.Disabled === true || user.Active === false;
  const approved = accountType !== PENDING_BUSINESS;
  const draft = {
    email,
    name: { ...(firstName !== undefined && { givenName: firstName }), ...(lastName !== undefined && { familyName: lastName }) },
    password,
    roles: [...new Set(roleNumbers as number[])].map((n) => ROLE_NAMES[n]!),
    lockedOut,
    approved,
  } as UserDraft;
  const simulated: SimulatedUser = {
    EmailAddress: String(email),
    ...(typeof firstName === 'string' && { FirstName: firstName }),
    ...(typeof lastName === 'string' && { LastName: lastName }),
    Disabled: lockedOut,
    Roles: [...new Set(roleNumbers as number[])].sort((a, b) => a - b),
    AccountType: approved ? PAID_BUSINESS : PENDING_BUSINESS,
    Status: statusOf(lockedOut, approved),
  };
  return { ok: true, draft, simulated };
}

function statusOf(lockedOut: boolean, approved: boolean): number {
  if (lockedOut) return STATUS.disabled;
  return approved ? STATUS.enabled : STATUS.pendingActivation;
}

const FIELD_NAMES: Record<string, string> = {
  email: 'EmailAddress',
  userName: 'EmailAddress',
  'name.givenName': 'FirstName',
  'name.familyName': 'LastName',
  'name.formatted': 'FirstName',
  password: 'Password',
  roles: 'Roles',
  lockedOut: 'Disabled',
  approved: 'AccountType',
};

/** A core field name as this API calls it (`roles.1` is `Roles`). */
export function provisioningField(field: string): string {
  return FIELD_NAMES[field] ?? (field.startsWith('roles.') ? 'Roles' : field);
}

/** A created user as this API shows it: dates as `/Date(ms)/`, enums as numbers; never a password. */
export function presentUser(user: User) {
  return {
    Id: user.id,
    EmailAddress: user.email,
    ...(user.name.givenName !== undefined && { FirstName: user.name.givenName }),
    ...(user.name.familyName !== undefined && { LastName: user.name.familyName }),
    Disabled: user.lockedOut,
    Roles: user.roles.flatMap((name) => ROLE_NUMBERS.get(name) ?? []).sort((a, b) => a - b),
    AccountType: user.approved ? PAID_BUSINESS : PENDING_BUSINESS,
    Status: statusOf(user.lockedOut, user.approved),
    CreatedDateUtc: `/Date(${Date.parse(user.createdAt)})/`,
  };
}
