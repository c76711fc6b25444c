/**
 * The user entity of seed 001 (the vendor's Users API 4.0 appendix) and how it maps onto
 * Muster's user. Fields Muster stores are mapped; the others are accepted and ignored, so a
 * client that sends the whole documented entity works unchanged.
 */
import Type from 'typebox';
import type { User } from '../../../core/users/user.js';
import { isPlainObject, withoutNulls } from '../../shared/dialect-input.js';

/** The vendor's example writes booleans and numbers as strings ("true", "4"); both forms are accepted. */
const LooseBoolean = (options: { description?: string } = {}) => Type.Union([Type.Boolean(), Type.Literal('true'), Type.Literal('false')], options);
const LooseNumber = (options: { description?: string } = {}) => Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]{1,18}$' })], options);
const AgentGroupAssignment = Type.Object({ agentGroupId: LooseNumber(), assignmentDate: Type.Optional(Type.String()) });
const Ignored = (description: string) => ({ description: `Accepted and ignored: ${description}` });

export const AccountUserInput = Type.Object(
  {
    loginName: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: "The user's unique login name → Muster `userName`. When absent, the email is the login name." })),
    email: Type.String({ format: 'email', minLength: 3, maxLength: 255, description: 'Required; unique in the account → Muster `email`.' }),
    fullName: Type.Optional(Type.String({ minLength: 1, maxLength: 201, description: '→ Muster `name.formatted`.' })),
    passwordSh: Type.Optional(
      Type.String({
        writeOnly: true,
        description: "The user's password → checked against the account's password policy and stored as an argon2id hash. Without it the user has no password (as the vendor's API users).",
      }),
    ),
    confirmPassword: Type.Optional(Type.String({ writeOnly: true, description: 'When given, must equal passwordSh.' })),
    isEnabled: Type.Optional(LooseBoolean({ description: '`false` creates the user locked out (Muster `lockedOut: true`). Default true.' })),
    mobileNumber: Type.Optional(Type.String({ description: '→ Muster `phoneNumber`.' })),
    profileIds: Type.Optional(
      Type.Array(LooseNumber(), {
        description: 'Each profile id names a Muster role of the account (the role named by the decimal id, e.g. "2359273612"); the roles must exist, and a role marked admin may only be granted by a global admin.',
      }),
    ),
    id: Type.Optional(LooseNumber(Ignored('read only; the id is generated.'))),
    pid: Type.Optional(Type.String(Ignored('process id.'))),
    deleted: Type.Optional(LooseBoolean(Ignored('read only.'))),
    nickname: Type.Optional(Type.String(Ignored('Muster keeps no nickname.'))),
    maxChats: Type.Optional(LooseNumber(Ignored('chat capacity.'))),
    maxAsyncChats: Type.Optional(LooseNumber(Ignored('messaging capacity.'))),
    skillIds: Type.Optional(Type.Array(LooseNumber(), Ignored('skills.'))),
    memberOf: Type.Optional(Type.Union([AgentGroupAssignment, Type.Array(AgentGroupAssignment)], Ignored('agent group.'))),
    managerOf: Type.Optional(Type.Array(AgentGroupAssignment, Ignored('managed agent groups.'))),
    changePwdNextLogin: Type.Optional(LooseBoolean(Ignored('Muster has no forced password change.'))),
    oldPassword: Type.Optional(Type.String({ writeOnly: true, ...Ignored('only used when users change their own password.') })),
    lastPwdChangeDate: Type.Optional(Type.String(Ignored('read only.'))),
    dateUpdated: Type.Optional(Type.String(Ignored('read only.'))),
    permissionGroups: Type.Optional(Type.Array(LooseNumber(), Ignored('permission groups.'))),
    pictureId: Type.Optional(Type.String(Ignored('picture.'))),
    pictureUrl: Type.Optional(Type.String(Ignored('picture.'))),
    disabledManually: Type.Optional(LooseBoolean(Ignored('use isEnabled.'))),
    description: Type.Optional(Type.String(Ignored('description.'))),
    employeeId: Type.Optional(Type.String(Ignored('external employee id.'))),
    backgndImgUri: Type.Optional(Type.String(Ignored('background image.'))),
    pnCertName: Type.Optional(Type.String(Ignored('mobile app id.'))),
    isApiUser: Type.Optional(LooseBoolean(Ignored('an API user is simply a user without passwordSh.'))),
    userType: Type.Optional(Type.Union([Type.Integer(), Type.String()], Ignored('user type (0 system, 1 human, 2 bot).'))),
    userTypeId: Type.Optional(Type.Union([Type.Integer(), Type.String()], Ignored('user type (0 system, 1 human, 2 bot).'))),
    allowedAppKeys: Type.Optional(Type.String(Ignored("an API user's application keys."))),
    lobIds: Type.Optional(Type.Array(LooseNumber(), Ignored('lines of business.'))),
  },
  {
    description: 'A user entity of the Users API 4.0 appendix. Fields not listed here are ignored as well.',
  },
);

