/**
 * The query language for finding users: a small filter tree over the canonical user fields,
 * which storage turns into SQL on both databases. Dialects translate their own filter syntax
 * (SCIM's, for one) into this tree; the core checks it and normalises its values, so that a
 * comparison means the same whichever API asked for it.
 */
import { DomainError, fieldError } from '../errors.js';
import { hasForbiddenCharacters, identityKey } from './normalise.js';

/**
 * How each attribute compares:
 * - `identity`: userName and email, compared on their identity keys (NFKC, case folded), as
 *   uniqueness compares them;
 * - `text`: free text compared without regard to case (on SQLite, for ASCII letters only);
 * - `exact`: compared as stored, case included;
 * - `boolean`, `timestamp` (ISO 8601, compared as instants).
 */
export type AttributeKind = 'identity' | 'text' | 'exact' | 'boolean' | 'timestamp';

export const USER_FILTER_ATTRIBUTES = {
  id: 'exact',
  externalId: 'exact',
  userName: 'identity',
  email: 'identity',
  'name.givenName': 'text',
  'name.familyName': 'text',
  'name.formatted': 'text',
  displayName: 'text',
  phoneNumber: 'exact',
  employeeNumber: 'exact',
  department: 'text',
  /** A role the user holds (any of them). */
  role: 'exact',
  /** The id of a role the user holds (any of them): a directory group's id. */
  roleId: 'exact',
  lockedOut: 'boolean',
  createdAt: 'timestamp',
  updatedAt: 'timestamp',
} as const satisfies Record<string, AttributeKind>;

export type UserFilterAttribute = keyof typeof USER_FILTER_ATTRIBUTES;

/** Attributes a user may lack: `present` tests them, and a comparison never matches an absent value. */
export const OPTIONAL_USER_ATTRIBUTES: ReadonlySet<UserFilterAttribute> = new Set([
  'externalId',
  'name.givenName',
  'name.familyName',
  'name.formatted',
  'displayName',
  'phoneNumber',
  'employeeNumber',
  'department',
  'role',
  'roleId',
]);

/** What a page of users may be sorted by: every attribute with one value per user. */
export type UserSortAttribute = Exclude<UserFilterAttribute, 'role' | 'roleId'>;

export const COMPARISONS = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'] as const;
export type Comparison = (typeof COMPARISONS)[number];

export type UserFilter =
  | { op: 'and' | 'or'; filters: UserFilter[] }
  | { op: 'not'; filter: UserFilter }
  /** The attribute has a value. */
  | { op: 'present'; attribute: UserFilterAttribute }
  | { op: Comparison; attribute: UserFilterAttribute; value: string | boolean }
  /** Matches every user (`all`) or none (`none`): what a dialect's constant conditions become. */
  | { op: 'all' | 'none' };

/** Bounds that keep one filter cheap to check and to run. */
export const MAX_FILTER_TERMS = 64;
export const MAX_FILTER_DEPTH = 12;
export const MAX_FILTER_VALUE_LENGTH = 1024;

const OPERATORS_BY_KIND: Record<AttributeKind, readonly Comparison[]> = {
  identity: COMPARISONS,
  text: COMPARISONS,
  exact: COMPARISONS,
  boolean: ['eq', 'ne'],
  timestamp: ['eq', 'ne', 'gt', 'ge', 'lt', 'le'],
};

function invalid(message: string): DomainError {
  return new DomainError('INVALID_FIELD', message, [fieldError('filter', 'INVALID_FIELD', message)]);
}

function isAttribute(value: unknown): value is UserFilterAttribute {
  return typeof value === 'string' && Object.hasOwn(USER_FILTER_ATTRIBUTES, value);
}

/** An ISO 8601 date-time with an explicit zone, as the instant storage compares (`toISOString`). */
function instant(value: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value)) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/**
 * Checks a filter tree that came from outside and returns it with its values normalised:
 * identity values turned into identity keys, instants into storage's ISO form. Throws
 * INVALID_FIELD (field `filter`) for an unknown attribute or operator, a value of the wrong
 * type, or a tree past the bounds.
 */
export function checkUserFilter(input: unknown): UserFilter {
  let terms = 0;
  const walk = (node: unknown, depth: number): UserFilter => {
    if (depth > MAX_FILTER_DEPTH) throw invalid(`A filter may nest at most ${MAX_FILTER_DEPTH} levels deep.`);
    if (++terms > MAX_FILTER_TERMS) throw invalid(`A filter may hold at most ${MAX_FILTER_TERMS} terms.`);
    if (typeof node !== 'object' || node === null) throw invalid('The filter is not valid.');
    const n = node as Record<string, unknown>;
    switch (n.op) {
      case 'all':
      case 'none':
        return { op: n.op };
      case 'and':
      case 'or': {
        if (!Array.isArray(n.filters)) throw invalid(`"${n.op}" needs a list of filters.`);
        return { op: n.op, filters: n.filters.map((f) => walk(f, depth + 1)) };
      }
      case 'not':
        return { op: 'not', filter: walk(n.filter, depth + 1) };
      case 'present':
        if (!isAttribute(n.attribute)) throw invalid(`Users cannot be filtered by "${String(n.attribute)}".`);
        return { op: 'present', attribute: n.attribute };
      default:
        return comparison(n);
    }
  };
  return walk(input, 1);
}

function comparison(n: Record<string, unknown>): UserFilter {
  const op = n.op as Comparison;
  if (!(COMPARISONS as readonly unknown[]).includes(op)) throw invalid(`"${String(n.op)}" is not a filter operator.`);
  if (!isAttribute(n.attribute)) throw invalid(`Users cannot be filtered by "${String(n.attribute)}".`);
  const attribute = n.attribute;
  const kind = USER_FILTER_ATTRIBUTES[attribute];
  if (!OPERATORS_BY_KIND[kind].includes(op)) throw invalid(`"${op}" cannot compare ${attribute}.`);
  const value = n.value;
  if (kind === 'boolean') {
    if (typeof value !== 'boolean') throw invalid(`${attribute} compares with true or false.`);
    return { op, attribute, value };
  }
  if (typeof value !== 'string') throw invalid(`${attribute} compares with a string.`);
  if (value.length > MAX_FILTER_VALUE_LENGTH) throw invalid(`A filter value may be at most ${MAX_FILTER_VALUE_LENGTH} characters long.`);
  if (hasForbiddenCharacters(value)) throw invalid('A filter value must not contain control characters.');
  if (kind === 'timestamp') {
    const at = instant(value);
    if (at === undefined) throw invalid(`${attribute} compares with an ISO 8601 date-time, e.g. "2024-05-13T04:42:34Z".`);
    return { op, attribute, value: at };
  }
  return { op, attribute, value: kind === 'identity' ? identityKey(value) : value };
}

/** Whether `value` names an attribute users can be sorted by. */
export function isUserSortAttribute(value: unknown): value is UserSortAttribute {
  return isAttribute(value) && value !== 'role' && value !== 'roleId';
}
