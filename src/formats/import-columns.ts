/**
 * How the columns of an import map onto the core's user draft. A CSV header names flat
 * fields (`givenName`, `departmentId`, `roles` …) that are turned into the draft's shape
 * (`name.givenName`, `access.departmentId`, `roles: [...]`); JSON and NDJSON rows already
 * have the draft's shape, and a mapping only renames their top-level keys. Values are passed
 * on as read (booleans and role lists aside): the core validates every field of every row.
 */
import { DomainError, fieldError, type FieldError } from '../core/errors.js';

/** The columns a CSV header may name, and where each goes in the draft. */
const CSV_FIELDS = {
  email: ['email'],
  userName: ['userName'],
  externalId: ['externalId'],
  password: ['password'],
  confirmPassword: ['confirmPassword'],
  passwordHash: ['passwordHash'],
  generatePassword: ['generatePassword'],
  givenName: ['name', 'givenName'],
  familyName: ['name', 'familyName'],
  formattedName: ['name', 'formatted'],
  phoneNumber: ['phoneNumber'],
  roles: ['roles'],
  departmentId: ['access', 'departmentId'],
  locationId: ['access', 'locationId'],
  programAdminRoleId: ['access', 'programAdminRoleId'],
  lockedOut: ['lockedOut'],
  approved: ['approved'],
  employeeNumber: ['employeeNumber'],
  /** The directory's free-text department (`department` in JSON); a bare "department" column means departmentId. */
  departmentName: ['department'],
} as const satisfies Record<string, readonly string[]>;
export type CsvField = keyof typeof CSV_FIELDS;
export const CSV_FIELD_NAMES = Object.keys(CSV_FIELDS) as CsvField[];

const BOOLEAN_FIELDS = new Set<CsvField>(['lockedOut', 'approved', 'generatePassword']);

/** Other spellings a header may use for a field. */
const ALIASES: Record<string, CsvField> = {
  emailaddress: 'email',
  mail: 'email',
  username: 'userName',
  login: 'userName',
  firstname: 'givenName',
  lastname: 'familyName',
  surname: 'familyName',
  name: 'formattedName',
  fullname: 'formattedName',
  displayname: 'formattedName',
  phone: 'phoneNumber',
  department: 'departmentId',
  location: 'locationId',
  locked: 'lockedOut',
};

/** "E-Mail", "email_address" and "Email Address" compare equal. */
function simplify(name: string): string {
  return name.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
}

const BY_SIMPLE_NAME = new Map<string, CsvField>([...CSV_FIELD_NAMES.map((f) => [simplify(f), f] as const), ...Object.entries(ALIASES)]);

/** The field a name means (`first_name` → givenName), or undefined. */
export function csvFieldOf(name: string): CsvField | undefined {
  return BY_SIMPLE_NAME.get(simplify(name));
}

/**
 * Parses mapping entries `Source=target` (or `Source:target`): the column or key `Source`
 * is read as `target`; an empty target ignores it.
 */
export function parseColumnMap(entries: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of entries) {
    const at = entry.includes('=') ? entry.lastIndexOf('=') : entry.lastIndexOf(':');
    if (at <= 0) throw new DomainError('INVALID_FIELD', `The mapping "${entry}" is not of the form Source=target.`, [fieldError('map', 'INVALID_FIELD', 'Write each mapping as Source=target.')]);
    map.set(entry.slice(0, at).trim(), entry.slice(at + 1).trim());
  }
  return map;
}

/** What each CSV column becomes: a field, or nothing (ignored). */
export type CsvPlan = (CsvField | null)[];

/**
 * Plans a CSV header: each column maps to a field by the mapping, else by its own name.
 * Refuses a header with an unknown column, a field named twice, or no email column — those
 * would otherwise fail every row alike.
 */
