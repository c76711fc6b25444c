/**
 * SCIM User ⇄ Muster user. Mapping only: what SCIM says becomes a core draft or a core change,
 * and the core decides whether it is valid.
 *
 * - `userName`, `externalId`, `displayName`, `name.{givenName,familyName,formatted}` map one
 *   to one (`displayName` and `name.formatted` are two fields, RFC 7643 §4.1.1).
 * - Muster holds one email and one phone number, shown back as `type: "work", primary: true`.
 *   Of several emails it keeps the one marked primary, else the work address, else the first;
 *   of several phone numbers the primary one, else the one the request set anew (Entra ID
 *   writes the mobile number beside the work one), else the first. A user without emails
 *   takes its userName as email when that is an address.
 * - `active: false` is a locked-out user. Entra ID's string booleans ("True", "False") are read
 *   as booleans.
 * - The enterprise extension's `employeeNumber` and `department` are free text.
 * - `groups` are the roles the user holds (by the role's stable id): read-only here, changed through /Groups.
 */
import { DomainError, fieldError } from '../../core/errors.js';
import type { UserPatch } from '../../core/users/update-user.js';
import { formatName, type User, type UserDraft, type UserName } from '../../core/users/user.js';
import { ScimProtocolError } from './map-error.js';
import { CORE_USER, ENTERPRISE_USER } from './schemas.js';
import { userVersion } from './versions.js';

/** A SCIM resource as a plain object: its `schemas` and whatever attributes it has. */
export interface ScimResource {
  schemas: string[];
  [attribute: string]: unknown;
}

/** What Muster takes from a SCIM User. */
export interface ScimUserFields {
  userName: string | undefined;
  email: string | undefined;
  name: UserName;
  displayName: string | null;
  phoneNumber: string | null;
  externalId: string | null;
  employeeNumber: string | null;
  department: string | null;
  /** undefined when the resource does not say. */
  active: boolean | undefined;
  password: string | undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An attribute by name, ignoring case (RFC 7643 §2.1: attribute names are case-insensitive). */
export function attribute(object: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(object, name)) return object[name];
  const lower = name.toLowerCase();
  const key = Object.keys(object).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : object[key];
}

function invalidValue(field: string, message: string): ScimProtocolError {
  return new ScimProtocolError('INVALID_FIELD', 'invalidValue', message, [fieldError(field, 'INVALID_FIELD', message)]);
}

/** A string attribute, or undefined when absent, null or empty. */
function text(object: Record<string, unknown>, name: string, field = name): string | undefined {
  const value = attribute(object, name);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') throw invalidValue(field, `${field} must be a string.`);
  return value;
}

/** A boolean attribute; Entra ID sends "True" and "False" as strings. */
export function scimBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  throw invalidValue(field, `${field} must be true or false.`);
}

/**
 * The one value Muster keeps of a multi-valued attribute: one the client marked primary, else
 * (for emails) a "work" one, else one the request set anew, else the first. After a PATCH,
 * the primary mark of what Muster itself showed (`before`) does not count: it was Muster's.
 */
function pickValue(object: Record<string, unknown>, name: string, current: string | null | undefined, before: ScimResource | undefined, preferWork: boolean): string | undefined {
  const list = attribute(object, name);
  if (list === undefined || list === null) return undefined;
  if (!Array.isArray(list)) throw invalidValue(name, `${name} must be a list.`);
  const shown = before ? JSON.stringify(attribute(before, name) ?? []) : '[]';
  const values = list.map((item, i) => {
    if (typeof item === 'string') return { value: item, primary: false, work: false };
    if (!isObject(item)) throw invalidValue(name, `${name}[${i}] must be an object with a value.`);
    const ours = shown.includes(JSON.stringify(item));
    const type = attribute(item, 'type');
    // `value` is the one required sub-attribute (as /Schemas says): an element without one is refused, not skipped.
    const value = text(item, 'value', `${name}.value`);
    if (value === undefined) throw invalidValue(`${name}.value`, `${name}[${i}].value is required.`);
    return {
      value,
      primary: !ours && scimBoolean(attribute(item, 'primary'), `${name}.primary`) === true,
      work: typeof type === 'string' && type.toLowerCase() === 'work',
    };
  });
  const present = values.filter((v): v is { value: string; primary: boolean; work: boolean } => v.value !== undefined);
  const isNew = (v: { value: string }) => current !== undefined && current !== null && v.value !== current;
  const work = preferWork ? present.filter((v) => v.work) : [];
  const chosen = present.find((v) => v.primary) ?? work.find(isNew) ?? work[0] ?? present.find(isNew) ?? present[0];
  return chosen?.value;
}

