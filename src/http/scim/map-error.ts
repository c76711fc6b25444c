/**
 * SCIM errors (RFC 7644 §3.12): `{schemas: [Error], status: "409", scimType: "uniqueness",
 * detail}` with the HTTP status in the body as a string. Each domain error code maps to its
 * status and scimType here; what only the protocol can know (a bad filter or PATCH path, a
 * read-only attribute) comes as a ScimProtocolError carrying its own scimType.
 */
import { DomainError, type ErrorCode, type FieldError } from '../../core/errors.js';
import { renameField } from '../shared/field-names.js';
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

/** The SCIM status and scimType of each domain error code. */
export function scimError(code: ErrorCode): ScimErrorMapping {
  switch (code) {
    case 'MISSING_REQUIRED_FIELD':
    case 'INVALID_FIELD':
    case 'PASSWORD_TOO_WEAK':
    case 'PASSWORD_MISMATCH':
    case 'EMAIL_DOMAIN_RESTRICTED':
    case 'UNKNOWN_REFERENCE':
      return { status: 400, scimType: 'invalidValue' };
    case 'MALFORMED_JSON':
      return { status: 400, scimType: 'invalidSyntax' };
    case 'DUPLICATE_EMAIL':
    case 'DUPLICATE_USERNAME':
    case 'CONFLICT':
      // RFC 7644 §3.3: a duplicate userName (or any unique attribute) is 409 uniqueness.
      return { status: 409, scimType: 'uniqueness' };
    case 'UNAUTHORIZED':
      return { status: 401 };
    case 'SEAT_LIMIT_EXCEEDED':
      // Not a SCIM case: answered as the native API does, the detail says why.
      return { status: 402 };
    case 'FORBIDDEN':
    case 'ADMIN_ROLE_FORBIDDEN':
      return { status: 403 };
    case 'NOT_FOUND':
      return { status: 404 };
    case 'PRECONDITION_FAILED':
      return { status: 412 };
    case 'PAYLOAD_TOO_LARGE':
    case 'BATCH_TOO_LARGE':
      // RFC 7644 §3.7.4: past maxOperations or maxPayloadSize, 413 naming the limit.
      return { status: 413 };
    case 'UNSUPPORTED_MEDIA_TYPE':
      return { status: 415 };
    case 'PRECONDITION_REQUIRED':
      return { status: 428 };
    case 'RATE_LIMIT_EXCEEDED':
      return { status: 429 };
    case 'SERVER_ERROR':
      return { status: 500 };
    case 'SERVICE_BUSY':
      return { status: 503 };
    case 'INSUFFICIENT_STORAGE':
      return { status: 507 };
    case 'IDEMPOTENCY_KEY_REUSED':
      return { status: 422 };
    // Invitations are redeemed through the native API only; mapped as it maps them.
    case 'INVITATION_INVALID':
      return { status: 400, scimType: 'invalidValue' };
    case 'INVITATION_EXPIRED':
    case 'INVITATION_USED':
      return { status: 410 };
    default: {
      const unhandled: never = code;
      throw new Error(`unmapped error code ${String(unhandled)}`);
    }
  }
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
