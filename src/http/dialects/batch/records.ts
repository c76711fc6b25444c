import Type from 'typebox';
import { fieldError, type FieldError } from '../../../core/errors.js';
import { CODE_PATTERN, UserDraftSchema, type User, type UserDraft } from '../../../core/users/user.js';
import { compileValidator } from '../../../core/validation.js';
import { isPlainObject, withoutNulls } from '../../shared/dialect-input.js';
import { renameField } from '../../shared/field-names.js';

const core = UserDraftSchema.properties;
const NamePart = (description?: string) => Type.String({ minLength: 1, maxLength: 100, ...(description && { description }) });
const Code = (description: string) => Type.String({ pattern: CODE_PATTERN, maxLength: 100, description });

/** Seed 000's `name`: first and last name, under either pair of names. */
export const BatchName = Type.Object(
  {
    firstName: Type.Optional(NamePart()),
    lastName: Type.Optional(NamePart()),
    givenName: Type.Optional(NamePart('Same as firstName.')),
    familyName: Type.Optional(NamePart('Same as lastName.')),
  },
  { additionalProperties: false },
);

/** A role named by `name` or by `id`; a Muster role's id is its name. */
export const BatchRole = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "The role's id, which in Muster is its name." })),
  },
  { additionalProperties: false },
);

export const BatchUserAccess = Type.Object(
  {
    departmentId: Type.Optional(Code("A code of the tenant's departments catalog.")),
    locationId: Type.Optional(Code("A code of the tenant's locations catalog.")),
    programAdminRoleId: Type.Optional(Code("A code of the tenant's program-admin-roles catalog.")),
  },
  { additionalProperties: false },
);

/** One record of seed 000's request. `null` in an optional field means the field is absent. */
export const BatchUserRecord = Type.Object(
  {
    userName: core.userName,
    password: core.password,
    name: Type.Optional(BatchName),
    email: core.email,
    phoneNumber: core.phoneNumber,
    roles: Type.Optional(Type.Array(BatchRole, { maxItems: 100 })),
    userAccess: Type.Optional(BatchUserAccess),
    lockedOut: core.lockedOut,
  },
  { additionalProperties: false },
);

const validateRecord = compileValidator(BatchUserRecord);

type NameStyle = 'firstName' | 'givenName';

/** How one record named things, so that its errors and its echo use the client's own names. */
export interface RecordStyle {
  name: NameStyle;
  /** For each role, whether it was named by `name` or by `id`. */
  roles: ('name' | 'id')[];
}

export type MappedRecord = { ok: true; draft: UserDraft; style: RecordStyle } | { ok: false; errors: FieldError[]; style: RecordStyle };

const DEFAULT_STYLE: RecordStyle = { name: 'givenName', roles: [] };

function pick(a: string | undefined, b: string | undefined, fields: [string, string], errors: FieldError[]): string | undefined {
  if (a !== undefined && b !== undefined && a !== b) {
    errors.push(fieldError(fields[0], 'INVALID_FIELD', `${fields[0]} and ${fields[1]} are the same field and differ; give one of them.`));
  }
  return a ?? b;
}

/** Removes `null` from a record and from the objects inside it. */
function normalise(record: Record<string, unknown>): Record<string, unknown> {
  const out = withoutNulls(record);
  if (isPlainObject(out.name)) out.name = withoutNulls(out.name);
  if (isPlainObject(out.userAccess)) out.userAccess = withoutNulls(out.userAccess);
  if (Array.isArray(out.roles)) out.roles = out.roles.map((role) => (isPlainObject(role) ? withoutNulls(role) : role));
  return out;
}

/** Maps one seed 000 record onto the core's draft; the core then validates the draft's values. */
export function mapRecord(input: unknown): MappedRecord {
  if (!isPlainObject(input)) {
    return { ok: false, style: DEFAULT_STYLE, errors: [fieldError('', 'INVALID_FIELD', 'Each record must be a JSON object.')] };
  }
  const record = normalise(input);
  const checked = validateRecord(record);
  const rawName = isPlainObject(record.name) ? record.name : {};
  const style: RecordStyle = {
    name: rawName.firstName !== undefined || rawName.lastName !== undefined ? 'firstName' : 'givenName',
    roles: Array.isArray(record.roles) ? record.roles.map((r) => (isPlainObject(r) && r.name === undefined && r.id !== undefined ? 'id' : 'name')) : [],
  };
  if (!checked.ok) return { ok: false, style, errors: checked.errors };
  const r = checked.value;
  const errors: FieldError[] = [];
  const givenName = pick(r.name?.firstName, r.name?.givenName, ['name.firstName', 'name.givenName'], errors);
  const familyName = pick(r.name?.lastName, r.name?.familyName, ['name.lastName', 'name.familyName'], errors);
  const roles = (r.roles ?? []).map((role, i) => {
    if (role.name === undefined && role.id === undefined) {
      errors.push(fieldError(`roles.${i}.name`, 'MISSING_REQUIRED_FIELD', `roles.${i}.name is required (or roles.${i}.id).`));
    }
    return pick(role.name, role.id, [`roles.${i}.name`, `roles.${i}.id`], errors) ?? '';
  });
  if (errors.length > 0) return { ok: false, style, errors };
  const draft: UserDraft = {
    email: r.email,
    ...(r.userName !== undefined && { userName: r.userName }),
    ...(r.password !== undefined && { password: r.password }),
    ...((givenName !== undefined || familyName !== undefined) && {
      name: { ...(givenName !== undefined && { givenName }), ...(familyName !== undefined && { familyName }) },
    }),
    ...(r.phoneNumber !== undefined && { phoneNumber: r.phoneNumber }),
    ...(r.roles !== undefined && { roles }),
    ...(r.userAccess !== undefined && { access: { ...r.userAccess } }),
    ...(r.lockedOut !== undefined && { lockedOut: r.lockedOut }),
  };
  return { ok: true, draft, style };
}

/** A core field name as this record called it. */
export function recordField(field: string, style: RecordStyle): string {
  if (field.startsWith('access.')) return `userAccess.${field.slice('access.'.length)}`;
  if (field === 'name.givenName' && style.name === 'firstName') return 'name.firstName';
  if (field === 'name.familyName' && style.name === 'firstName') return 'name.lastName';
  if (field === 'name.formatted') return 'name';
  const role = /^roles\.(\d+)$/.exec(field);
  if (role) return `roles.${role[1]}.${style.roles[Number(role[1])] ?? 'name'}`;
  return field;
}

export function renameRecordErrors(errors: readonly FieldError[], style: RecordStyle): FieldError[] {
  return errors.map((e) => renameField(e, (field) => recordField(field, style)));
}

/** A created user in seed 000's names (its name under the pair of names the record used). */
export function presentBatchUser(user: User, style: RecordStyle) {
  const { givenName, familyName } = user.name;
  const name =
    style.name === 'firstName'
      ? { ...(givenName !== undefined && { firstName: givenName }), ...(familyName !== undefined && { lastName: familyName }) }
      : { ...(givenName !== undefined && { givenName }), ...(familyName !== undefined && { familyName }) };
  return {
    id: user.id,
    userName: user.userName,
    email: user.email,
    ...(Object.keys(name).length > 0 && { name }),
    ...(user.phoneNumber !== null && { phoneNumber: user.phoneNumber }),
    roles: user.roles.map((role) => ({ name: role, id: role })),
    userAccess: user.access,
    lockedOut: user.lockedOut,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
  };
}