function nameOf(resource: Record<string, unknown>, before?: ScimResource): UserName {
  const raw = attribute(resource, 'name');
  if (raw !== undefined && raw !== null && !isObject(raw)) throw invalidValue('name', 'name must be an object.');
  const name: UserName = {};
  const parts = isObject(raw) ? raw : {};
  const givenName = text(parts, 'givenName', 'name.givenName');
  const familyName = text(parts, 'familyName', 'name.familyName');
  let formatted = text(parts, 'formatted', 'name.formatted');
  if (before) {
    // A PATCH changed the resource Muster showed: a formatted name Muster had derived from the
    // parts is derived again from the new parts.
    const old = nameOf(before);
    if (formatted === old.formatted && formatted === formatName({ givenName: old.givenName, familyName: old.familyName })) {
      if (givenName !== old.givenName || familyName !== old.familyName) formatted = undefined;
    }
  }
  if (givenName !== undefined) name.givenName = givenName;
  if (familyName !== undefined) name.familyName = familyName;
  if (formatted !== undefined) name.formatted = formatted;
  return name;
}

/**
 * Reads a SCIM User body (or the result of a PATCH on the representation Muster showed, with
 * that representation as `before`). Only the attributes Muster keeps are read; others are ignored.
 */
export function scimUserFields(resource: unknown, current?: User, before?: ScimResource): ScimUserFields {
  if (!isObject(resource)) throw new ScimProtocolError('MALFORMED_JSON', 'invalidSyntax', 'The body must be a SCIM User object.');
  const enterprise = attribute(resource, ENTERPRISE_USER);
  if (enterprise !== undefined && enterprise !== null && !isObject(enterprise)) throw invalidValue(ENTERPRISE_USER, `${ENTERPRISE_USER} must be an object.`);
  const extension = isObject(enterprise) ? enterprise : {};
  const password = attribute(resource, 'password');
  if (password !== undefined && password !== null && typeof password !== 'string') throw invalidValue('password', 'password must be a string.');
  return {
    userName: text(resource, 'userName'),
    email: pickValue(resource, 'emails', current?.email, before, true),
    name: nameOf(resource, before),
    displayName: text(resource, 'displayName') ?? null,
    phoneNumber: pickValue(resource, 'phoneNumbers', current?.phoneNumber, before, false) ?? null,
    externalId: text(resource, 'externalId') ?? null,
    employeeNumber: text(extension, 'employeeNumber', `${ENTERPRISE_USER}:employeeNumber`) ?? null,
    department: text(extension, 'department', `${ENTERPRISE_USER}:department`) ?? null,
    active: scimBoolean(attribute(resource, 'active'), 'active'),
    password: typeof password === 'string' && password !== '' ? password : undefined,
  };
}

/** The email Muster needs: the SCIM one, else the userName when it is an address. */
function emailOf(fields: ScimUserFields): string {
  const email = fields.email ?? (fields.userName?.includes('@') ? fields.userName : undefined);
  if (email === undefined) {
    throw new DomainError('MISSING_REQUIRED_FIELD', 'Muster needs an email address: send emails with a value.', [
      fieldError('email', 'MISSING_REQUIRED_FIELD', 'emails is required: Muster needs an email address.'),
    ]);
  }
  return email;
}

/** What a User (RFC 7643 §4.1, §4.3) may hold: the attributes Muster keeps, and those it accepts and ignores (lower case). */
const USER_SHAPE = {
  kept: ['schemas', 'id', 'externalid', 'username', 'name', 'displayname', 'active', 'password', 'emails', 'phonenumbers', 'groups', 'meta', ENTERPRISE_USER.toLowerCase()],
  ignored: ['nickname', 'profileurl', 'title', 'usertype', 'preferredlanguage', 'locale', 'timezone', 'addresses', 'ims', 'photos', 'entitlements', 'roles', 'x509certificates'],
  name: ['formatted', 'givenname', 'familyname', 'middlename', 'honorificprefix', 'honorificsuffix'],
  enterprise: ['employeenumber', 'department', 'costcenter', 'organization', 'division', 'manager'],
};

/** The attributes of a User resource (its name's and its enterprise extension's included) that no User schema has. */
export function unknownUserAttributes(resource: Record<string, unknown>): string[] {
  const unknown = Object.keys(resource).filter((key) => !USER_SHAPE.kept.includes(key.toLowerCase()) && !USER_SHAPE.ignored.includes(key.toLowerCase()));
  const name = attribute(resource, 'name');
  if (isObject(name)) unknown.push(...Object.keys(name).filter((key) => !USER_SHAPE.name.includes(key.toLowerCase())).map((key) => `name.${key}`));
  const enterprise = attribute(resource, ENTERPRISE_USER);
  if (isObject(enterprise)) unknown.push(...Object.keys(enterprise).filter((key) => !USER_SHAPE.enterprise.includes(key.toLowerCase())).map((key) => `${ENTERPRISE_USER}:${key}`));
  return unknown;
}

