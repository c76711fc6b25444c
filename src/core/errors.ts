/**
 * The closed catalogue of domain error codes. The core speaks only these; the native API
 * maps each of them to a status in an exhaustive table (http/native/map-error.ts), so that a
 * new code cannot be forgotten, and every other API states in its `map-error.ts` only where
 * its status or body differs from that table.
 */
export const ERROR_CODES = [
  'MISSING_REQUIRED_FIELD',
  'INVALID_FIELD',
  'MALFORMED_JSON',
  'UNSUPPORTED_MEDIA_TYPE',
  'PAYLOAD_TOO_LARGE',
  'BATCH_TOO_LARGE',
  'DUPLICATE_EMAIL',
  'DUPLICATE_USERNAME',
  'PASSWORD_TOO_WEAK',
  'PASSWORD_MISMATCH',
  'EMAIL_DOMAIN_RESTRICTED',
  'UNKNOWN_REFERENCE',
  'SEAT_LIMIT_EXCEEDED',
  'ADMIN_ROLE_FORBIDDEN',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'PRECONDITION_REQUIRED',
  'PRECONDITION_FAILED',
  'RATE_LIMIT_EXCEEDED',
  'SERVER_ERROR',
  /** No invitation has this token (mistyped, made up, or its user was deleted). */
  'INVITATION_INVALID',
  /** The invitation's time ran out before it was redeemed. */
  'INVITATION_EXPIRED',
  /** The invitation was already redeemed; each works once. */
  'INVITATION_USED',
  /** The Idempotency-Key was already used, within 24 hours, for a request with another method, path or body. */
  'IDEMPOTENCY_KEY_REUSED',
  /** The password-hashing queue is full: retry after Retry-After seconds; nothing was done. */
  'SERVICE_BUSY',
  /** The database has no room left to write (a full disk): nothing was written; retry once space is freed. */
  'INSUFFICIENT_STORAGE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** One problem with one field of one input, e.g. `{field: "email", code: "INVALID_FIELD"}`. */
export interface FieldError {
  field: string;
  code: ErrorCode;
  message: string;
}

/** Why one item of a batch was refused: a summary code plus the field-level detail. */
export interface ItemError {
  code: ErrorCode;
  message: string;
  errors: FieldError[];
}

/** An error the core raises for a whole request (as opposed to one item of a batch). */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly errors: FieldError[] = [],
    /** Seconds after which a retry may succeed (rate limits, busy hashing). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export function isDomainError(value: unknown): value is DomainError {
  return value instanceof DomainError;
}

/** Builds the summary of a list of field errors: the first error's code names the item. */
export function itemErrorFrom(errors: FieldError[]): ItemError {
  const first = errors[0];
  if (!first) throw new Error('itemErrorFrom needs at least one field error');
  return { code: first.code, message: first.message, errors };
}

/** Makes a single-field error without repeating the shape at every call site. */
export function fieldError(field: string, code: ErrorCode, message: string): FieldError {
  return { field, code, message };
}
