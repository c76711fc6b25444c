/**
 * SCIM filters (RFC 7644 §3.4.2.2), parsed by `scim2-parse-filter`, translated into the core's
 * user filter tree, which the database runs. Attribute names are case-insensitive and may
 * carry their schema URN. What Muster holds as a constant (every email is `type: "work"`,
 * `primary: true`) is decided here; everything about stored values is decided by the core
 * and the database.
 */
import { parse, type Filter } from 'scim2-parse-filter';
import { fieldError } from '../../core/errors.js';
import type { UserFilter, UserFilterAttribute, UserSortAttribute } from '../../core/users/user-filter.js';
import { ScimProtocolError } from './map-error.js';
import { CORE_GROUP, CORE_USER, ENTERPRISE_USER } from './schemas.js';

export function invalidFilter(message: string): ScimProtocolError {
  return new ScimProtocolError('INVALID_FIELD', 'invalidFilter', message, [fieldError('filter', 'INVALID_FIELD', message)]);
}

/** The longest filter accepted: the parser's cost grows with the square of the length. */
export const MAX_FILTER_TEXT = 4096;

/**
 * Parses a filter's text; invalidFilter when it is not one. Control characters are refused
 * before parsing: a filter never needs them (its strings are JSON strings), and the parser's
 * string pattern backtracks exponentially on raw line breaks after an unclosed quote.
 */
export function parseScimFilter(text: string): Filter {
  if (text.length > MAX_FILTER_TEXT) throw invalidFilter(`A filter may be at most ${MAX_FILTER_TEXT} characters long.`);
  if (/\p{Cc}/u.test(text)) throw invalidFilter('A filter must not contain control characters (a line break, a tab, …).');
  try {
    return parse(text);
  } catch (error) {
    throw invalidFilter(`The filter is not valid: ${error instanceof Error ? error.message : String(error)}.`);
  }
}

/** The attribute path without a core schema URN, lower-cased; an enterprise attribute keeps a short `enterprise:` prefix. */
export function normalisePath(path: string): string {
  let lower = path.toLowerCase();
  for (const urn of [CORE_USER, CORE_GROUP]) if (lower.startsWith(`${urn.toLowerCase()}:`)) lower = lower.slice(urn.length + 1);
  const enterprise = `${ENTERPRISE_USER.toLowerCase()}:`;
  if (lower.startsWith(enterprise)) lower = `enterprise:${lower.slice(enterprise.length)}`;
  return lower;
}

/** SCIM attribute paths of a User and the core attribute each is stored in. */
const USER_ATTRIBUTES: Record<string, UserFilterAttribute | 'active'> = {
  id: 'id',
  externalid: 'externalId',
  username: 'userName',
  displayname: 'displayName',
  'name.formatted': 'name.formatted',
  'name.givenname': 'name.givenName',
  'name.familyname': 'name.familyName',
  emails: 'email',
  'emails.value': 'email',
  phonenumbers: 'phoneNumber',
  'phonenumbers.value': 'phoneNumber',
  active: 'active',
  'meta.created': 'createdAt',
  'meta.lastmodified': 'updatedAt',
  groups: 'roleId',
  'groups.value': 'roleId',
  'groups.display': 'role',
  'enterprise:employeenumber': 'employeeNumber',
  'enterprise:department': 'department',
};

/**
 * Sub-attributes that hold the same value for every element Muster shows: each email is
 * `type: "work"`, `primary: true`; so is the phone number, when there is one; a group
 * membership is `type: "direct"`. `present` names the attribute whose presence the element's
 * existence depends on.
 */
const CONSTANTS: Record<string, { value: string | boolean; present?: UserFilterAttribute }> = {
  'emails.type': { value: 'work' },
  'emails.primary': { value: true },
  'phonenumbers.type': { value: 'work', present: 'phoneNumber' },
  'phonenumbers.primary': { value: true, present: 'phoneNumber' },
  'groups.type': { value: 'direct', present: 'role' },
  'meta.resourcetype': { value: 'User' },
};

type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';

/** A comparison with a constant, decided here (strings compared without regard to case, as SCIM's `type` values are). */
function compareConstant(op: CompareOp | 'pr', constant: string | boolean, value: unknown): boolean {
  if (op === 'pr') return true;
  if (typeof constant === 'boolean') {
    const v = typeof value === 'string' ? value.toLowerCase() === 'true' : value;
    if (op === 'eq') return v === constant;
    if (op === 'ne') return v !== constant;
    throw invalidFilter(`"${op}" cannot compare a boolean.`);
  }
  const a = constant.toLowerCase();
  const b = String(value ?? '').toLowerCase();
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'co':
      return a.includes(b);
    case 'sw':
      return a.startsWith(b);
    case 'ew':
      return a.endsWith(b);
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
  }
}

function constantFilter(matches: boolean, present: UserFilterAttribute | undefined): UserFilter {
  if (!matches) return { op: 'none' };
  return present ? { op: 'present', attribute: present } : { op: 'all' };
}

/** The value of a comparison as the core takes it; Entra ID's "True"/"False" become booleans. */
function coreValue(attribute: UserFilterAttribute | 'active', value: unknown): string | boolean {
  if (attribute === 'active' || attribute === 'lockedOut') {
    if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
    if (typeof value === 'boolean') return value;
    throw invalidFilter('active compares with true or false.');
  }
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return value;
  throw invalidFilter('Compare this attribute with a string.');
}