/** A core draft for a new user. */
export function draftFromScim(body: unknown): UserDraft {
  const fields = scimUserFields(body);
  if (fields.userName === undefined) {
    throw new DomainError('MISSING_REQUIRED_FIELD', 'userName is required.', [fieldError('userName', 'MISSING_REQUIRED_FIELD', 'userName is required.')]);
  }
  const draft: UserDraft = { userName: fields.userName, email: emailOf(fields) };
  if (Object.keys(fields.name).length > 0) draft.name = fields.name;
  if (fields.displayName !== null) draft.displayName = fields.displayName;
  if (fields.phoneNumber !== null) draft.phoneNumber = fields.phoneNumber;
  if (fields.externalId !== null) draft.externalId = fields.externalId;
  if (fields.employeeNumber !== null) draft.employeeNumber = fields.employeeNumber;
  if (fields.department !== null) draft.department = fields.department;
  if (fields.active === false) draft.lockedOut = true;
  if (fields.password !== undefined) draft.password = fields.password;
  return draft;
}

function sameName(a: UserName, b: UserName): boolean {
  return a.givenName === b.givenName && a.familyName === b.familyName && a.formatted === b.formatted;
}

/**
 * The core change that turns `current` into what `fields` describe: only what differs, so
 * that unchanged attributes are not checked again (an email kept is not re-checked against
 * new domain rules). An absent email keeps the current one: Muster cannot hold a user without.
 */
export function changeFromScim(current: User, fields: ScimUserFields): UserPatch {
  if (fields.userName === undefined) {
    throw new DomainError('MISSING_REQUIRED_FIELD', 'userName is required.', [fieldError('userName', 'MISSING_REQUIRED_FIELD', 'userName is required.')]);
  }
  const change: UserPatch = {};
  if (fields.userName !== current.userName) change.userName = fields.userName;
  const email = fields.email ?? current.email;
  if (email !== current.email) change.email = email;
  if (!sameName(fields.name, current.name)) change.name = fields.name;
  if (fields.displayName !== current.displayName) change.displayName = fields.displayName;
  if (fields.phoneNumber !== current.phoneNumber) change.phoneNumber = fields.phoneNumber;
  if (fields.externalId !== current.externalId) change.externalId = fields.externalId;
  if (fields.employeeNumber !== current.employeeNumber) change.employeeNumber = fields.employeeNumber;
  if (fields.department !== current.department) change.department = fields.department;
  if (fields.active !== undefined && fields.active === current.lockedOut) change.lockedOut = !fields.active;
  if (fields.password !== undefined) change.password = fields.password;
  return change;
}

/**
 * A Muster user as a SCIM User; `base` is the absolute URL of /scim/v2, `roleIds` the id of
 * each role by name (a group's id), for the roles the user holds.
 */
export function toScimUser(user: User, base: string, roleIds: ReadonlyMap<string, string>): ScimResource {
  const groups = user.roles.flatMap((role) => {
    const id = roleIds.get(role);
    return id === undefined ? [] : [{ value: id, display: role, $ref: `${base}/Groups/${encodeURIComponent(id)}`, type: 'direct' }];
  });
  const name: Record<string, string> = {};
  if (user.name.formatted !== undefined) name.formatted = user.name.formatted;
  if (user.name.familyName !== undefined) name.familyName = user.name.familyName;
  if (user.name.givenName !== undefined) name.givenName = user.name.givenName;
  const enterprise: Record<string, string> = {};
  if (user.employeeNumber !== null) enterprise.employeeNumber = user.employeeNumber;
  if (user.department !== null) enterprise.department = user.department;
  const hasEnterprise = Object.keys(enterprise).length > 0;
  return {
    schemas: hasEnterprise ? [CORE_USER, ENTERPRISE_USER] : [CORE_USER],
    id: user.id,
    ...(user.externalId !== null && { externalId: user.externalId }),
    userName: user.userName,
    ...(Object.keys(name).length > 0 && { name }),
    ...(user.displayName !== null && { displayName: user.displayName }),
    active: !user.lockedOut,
    emails: [{ value: user.email, type: 'work', primary: true }],
    ...(user.phoneNumber !== null && { phoneNumbers: [{ value: user.phoneNumber, type: 'work', primary: true }] }),
    ...(groups.length > 0 && { groups }),
    ...(hasEnterprise && { [ENTERPRISE_USER]: enterprise }),
    meta: { resourceType: 'User', created: user.createdAt, lastModified: user.updatedAt, location: `${base}/Users/${user.id}`, version: userVersion(user) },
  };
}
