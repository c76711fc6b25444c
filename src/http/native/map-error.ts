import type { ErrorCode } from '../../core/errors.js';

/** The native API's status for each domain error code (PRODUCT.md §4). */
export function nativeStatus(code: ErrorCode): number {
  switch (code) {
    case 'MISSING_REQUIRED_FIELD':
    case 'INVALID_FIELD':
    case 'MALFORMED_JSON':
    case 'PASSWORD_TOO_WEAK':
    case 'PASSWORD_MISMATCH':
    case 'EMAIL_DOMAIN_RESTRICTED':
    case 'UNKNOWN_REFERENCE':
      return 400;
    case 'UNAUTHORIZED':
      return 401;
    case 'SEAT_LIMIT_EXCEEDED':
      return 402;
    case 'FORBIDDEN':
    case 'ADMIN_ROLE_FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'DUPLICATE_EMAIL':
    case 'DUPLICATE_USERNAME':
    case 'CONFLICT':
      return 409;
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
    case 'INVITATION_INVALID':
      return 400;
    case 'INVITATION_EXPIRED':
    case 'INVITATION_USED':
      return 410;
    case 'IDEMPOTENCY_KEY_REUSED':
      return 422;
    case 'SERVICE_BUSY':
      return 503;
    case 'INSUFFICIENT_STORAGE':
      return 507;
    default: {
      const unhandled: never = code;
      throw new Error(`unmapped error code ${String(unhandled)}`);
    }
  }
}
