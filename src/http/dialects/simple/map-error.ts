import type { DomainError, ErrorCode } from '../../../core/errors.js';
import { renameField } from '../../shared/field-names.js';

/**
 * The simple dialect's error body: one shape for every error. `code` is one of the seed's
 * codes where the seed has one; `reason` keeps Muster's precise code (e.g. DUPLICATE_EMAIL).
 */
export interface SimpleError {
  status: number;
  code: string;
}

export function simpleError(code: ErrorCode): SimpleError {
  switch (code) {
    case 'MISSING_REQUIRED_FIELD':
      return { status: 400, code: 'MISSING_REQUIRED_FIELD' };
    case 'INVALID_FIELD':
    case 'MALFORMED_JSON':
    case 'PASSWORD_TOO_WEAK':
    case 'PASSWORD_MISMATCH':
    case 'EMAIL_DOMAIN_RESTRICTED':
    case 'UNKNOWN_REFERENCE':
    case 'DUPLICATE_EMAIL':
    case 'DUPLICATE_USERNAME':
      // The seed: a duplicate email is a 400 like any other invalid field.
      return { status: 400, code: 'INVALID_FIELD' };
    case 'UNAUTHORIZED':
      return { status: 401, code: 'UNAUTHORIZED' };
    case 'FORBIDDEN':
    case 'ADMIN_ROLE_FORBIDDEN':
      return { status: 403, code: 'FORBIDDEN' };
    case 'RATE_LIMIT_EXCEEDED':
      return { status: 429, code: 'RATE_LIMIT_EXCEEDED' };
    case 'SERVER_ERROR':
      return { status: 500, code: 'SERVER_ERROR' };
    // Cases the seed does not list answer as the native API does.
    case 'SEAT_LIMIT_EXCEEDED':
      return { status: 402, code };
    case 'NOT_FOUND':
      return { status: 404, code };
    case 'CONFLICT':
      return { status: 409, code };
    case 'PRECONDITION_FAILED':
      return { status: 412, code };
    case 'PAYLOAD_TOO_LARGE':
    case 'BATCH_TOO_LARGE':
      return { status: 413, code };
    case 'UNSUPPORTED_MEDIA_TYPE':
      return { status: 415, code };
    case 'PRECONDITION_REQUIRED':
      return { status: 428, code };
    // Invitations are redeemed through the native API only; mapped as it maps them.
    case 'INVITATION_INVALID':
      return { status: 400, code };
    case 'INVITATION_EXPIRED':
    case 'INVITATION_USED':
      return { status: 410, code };
    // Idempotent retries and admission control: as the native API answers them.
    case 'IDEMPOTENCY_KEY_REUSED':
      return { status: 422, code };
    case 'SERVICE_BUSY':
      return { status: 503, code };
    case 'INSUFFICIENT_STORAGE':
      return { status: 507, code };
    default: {
      const unhandled: never = code;
      throw new Error(`unmapped error code ${String(unhandled)}`);
    }
  }
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
