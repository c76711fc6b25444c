import type { DomainError, ErrorCode } from '../../../core/errors.js';
import { renameField } from '../../shared/field-names.js';
import { statusesOver } from '../../native/map-error.js';

/**
 * The simple dialect's error body: one shape for every error. `code` is one of the seed's
 * codes where the seed has one; `reason` keeps Muster's precise code (e.g. DUPLICATE_EMAIL).
 */
export interface SimpleError {
  status: number;
  code: string;
}

/** The seed lists a duplicate email as a 400 like any other invalid field; every other status is the native API's. */
const simpleStatus = statusesOver({ DUPLICATE_EMAIL: 400, DUPLICATE_USERNAME: 400 });

/**
 * The seed's code for Muster's codes that it names otherwise; every other code is answered as
 * itself (the seed's own MISSING_REQUIRED_FIELD, UNAUTHORIZED, RATE_LIMIT_EXCEEDED and
 * SERVER_ERROR, and Muster's codes for the cases the seed does not list).
 */
const SEED_CODES: Partial<Record<ErrorCode, string>> = {
  MALFORMED_JSON: 'INVALID_FIELD',
  PASSWORD_TOO_WEAK: 'INVALID_FIELD',
  PASSWORD_MISMATCH: 'INVALID_FIELD',
  EMAIL_DOMAIN_RESTRICTED: 'INVALID_FIELD',
  UNKNOWN_REFERENCE: 'INVALID_FIELD',
  DUPLICATE_EMAIL: 'INVALID_FIELD',
  DUPLICATE_USERNAME: 'INVALID_FIELD',
  ADMIN_ROLE_FORBIDDEN: 'FORBIDDEN',
};

export function simpleError(code: ErrorCode): SimpleError {
  return { status: simpleStatus(code), code: SEED_CODES[code] ?? code };
}

/** Core field names as this dialect calls them. */
const FIELD_NAMES: Record<string, string> = {
  email: 'contactEmail',
  userName: 'contactEmail',
  'name.givenName': 'firstName',
  'name.familyName': 'lastName',
};

export function simpleField(field: string): string {
  return FIELD_NAMES[field] ?? field;
}

export function simpleErrorBody(error: DomainError, requestId: string) {
  const mapped = simpleError(error.code);
  const details = error.errors.map((e) => {
    const renamed = renameField(e, simpleField);
    return { ...renamed, code: simpleError(e.code).code };
  });
  return {
    status: mapped.status,
    body: {
      code: mapped.code,
      message: details[0]?.message ?? error.message,
      ...(details[0] && { field: details[0].field }),
      ...(mapped.code !== error.code && { reason: error.code }),
      ...(details.length > 0 && { details }),
      requestId,
    },
  };
}