/** `schemas eq "…"`: every user has the core schema; those with an employee number or department also the enterprise one. */
function schemasLeaf(op: CompareOp | 'pr', value: unknown): UserFilter {
  if (op === 'pr') return { op: 'all' };
  if (op !== 'eq' && op !== 'ne') throw invalidFilter('schemas compares with eq or ne.');
  const schema = String(value ?? '').toLowerCase();
  const has: UserFilter =
    schema === CORE_USER.toLowerCase()
      ? { op: 'all' }
      : schema === ENTERPRISE_USER.toLowerCase()
        ? { op: 'or', filters: [{ op: 'present', attribute: 'employeeNumber' }, { op: 'present', attribute: 'department' }] }
        : { op: 'none' };
  return op === 'eq' ? has : { op: 'not', filter: has };
}

function leaf(path: string, op: CompareOp | 'pr', value: unknown): UserFilter {
  if (path === 'schemas') return schemasLeaf(op, value);
  const constant = CONSTANTS[path];
  if (constant) return constantFilter(compareConstant(op, constant.value, value), constant.present);
  const attribute = USER_ATTRIBUTES[path];
  if (attribute === undefined) throw invalidFilter(`Users cannot be filtered by "${path}".`);
  if (op === 'pr') return attribute === 'active' ? { op: 'all' } : { op: 'present', attribute };
  // `attr eq null` asks for an absent value, `ne null` for a present one.
  if (value === null && (op === 'eq' || op === 'ne')) {
    const present: UserFilter = attribute === 'active' ? { op: 'all' } : { op: 'present', attribute };
    return op === 'ne' ? present : { op: 'not', filter: present };
  }
  if (attribute === 'active') {
    // active is "not locked out".
    const active = coreValue('active', value);
    if (op !== 'eq' && op !== 'ne') throw invalidFilter(`"${op}" cannot compare active.`);
    return { op, attribute: 'lockedOut', value: !active };
  }
  return { op, attribute, value: coreValue(attribute, value) };
}

/** Translates a parsed SCIM filter into the core's user filter; `within` is the multi-valued attribute of a value path. */
function toUserFilter(node: Filter, within?: string): UserFilter {
  switch (node.op) {
    case 'and':
    case 'or':
      return { op: node.op, filters: node.filters.map((f) => toUserFilter(f, within)) };
    case 'not':
      return { op: 'not', filter: toUserFilter(node.filter, within) };
    case '[]': {
      if (within) throw invalidFilter('Value paths cannot nest.');
      const parent = normalisePath(node.attrPath);
      if (!['emails', 'phonenumbers', 'groups'].includes(parent)) throw invalidFilter(`Users cannot be filtered by "${node.attrPath}[…]".`);
      // Muster shows at most one element of each: a condition on "an element" is a condition on that one.
      const inner = toUserFilter(node.valFilter, parent);
      return parent === 'emails' ? inner : { op: 'and', filters: [{ op: 'present', attribute: parent === 'groups' ? 'role' : 'phoneNumber' }, inner] };
    }
    default: {
      const own = normalisePath(node.attrPath);
      const path = within ? `${within}.${own}` : own;
      return leaf(path, node.op, node.op === 'pr' ? undefined : node.compValue);
    }
  }
}

/** The core filter for a SCIM filter on Users. */
export function userFilterFromScim(text: string): UserFilter {
  return toUserFilter(parseScimFilter(text));
}

/** Sort keys: every filterable path whose attribute has one value per user (not group membership). */
const USER_SORT: Record<string, UserSortAttribute | 'active'> = Object.fromEntries(
  Object.entries(USER_ATTRIBUTES).filter((entry): entry is [string, UserSortAttribute | 'active'] => entry[1] !== 'role' && entry[1] !== 'roleId'),
);

/** The core sort for `sortBy`/`sortOrder` (RFC 7644 §3.4.2.3). */
export function userSortFromScim(sortBy: string | undefined, sortOrder: string | undefined): { sortBy?: UserSortAttribute; descending: boolean } {
  let descending = false;
  if (sortOrder !== undefined) {
    const order = sortOrder.toLowerCase();
    if (order !== 'ascending' && order !== 'descending') {
      throw new ScimProtocolError('INVALID_FIELD', 'invalidValue', 'sortOrder must be "ascending" or "descending".', [fieldError('sortOrder', 'INVALID_FIELD', 'sortOrder must be "ascending" or "descending".')]);
    }
    descending = order === 'descending';
  }
  if (sortBy === undefined || sortBy === '') return { descending };
  const attribute = USER_SORT[normalisePath(sortBy)];
  if (attribute === undefined) {
    throw new ScimProtocolError('INVALID_FIELD', 'invalidValue', `Users cannot be sorted by "${sortBy}".`, [fieldError('sortBy', 'INVALID_FIELD', `Users cannot be sorted by "${sortBy}".`)]);
  }
  // Active users are those not locked out: ascending "active" is descending lockedOut.
  if (attribute === 'active') return { sortBy: 'lockedOut', descending: !descending };
  return { sortBy: attribute, descending };
}
