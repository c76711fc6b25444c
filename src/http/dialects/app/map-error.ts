import type { DomainError, ErrorCode } from '../../../core/errors.js';
import { renameField } from '../../shared/field-names.js';
import { statusesOver } from '../../native/map-error.js';
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

/** Seed 003 refuses a list past its limit as a 400; every other status is the native API's. */
const appStatus = statusesOver({ BATCH_TOO_LARGE: 400 });

/**
 * The numeric `errorCode` of each code: the status's hundreds and a stable digit per code,
 * listed in the README. Exhaustive, so a new code needs its number here.
 */
const ERROR_NUMBERS = {
  MISSING_REQUIRED_FIELD: 4001,
  INVALID_FIELD: 4002,
  MALFORMED_JSON: 4003,
  PASSWORD_TOO_WEAK: 4004,
  PASSWORD_MISMATCH: 4005,
  EMAIL_DOMAIN_RESTRICTED: 4006,
  UNKNOWN_REFERENCE: 4007,
  BATCH_TOO_LARGE: 4008,
  INVITATION_INVALID: 4009,
  UNAUTHORIZED: 4010,
  SEAT_LIMIT_EXCEEDED: 4020,
  FORBIDDEN: 4030,
  ADMIN_ROLE_FORBIDDEN: 4031,
  NOT_FOUND: 4040,
  DUPLICATE_EMAIL: 4090,
  DUPLICATE_USERNAME: 4091,
  CONFLICT: 4092,
  INVITATION_EXPIRED: 4100,
  INVITATION_USED: 4101,
  PRECONDITION_FAILED: 4120,
  PAYLOAD_TOO_LARGE: 4130,
  UNSUPPORTED_MEDIA_TYPE: 4150,
  IDEMPOTENCY_KEY_REUSED: 4220,
  PRECONDITION_REQUIRED: 4280,
  RATE_LIMIT_EXCEEDED: 4290,
  SERVER_ERROR: 5000,
  SERVICE_BUSY: 5030,
  INSUFFICIENT_STORAGE: 5070,
} as const satisfies Record<ErrorCode, number>;

export function appError(code: ErrorCode): AppError {
  return { status: appStatus(code), errorCode: ERROR_NUMBERS[code] };
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
