import type { ErrorCode } from '../../core/errors.js';

/**
 * The native API's status for each domain error code (PRODUCT.md §4), and the base every
 * other API maps from. The table is exhaustive: a new code in core/errors.ts fails the type
 * check here until it has a status. Each other API states only where it differs (a status
 * override table given to `statusesOver`, plus what its own body needs).
 */
export const NATIVE_STATUS = {
  MISSING_REQUIRED_FIELD: 400,
  INVALID_FIELD: 400,
  MALFORMED_JSON: 400,
  PASSWORD_TOO_WEAK: 400,
  PASSWORD_MISMATCH: 400,
  EMAIL_DOMAIN_RESTRICTED: 400,
  UNKNOWN_REFERENCE: 400,
  INVITATION_INVALID: 400,
  UNAUTHORIZED: 401,
  SEAT_LIMIT_EXCEEDED: 402,
  FORBIDDEN: 403,
  ADMIN_ROLE_FORBIDDEN: 403,
  NOT_FOUND: 404,
  DUPLICATE_EMAIL: 409,
  DUPLICATE_USERNAME: 409,
  CONFLICT: 409,
  INVITATION_EXPIRED: 410,
  INVITATION_USED: 410,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  BATCH_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  PRECONDITION_REQUIRED: 428,
  RATE_LIMIT_EXCEEDED: 429,
  SERVER_ERROR: 500,
  SERVICE_BUSY: 503,
  INSUFFICIENT_STORAGE: 507,
} as const satisfies Record<ErrorCode, number>;

export function nativeStatus(code: ErrorCode): number {
  return NATIVE_STATUS[code];
}

/** Where an API's status for a code differs from the native one. */
export type StatusOverrides = Partial<Record<ErrorCode, number>>;

/** An API's status for each code: its overrides merged over the native table. */
export function statusesOver(overrides: StatusOverrides): (code: ErrorCode) => number {
  const table: Record<ErrorCode, number> = { ...NATIVE_STATUS, ...overrides };
  return (code) => table[code];
}
