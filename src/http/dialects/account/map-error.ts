import Type from 'typebox';
import type { DomainError, ErrorCode } from '../../../core/errors.js';

/**
 * The account dialect's status for each domain error code. Seed 001 documents 201, 401, 403
 * and 500 only; the vendor's documentation says nothing more about failures, so the other
 * cases answer as the native API does (400 invalid, 402 seats, 409 duplicates, 412 stale
 * If-Match, 413 too many users).
 */
export function accountStatus(code: ErrorCode): number {
  switch (code) {
    case 'MISSING_REQUIRED_FIELD':
    case 'INVALID_FIELD':
    case 'MALFORMED_JSON':
    case 'PASSWORD_TOO_WEAK':
    case 'PASSWORD_MISMATCH':
    case 'EMAIL_DOMAIN_RESTRICTED':
    case 'UNKNOWN_REFERENCE':
    case 'INVITATION_INVALID':
      return 400;
    case 'UNAUTHORIZED':
      return 401;
    case 'SEAT_LIMIT_EXCEEDED':
      return 402;
    // The seed's "Not Authorized": a role too low, an admin role from a non-global key, or
    // another account than the credential's (the dialect raises FORBIDDEN for that itself).
    case 'FORBIDDEN':
    case 'ADMIN_ROLE_FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'DUPLICATE_EMAIL':
    case 'DUPLICATE_USERNAME':
    case 'CONFLICT':
      return 409;
    case 'INVITATION_EXPIRED':
    case 'INVITATION_USED':
      return 410;
    case 'IDEMPOTENCY_KEY_REUSED':
      return 422;
    case 'SERVICE_BUSY':
      return 503;
    case 'PRECONDITION_FAILED':
      return 412;
    case 'PAYLOAD_TOO_LARGE':
    case 'BATCH_TOO_LARGE':
      return 413;
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 415;
    case 'PRECONDITION_REQUIRED':
      return 428;
    case 'RATE_LIMIT_EXCEEDED':
      return 429;
    case 'SERVER_ERROR':
      return 500;
    default: {
      const unhandled: never = code;
      throw new Error(`unmapped error code ${String(unhandled)}`);
    }
  }
}

export const AccountErrorSchema = Type.Object({
  time: Type.Integer({ description: 'When the error happened, in milliseconds since the epoch (as the vendor reports it).' }),
  message: Type.String(),
  code: Type.String({ description: "Muster's stable error code, e.g. DUPLICATE_EMAIL or PRECONDITION_FAILED." }),
  errors: Type.Array(
    Type.Object({
      field: Type.String({ description: 'Path of the field in the request body under the vendor\'s names, e.g. `2.loginName` (the third user of a list) or `passwordSh`.' }),
      code: Type.String(),
      message: Type.String(),
    }),
  ),
  requestId: Type.String(),
});

/** The one error body of this dialect; `error.errors` already carry the vendor's field names. */
export function accountErrorBody(error: DomainError, requestId: string, at: Date) {
  return {
    time: at.getTime(),
    message: error.message,
    code: error.code,
    errors: error.errors.map(({ field, code, message }) => ({ field, code, message })),
    requestId,
  };
}
