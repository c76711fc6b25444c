import type { DomainError, ErrorCode } from '../../../core/errors.js';
import { renameField } from '../../shared/field-names.js';
import { appField } from './input.js';

/**
 * The app dialect's status and numeric `errorCode` for each domain error. Seed 003 documents
 * 400, 401, 403, 409 and 500; the vendor's error body carries a numeric `errorCode`, which here
 * is stable per Muster code (listed in the README).
 */
export interface AppError {
  status: number;
  errorCode: number;
}

export function appError(code: ErrorCode): AppError {
  switch (code) {
    case 'MISSING_REQUIRED_FIELD':
      return { status: 400, errorCode: 4001 };
    case 'INVALID_FIELD':
      return { status: 400, errorCode: 4002 };
    case 'MALFORMED_JSON':
      return { status: 400, errorCode: 4003 };
    case 'PASSWORD_TOO_WEAK':
      return { status: 400, errorCode: 4004 };
    case 'PASSWORD_MISMATCH':
      return { status: 400, errorCode: 4005 };
    case 'EMAIL_DOMAIN_RESTRICTED':
      return { status: 400, errorCode: 4006 };
    case 'UNKNOWN_REFERENCE':
      return { status: 400, errorCode: 4007 };
    case 'BATCH_TOO_LARGE':
      return { status: 400, errorCode: 4008 };
    case 'UNAUTHORIZED':
      return { status: 401, errorCode: 4010 };
    // PRODUCT.md: creation beyond the seat limit fails with 402 in every API.
    case 'SEAT_LIMIT_EXCEEDED':
      return { status: 402, errorCode: 4020 };
    case 'FORBIDDEN':
      return { status: 403, errorCode: 4030 };
    case 'ADMIN_ROLE_FORBIDDEN':
      return { status: 403, errorCode: 4031 };
    case 'NOT_FOUND':
      return { status: 404, errorCode: 4040 };
    // The seed: "409 Conflict" for a user that collides with an existing one.
    case 'DUPLICATE_EMAIL':
      return { status: 409, errorCode: 4090 };
    case 'DUPLICATE_USERNAME':
      return { status: 409, errorCode: 4091 };
    case 'CONFLICT':
      return { status: 409, errorCode: 4092 };
    case 'PRECONDITION_FAILED':
      return { status: 412, errorCode: 4120 };
    case 'PAYLOAD_TOO_LARGE':
      return { status: 413, errorCode: 4130 };
    case 'UNSUPPORTED_MEDIA_TYPE':
      return { status: 415, errorCode: 4150 };
    case 'PRECONDITION_REQUIRED':
      return { status: 428, errorCode: 4280 };
    case 'RATE_LIMIT_EXCEEDED':
      return { status: 429, errorCode: 4290 };
    case 'SERVER_ERROR':
      return { status: 500, errorCode: 5000 };
    // Invitations are redeemed through the native API only; mapped as it maps them.
    case 'INVITATION_INVALID':
      return { status: 400, errorCode: 4009 };
    case 'INVITATION_EXPIRED':
      return { status: 410, errorCode: 4100 };
    case 'INVITATION_USED':
      return { status: 410, errorCode: 4101 };
    case 'IDEMPOTENCY_KEY_REUSED':
      return { status: 422, errorCode: 4220 };
    case 'SERVICE_BUSY':
      return { status: 503, errorCode: 5030 };
    case 'INSUFFICIENT_STORAGE':
      return { status: 507, errorCode: 5070 };
    default: {
      const unhandled: never = code;
      throw new Error(`unmapped error code ${String(unhandled)}`);
    }
  }
}

/**
 * The vendor's error body: `statusCode`, numeric `errorCode`, `message`, `details`; `error`
 * holds Muster's code and `errors` the per-field detail under seed 003's field names.
 */
export function appErrorBody(error: DomainError, requestId: string) {
  const mapped = appError(error.code);
  const errors = error.errors.map((e) => renameField(e, appField));
  const message = error.errors.length > 0 && error.errors[0]!.message === error.message ? errors[0]!.message : error.message;
  return {
    status: mapped.status,
    body: {
      statusCode: mapped.status,
      errorCode: mapped.errorCode,
      error: error.code,
      message,
      ...(errors.length > 0 && { details: errors.map((e) => e.message).join(' '), errors }),
      requestId,
    },
  };
}
