/**
 * A user as an export writes it, in the format the importer reads back: an NDJSON line is a
 * user draft as POST …/users takes it; a CSV row has the importer's own column names (see
 * import-columns.ts). Only what a draft may carry is written: never a password or its hash,
 * nor what Muster generates (id, number, revision, timestamps). A CSV has no column for SCIM's
 * `displayName` (a "Display Name" column means the formatted name): NDJSON carries it.
 */
import type { User } from '../core/users/user.js';
import type { CsvField } from './import-columns.js';

/** The CSV header of an export, in this order. */
export const EXPORT_CSV_COLUMNS = [
  'email',
  'userName',
  'externalId',
  'givenName',
  'familyName',
  'formattedName',
  'phoneNumber',
  'roles',
  'departmentId',
  'locationId',
  'programAdminRoleId',
  'lockedOut',
  'approved',
  'employeeNumber',
  'departmentName',
] as const satisfies readonly CsvField[];

/** The name the user is shown by, apart from `name.formatted` (SCIM's displayName), when the user has one. */
function displayNameOf(user: User): string | null | undefined {
  return (user as User & { displayName?: string | null }).displayName;
}

/** The user as a draft (NDJSON): absent and empty values are left out. */
export function userToDraft(user: User): Record<string, unknown> {
  const name = Object.fromEntries(Object.entries(user.name).filter(([, v]) => typeof v === 'string' && v !== ''));
  const access = Object.fromEntries(Object.entries(user.access).filter(([, v]) => typeof v === 'string' && v !== ''));
  const draft: Record<string, unknown> = { email: user.email, userName: user.userName };
  if (Object.keys(name).length > 0) draft.name = name;
  if (user.phoneNumber) draft.phoneNumber = user.phoneNumber;
  if (user.roles.length > 0) draft.roles = user.roles;
  if (Object.keys(access).length > 0) draft.access = access;
  draft.lockedOut = user.lockedOut;
  draft.approved = user.approved;
  if (user.externalId) draft.externalId = user.externalId;
  const displayName = displayNameOf(user);
  if (displayName) draft.displayName = displayName;
  if (user.employeeNumber) draft.employeeNumber = user.employeeNumber;
  if (user.department) draft.department = user.department;
  return draft;
}

/** The user as a CSV row under EXPORT_CSV_COLUMNS; roles are separated by `;`. */
export function userToCsvRecord(user: User): string[] {
  const cell: Record<(typeof EXPORT_CSV_COLUMNS)[number], string> = {
    email: user.email,
    userName: user.userName,
    externalId: user.externalId ?? '',
    givenName: user.name.givenName ?? '',
    familyName: user.name.familyName ?? '',
    formattedName: user.name.formatted ?? '',
    phoneNumber: user.phoneNumber ?? '',
    roles: user.roles.join(';'),
    departmentId: user.access.departmentId ?? '',
    locationId: user.access.locationId ?? '',
    programAdminRoleId: user.access.programAdminRoleId ?? '',
    lockedOut: String(user.lockedOut),
    approved: String(user.approved),
    employeeNumber: user.employeeNumber ?? '',
    departmentName: user.department ?? '',
  };
  return EXPORT_CSV_COLUMNS.map((column) => cell[column]);
}
