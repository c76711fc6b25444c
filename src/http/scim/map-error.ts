/**
 * SCIM errors (RFC 7644 §3.12): `{schemas: [Error], status: "409", scimType: "uniqueness",
 * detail}` with the HTTP status in the body as a string. Each domain error code maps to its
 * status and scimType here; what only the protocol can know (a bad filter or PATCH path, a
 * read-only attribute) comes as a ScimProtocolError carrying its own scimType.
 */
import { DomainError, type ErrorCode, type FieldError } from '../../core/errors.js';
import { renameField } from '../shared/field-names.js';
import { nativeStatus } from '../native/map-error.js';
import { ENTERPRISE_USER, ERROR_SCHEMA } from './schemas.js';

/** The scimType values of RFC 7644 §3.12, Table 9. */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

/** An error that the SCIM protocol itself names: its code still decides the HTTP status. */
export class ScimProtocolError extends DomainError {
  constructor(
    code: ErrorCode,
    readonly scimType: ScimType | undefined,
    message: string,
    errors: FieldError[] = [],
  ) {
    super(code, message, errors);
  }
}

export interface ScimErrorMapping {
  status: number;
  scimType?: ScimType;
}

/**
 * The scimType of each code that has one; every status is the native API's (RFC 7644 §3.12
 * uses the same HTTP statuses). A code not listed carries no scimType.
 */
const SCIM_TYPES: Partial<Record<ErrorCode, ScimType>> = {
  MISSING_REQUIRED_FIELD: 'invalidValue',
  INVALID_FIELD: 'invalidValue',
  PASSWORD_TOO_WEAK: 'invalidValue',
  PASSWORD_MISMATCH: 'invalidValue',
  EMAIL_DOMAIN_RESTRICTED: 'invalidValue',
  UNKNOWN_REFERENCE: 'invalidValue',
  // Invitations are redeemed through the native API only; mapped as a bad value.
  INVITATION_INVALID: 'invalidValue',
  MALFORMED_JSON: 'invalidSyntax',
  // RFC 7644 §3.3: a duplicate userName (or any unique attribute) is 409 uniqueness.
  DUPLICATE_EMAIL: 'uniqueness',
  DUPLICATE_USERNAME: 'uniqueness',
  CONFLICT: 'uniqueness',
};

/** The SCIM status and scimType of each domain error code. */
export function scimError(code: ErrorCode): ScimErrorMapping {
  const scimType = SCIM_TYPES[code];
  return { status: nativeStatus(code), ...(scimType && { scimType }) };
}

/** Core field names as SCIM names the attributes. */
const FIELD_NAMES: Record<string, string> = {
  email: 'emails',
  phoneNumber: 'phoneNumbers',
  lockedOut: 'active',
  roles: 'groups',
  employeeNumber: `${ENTERPRISE_USER}:employeeNumber`,
  department: `${ENTERPRISE_USER}:department`,
};

export function scimField(field: string): string {
  if (FIELD_NAMES[field]) return FIELD_NAMES[field];
  const [head, ...rest] = field.split('.');
  if (head && FIELD_NAMES[head] && rest.length > 0 && !/^\d+$/.test(rest[0]!)) return [FIELD_NAMES[head], ...rest].join('.');
  return head && FIELD_NAMES[head] ? FIELD_NAMES[head] : field;
}

/** The scimType a plain domain error gets, refined by the field it names (a bad filter is invalidFilter). */
function scimTypeOf(error: DomainError, mapped: ScimErrorMapping): ScimType | undefined {
  if (error instanceof ScimProtocolError) return error.scimType;
  const field = error.errors[0]?.field ?? '';
  if (mapped.status === 400 && (field === 'filter' || field.startsWith('filter.'))) return 'invalidFilter';
  if (mapped.status === 400 && (field === 'sortBy' || field === 'offset' || field === 'limit')) return 'invalidValue';
  return mapped.scimType;
}

export interface ScimErrorBody {
  schemas: string[];
  status: string;
  scimType?: ScimType;
  detail: string;
}

/** The status and RFC 7644 §3.12 body of an error. */
export function scimErrorBody(error: DomainError): { status: number; body: ScimErrorBody } {
  const mapped = scimError(error.code);
  const scimType = scimTypeOf(error, mapped);
  const first = error.errors[0];
  const detail = first ? renameField(first, scimField).message : error.message;
  return { status: mapped.status, body: { schemas: [ERROR_SCHEMA], status: String(mapped.status), ...(scimType && { scimType }), detail } };
}
