import Type, { type Static } from 'typebox';

export const NAME_MAX = 100;
export const EMAIL_MIN = 3;
export const EMAIL_MAX = 255;
export const USER_NAME_MAX = 255;
export const PHONE_PATTERN = '^\\+?[0-9][0-9 ().-]{1,30}$';
export const CODE_PATTERN = '^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,99}$';
export const EXTERNAL_ID_MAX = 255;
/** Free-text directory attributes (employee number, department). */
export const ATTRIBUTE_MAX = 255;

const NamePart = Type.String({ minLength: 1, maxLength: NAME_MAX });
const Code = Type.String({ pattern: CODE_PATTERN, maxLength: 100 });

export const UserNameSchema = Type.Object(
  {
    givenName: Type.Optional(NamePart),
    familyName: Type.Optional(NamePart),
    formatted: Type.Optional(Type.String({ minLength: 1, maxLength: 2 * NAME_MAX + 1 })),
  },
  { additionalProperties: false },
);

export const UserAccessSchema = Type.Object(
  {
    departmentId: Type.Optional(Code),
    locationId: Type.Optional(Code),
    programAdminRoleId: Type.Optional(Code),
  },
  { additionalProperties: false },
);

/**
 * What a caller may say about a new user. Every dialect maps its own body onto this; the
 * core validates it field by field so that one bad record of a batch fails alone.
 */
export const UserDraftSchema = Type.Object(
  {
    userName: Type.Optional(Type.String({ minLength: 1, maxLength: USER_NAME_MAX, description: 'Defaults to the email.' })),
    email: Type.String({ minLength: EMAIL_MIN, maxLength: EMAIL_MAX, format: 'email' }),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, writeOnly: true })),
    confirmPassword: Type.Optional(Type.String({ maxLength: 4096, writeOnly: true })),
    generatePassword: Type.Optional(
      Type.Boolean({ description: 'Generate a random password instead of taking one (the user is invited to set theirs).' }),
    ),
    passwordHash: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 512,
        writeOnly: true,
        description:
          'Instead of `password`: a hash from another system, stored as given — argon2id/argon2i (PHC), bcrypt ($2a$/$2b$/$2y$), ' +
          'scrypt ($scrypt$ln=…,r=…,p=…$salt$hash) or PBKDF2-SHA256/512 ($pbkdf2-sha256$i=…$salt$hash). Re-hashed to argon2id at the first successful verification.',
      }),
    ),
    name: Type.Optional(UserNameSchema),
    phoneNumber: Type.Optional(Type.String({ pattern: PHONE_PATTERN, maxLength: 32 })),
    roles: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100 })),
    access: Type.Optional(UserAccessSchema),
    lockedOut: Type.Optional(Type.Boolean()),
    approved: Type.Optional(Type.Boolean()),
    externalId: Type.Optional(
      Type.String({ minLength: 1, maxLength: EXTERNAL_ID_MAX, description: "The provisioning client's own identifier for this user (SCIM `externalId`): unique in the tenant, compared exactly." }),
    ),
    displayName: Type.Optional(
      Type.String({ minLength: 1, maxLength: 2 * NAME_MAX + 1, description: 'The name the user is shown by (SCIM `displayName`), apart from `name.formatted`.' }),
    ),
    employeeNumber: Type.Optional(Type.String({ minLength: 1, maxLength: ATTRIBUTE_MAX, description: 'Free text, as the directory holds it.' })),
    department: Type.Optional(
      Type.String({ minLength: 1, maxLength: ATTRIBUTE_MAX, description: 'Free text, as the directory holds it; not checked against the department codes of `access.departmentId`.' }),
    ),
  },
  { additionalProperties: false },
);
export type UserDraft = Static<typeof UserDraftSchema>;

export interface UserName {
  givenName?: string | undefined;
  familyName?: string | undefined;
  formatted?: string | undefined;
}

export interface UserAccess {
  departmentId?: string | undefined;
  locationId?: string | undefined;
  programAdminRoleId?: string | undefined;
}

/** A stored user as the core sees it. The password hash never leaves storage through this type. */
export interface User {
  id: string;
  number: number;
  tenantId: string;
  userName: string;
  email: string;
  name: UserName;
  phoneNumber: string | null;
  roles: string[];
  access: UserAccess;
  lockedOut: boolean;
  approved: boolean;
  hasPassword: boolean;
  createdAt: string;
  updatedAt: string;
  revision: number;
  /** The provisioning client's own id for the user; unique in the tenant. */
  externalId: string | null;
  /** The name the user is shown by (SCIM `displayName`), apart from `name.formatted`. */
  displayName: string | null;
  employeeNumber: string | null;
  department: string | null;
}

/** A user ready to be written: identity keys computed, password already hashed. */
export interface NewUser extends Omit<User, 'number' | 'hasPassword'> {
  userNameKey: string;
  emailKey: string;
  passwordHash: string | null;
}

/** "Ada Lovelace" from its parts, when the caller gave parts but no formatted name. */
export function formatName(name: UserName): string | undefined {
  if (name.formatted) return name.formatted;
  const parts = [name.givenName, name.familyName].filter(Boolean);
  return parts.length > 0 ? parts.join(' ') : undefined;
}