export function planCsvColumns(header: readonly string[], mapping: ReadonlyMap<string, string>): CsvPlan {
  const problems: FieldError[] = [];
  const seen = new Map<CsvField, string>();
  const plan = header.map((column): CsvField | null => {
    const mapped = mapping.has(column) ? mapping.get(column)! : column;
    if (mapped === '') return null;
    const field = csvFieldOf(mapped);
    if (!field) {
      problems.push(
        fieldError(
          column,
          'INVALID_FIELD',
          mapping.has(column)
            ? `The column "${column}" is mapped to "${mapped}", which is not one of: ${CSV_FIELD_NAMES.join(', ')}.`
            : `The column "${column}" is not a known field. Map it (map=${column}=givenName, say) or ignore it (map=${column}=). Known fields: ${CSV_FIELD_NAMES.join(', ')}.`,
        ),
      );
      return null;
    }
    const earlier = seen.get(field);
    if (earlier !== undefined) problems.push(fieldError(column, 'INVALID_FIELD', `The columns "${earlier}" and "${column}" both map to ${field}.`));
    seen.set(field, column);
    return field;
  });
  if (problems.length === 0 && !seen.has('email')) {
    problems.push(fieldError('email', 'MISSING_REQUIRED_FIELD', 'The CSV header has no email column; map one with map=YourColumn=email.'));
  }
  if (problems.length > 0) throw new DomainError(problems[0]!.code, `The CSV header cannot be used: ${problems[0]!.message}`, problems);
  return plan;
}

/** "true", "yes", "1" and their opposites; anything else is passed on for the core to refuse. */
function toBoolean(value: string): boolean | string {
  const v = value.trim().toLowerCase();
  if (['true', 'yes', 'y', '1'].includes(v)) return true;
  if (['false', 'no', 'n', '0'].includes(v)) return false;
  return value;
}

/**
 * A cell as written by a CSV Muster wrote for spreadsheets (an export, an errors report): a
 * leading `'` before `=`, `+`, `-`, `@`, a tab or a carriage return was added so that no
 * spreadsheet runs the cell as a formula, and is taken off again here, so that an export reads
 * back as it was (a phone number "+44 …" stays "+44 …").
 */
export function fromSpreadsheetSafe(cell: string): string {
  return /^'[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell;
}

/** The draft a CSV row describes. An empty cell says nothing about its field. */
export function csvRowToDraft(cells: readonly string[], plan: CsvPlan): Record<string, unknown> {
  const draft: Record<string, unknown> = {};
  plan.forEach((field, i) => {
    const raw = cells[i];
    if (field === null || raw === undefined || raw === '') return;
    const cell = fromSpreadsheetSafe(raw);
    let value: unknown = cell;
    if (field === 'roles') value = cell.split(/[;|]/).map((r) => r.trim()).filter((r) => r !== '');
    else if (BOOLEAN_FIELDS.has(field)) value = toBoolean(cell);
    const path = CSV_FIELDS[field];
    if (path.length === 1) draft[path[0]] = value;
    else ((draft[path[0]] ??= {}) as Record<string, unknown>)[path[1]] = value;
  });
  return draft;
}

/** Fields whose values are secrets: never kept as part of a row's source. */
const SECRET_FIELDS: ReadonlySet<CsvField> = new Set(['password', 'confirmPassword', 'passwordHash']);

/**
 * A CSV row as uploaded, by column name, for the errors report: every column of the header
 * (ignored ones too) but the password columns, whose cells are never kept. Cells past the
 * header's end are kept as `column N` (1-based).
 */
export function csvRowSource(header: readonly string[], cells: readonly string[], plan: CsvPlan): Record<string, string> {
  const source: Record<string, string> = {};
  const put = (key: string, value: string) => Object.defineProperty(source, key, { value, enumerable: true, writable: true, configurable: true });
  cells.forEach((cell, i) => {
    const field = plan[i];
    if (field !== undefined && field !== null && SECRET_FIELDS.has(field)) return;
    put(i < header.length ? header[i]! : `column ${i + 1}`, cell);
  });
  for (let i = cells.length; i < header.length; i++) if (!(plan[i] && SECRET_FIELDS.has(plan[i]!))) put(header[i]!, '');
  return source;
}

/** A JSON row with its top-level keys renamed (or dropped) by the mapping. */
export function mapJsonRow(value: unknown, mapping: ReadonlyMap<string, string>): unknown {
  if (mapping.size === 0 || typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const target = mapping.has(key) ? mapping.get(key)! : key;
    // defineProperty: a key named "__proto__" stays a plain key and never becomes the prototype.
    if (target !== '') Object.defineProperty(out, target, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