/** A created user as the account dialect shows it: what Muster stores, under the vendor's names; never a password. */
export const AccountUser = Type.Object({
  id: Type.Integer({ minimum: 1, description: "Muster's user number (the vendor's long id)." }),
  deleted: Type.Boolean(),
  loginName: Type.String(),
  fullName: Type.Optional(Type.String()),
  email: Type.String(),
  isEnabled: Type.Boolean(),
  mobileNumber: Type.Optional(Type.String()),
  profileIds: Type.Array(Type.Integer(), { description: "The user's roles whose names are profile ids." }),
  dateUpdated: Type.String({ description: 'UTC, as `yyyy-MM-dd HH:mm:ss`.' }),
});

const PROFILE_ID = /^[1-9][0-9]{0,15}$/;

/** "true"/"false" as the vendor's example writes them, or the boolean itself; anything else unchanged. */
function looseBoolean(value: unknown): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}

function looseId(value: unknown): unknown {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  if (typeof value === 'string' && PROFILE_ID.test(value)) return value;
  return value;
}

/**
 * The core draft for one entity. Values of the wrong type are passed on unchanged so that the
 * core reports them (under the core's field name, which `accountField` renames back).
 */
export function toDraft(input: unknown): unknown {
  if (!isPlainObject(input)) return input;
  const entity = withoutNulls(input);
  const draft: Record<string, unknown> = {};
  if ('email' in entity) draft.email = entity.email;
  if ('loginName' in entity) draft.userName = entity.loginName;
  if ('fullName' in entity) draft.name = { formatted: entity.fullName };
  if ('passwordSh' in entity) draft.password = entity.passwordSh;
  if ('confirmPassword' in entity) draft.confirmPassword = entity.confirmPassword;
  if ('mobileNumber' in entity) draft.phoneNumber = entity.mobileNumber;
  if ('isEnabled' in entity) {
    const enabled = looseBoolean(entity.isEnabled);
    draft.lockedOut = typeof enabled === 'boolean' ? !enabled : enabled;
  }
  if ('profileIds' in entity) draft.roles = Array.isArray(entity.profileIds) ? entity.profileIds.map(looseId) : entity.profileIds;
  return draft;
}

const FIELD_NAMES: Record<string, string> = {
  userName: 'loginName',
  'name.formatted': 'fullName',
  password: 'passwordSh',
  phoneNumber: 'mobileNumber',
  lockedOut: 'isEnabled',
  roles: 'profileIds',
};

/** A core field name as the vendor's entity calls it (`roles.2` is `profileIds.2`). */
export function accountField(field: string): string {
  const renamed = FIELD_NAMES[field];
  if (renamed) return renamed;
  return field.startsWith('roles.') ? `profileIds.${field.slice('roles.'.length)}` : field;
}

/** `2024-01-02T03:04:05.678Z` as the vendor writes dates: `2024-01-02 03:04:05` (UTC). */
function vendorDate(iso: string): string {
  return iso.slice(0, 19).replace('T', ' ');
}

export function presentAccountUser(user: User) {
  return {
    id: user.number,
    deleted: false,
    loginName: user.userName,
    ...(user.name.formatted !== undefined && { fullName: user.name.formatted }),
    email: user.email,
    isEnabled: !user.lockedOut,
    ...(user.phoneNumber !== null && { mobileNumber: user.phoneNumber }),
    profileIds: user.roles.filter((role) => PROFILE_ID.test(role)).map(Number),
    dateUpdated: vendorDate(user.updatedAt),
  };
}
