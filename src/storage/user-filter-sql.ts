/**
 * The core's user filter (`core/users/user-filter.ts`) as SQL over the `users` table, the same
 * on SQLite and PostgreSQL. Every condition is two-valued (true or false, never NULL), so that
 * `not` is the exact complement of what it negates, absent values included. String functions
 * are chosen so that both databases compare alike: no LIKE (case-insensitive on SQLite,
 * sensitive on PostgreSQL), and ordering by code point (PostgreSQL's "C" collation, SQLite's
 * default BINARY).
 */
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { OPTIONAL_USER_ATTRIBUTES, USER_FILTER_ATTRIBUTES, type Comparison, type UserFilter, type UserFilterAttribute, type UserSortAttribute } from '../core/users/user-filter.js';
import type { DialectName } from './database.js';

const COLUMNS: Record<Exclude<UserFilterAttribute, 'role' | 'roleId'>, string> = {
  id: 'id',
  externalId: 'external_id',
  userName: 'user_name_key',
  email: 'email_key',
  'name.givenName': 'given_name',
  'name.familyName': 'family_name',
  'name.formatted': 'formatted_name',
  displayName: 'display_name',
  phoneNumber: 'phone_number',
  employeeNumber: 'employee_number',
  department: 'department',
  lockedOut: 'locked_out',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
};

const TRUE = sql<SqlBool>`(1 = 1)`;

/** A bound string, typed, so that PostgreSQL picks the text variant of `lower`, `length`, … */
function operand(value: string): RawBuilder<unknown> {
  return sql`cast(${value} as text)`;
}
const FALSE = sql<SqlBool>`(1 = 0)`;

/** The value of a string attribute as compared: lower-cased on both sides for `text` attributes. */
function side(expression: RawBuilder<unknown>, attribute: UserFilterAttribute): RawBuilder<unknown> {
  return USER_FILTER_ATTRIBUTES[attribute] === 'text' ? sql`lower(${expression})` : expression;
}

/** Code-point order on both databases. */
function ordered(expression: RawBuilder<unknown>, dialect: DialectName): RawBuilder<unknown> {
  return dialect === 'postgres' ? sql`${expression} collate "C"` : expression;
}

/** `left <op> right` for strings; `left` is never NULL here. */
function compareStrings(op: Exclude<Comparison, 'ne'>, left: RawBuilder<unknown>, right: RawBuilder<unknown>, dialect: DialectName): RawBuilder<SqlBool> {
  switch (op) {
    case 'eq':
      return sql<SqlBool>`(${left} = ${right})`;
    case 'co':
      return dialect === 'postgres' ? sql<SqlBool>`(strpos(${left}, ${right}) > 0)` : sql<SqlBool>`(instr(${left}, ${right}) > 0)`;
    case 'sw':
      return dialect === 'postgres' ? sql<SqlBool>`(left(${left}, length(${right})) = ${right})` : sql<SqlBool>`(substr(${left}, 1, length(${right})) = ${right})`;
    case 'ew':
      return dialect === 'postgres' ? sql<SqlBool>`(right(${left}, length(${right})) = ${right})` : sql<SqlBool>`(substr(${left}, -length(${right})) = ${right})`;
    case 'gt':
      return sql<SqlBool>`(${ordered(left, dialect)} > ${ordered(right, dialect)})`;
    case 'ge':
      return sql<SqlBool>`(${ordered(left, dialect)} >= ${ordered(right, dialect)})`;
    case 'lt':
      return sql<SqlBool>`(${ordered(left, dialect)} < ${ordered(right, dialect)})`;
    case 'le':
      return sql<SqlBool>`(${ordered(left, dialect)} <= ${ordered(right, dialect)})`;
  }
}

function comparison(op: Comparison, attribute: UserFilterAttribute, value: string | boolean, dialect: DialectName): RawBuilder<SqlBool> {
  if (op === 'ne') return sql<SqlBool>`(not ${comparison('eq', attribute, value, dialect)})`;
  if (attribute === 'lockedOut') return sql<SqlBool>`(locked_out = ${value === true ? 1 : 0})`;
  const text = String(value);
  // An empty operand: every present value contains, starts and ends with it.
  if (text === '' && (op === 'co' || op === 'sw' || op === 'ew')) return present(attribute);
  if (attribute === 'role') {
    const held = compareStrings(op, sql.ref('ur.role_name'), operand(text), dialect);
    return sql<SqlBool>`(exists (select 1 from user_roles ur where ur.user_id = ${sql.ref('users.id')} and ${held}))`;
  }
  if (attribute === 'roleId') {
    const held = compareStrings(op, sql.ref('r.id'), operand(text), dialect);
    return sql<SqlBool>`(exists (select 1 from user_roles ur join roles r on r.tenant_id = ur.tenant_id and r.name = ur.role_name where ur.user_id = ${sql.ref('users.id')} and ${held}))`;
  }
  const column = sql.ref(`users.${COLUMNS[attribute]}`);
  const compared = compareStrings(op, side(column, attribute), side(operand(text), attribute), dialect);
  // `NULL = x` is NULL, which `not` would keep NULL: an absent value compares false instead.
  return OPTIONAL_USER_ATTRIBUTES.has(attribute) ? sql<SqlBool>`(${column} is not null and ${compared})` : compared;
}

function present(attribute: UserFilterAttribute): RawBuilder<SqlBool> {
  if (attribute === 'role' || attribute === 'roleId') return sql<SqlBool>`(exists (select 1 from user_roles ur where ur.user_id = ${sql.ref('users.id')}))`;
  return OPTIONAL_USER_ATTRIBUTES.has(attribute) ? sql<SqlBool>`(${sql.ref(`users.${COLUMNS[attribute]}`)} is not null)` : TRUE;
}

/** The WHERE condition of a checked filter; every user when there is none. */
export function userFilterSql(filter: UserFilter | undefined, dialect: DialectName): RawBuilder<SqlBool> {
  if (filter === undefined) return TRUE;
  switch (filter.op) {
    case 'all':
      return TRUE;
    case 'none':
      return FALSE;
    case 'and':
      return filter.filters.length === 0 ? TRUE : sql<SqlBool>`(${sql.join(filter.filters.map((f) => userFilterSql(f, dialect)), sql` and `)})`;
    case 'or':
      return filter.filters.length === 0 ? FALSE : sql<SqlBool>`(${sql.join(filter.filters.map((f) => userFilterSql(f, dialect)), sql` or `)})`;
    case 'not':
      return sql<SqlBool>`(not ${userFilterSql(filter.filter, dialect)})`;
    case 'present':
      return present(filter.attribute);
    default:
      return comparison(filter.op, filter.attribute, filter.value, dialect);
  }
}

/**
 * ORDER BY terms for a sort attribute: users without a value last in either direction, then
 * the value (text attributes without regard to case); the caller adds the user number last.
 */
export function userOrderSql(sortBy: UserSortAttribute | undefined, descending: boolean, dialect: DialectName): RawBuilder<unknown>[] {
  if (sortBy === undefined) return [];
  const column = sql.ref(`users.${COLUMNS[sortBy]}`);
  const value = ordered(side(column, sortBy), dialect);
  const direction = descending ? sql`desc` : sql`asc`;
  return [sql`(case when ${column} is null then 1 else 0 end) asc`, sql`${value} ${direction}`];
}
