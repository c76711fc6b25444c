import type { DomainError, ErrorCode } from '../../../core/errors.js';
import { statusesOver } from '../../native/map-error.js';

/**
 * The batch dialect's answer to an error that refuses the whole request (as opposed to one
 * record, which is reported in `failedResults`). Seed 000 documents 400 (with the report's
 * body), 401 and 403; `report` says whether the body carries the (empty) report too, so that a
 * client reading every 400 as a report still can.
 */
export interface BatchError {
  status: number;
  report: boolean;
}

/**
 * Where the seed differs from the native statuses: its limit of 1000 records, and the codes
 * that belong to one record (should one ever refuse a whole request), are its documented 400.
 * Cases the seed does not list answer with the native API's status.
 */
const batchStatus = statusesOver({
  BATCH_TOO_LARGE: 400,
  DUPLICATE_EMAIL: 400,
  DUPLICATE_USERNAME: 400,
  SEAT_LIMIT_EXCEEDED: 400,
});

/** The codes whose 400 carries the (empty) report: the request's or a record's invalid input. */
const REPORTED = new Set<ErrorCode>([
  'MISSING_REQUIRED_FIELD',
  'INVALID_FIELD',
  'MALFORMED_JSON',
  'BATCH_TOO_LARGE',
  'DUPLICATE_EMAIL',
  'DUPLICATE_USERNAME',
  'PASSWORD_TOO_WEAK',
  'PASSWORD_MISMATCH',
  'EMAIL_DOMAIN_RESTRICTED',
  'UNKNOWN_REFERENCE',
  'SEAT_LIMIT_EXCEEDED',
]);

export function batchError(code: ErrorCode): BatchError {
  return { status: batchStatus(code), report: REPORTED.has(code) };
}

/** The seed's words for its two documented errors; `description` then says exactly what was wrong. */
const SEED_MESSAGES: Partial<Record<number, string>> = {
  401: 'Authentication Error. Invalid credentials.',
  403: 'Authorization Error. Invalid role for request.',
};

export const EMPTY_REPORT = { totalProcessed: 0, successCount: 0, failureCount: 0, successResults: [], failedResults: [] };

/** `{code, message, description}` (the seed's 401 body) for every error, plus the empty report on a 400. */
export function batchErrorBody(error: DomainError, requestId: string) {
  const mapped = batchError(error.code);
  const seedMessage = SEED_MESSAGES[mapped.status];
  const description = error.errors.length > 0 ? error.errors.map((e) => e.message).join(' ') : error.message;
  return {
    status: mapped.status,
    body: {
      ...(mapped.report && EMPTY_REPORT),
      code: error.code,
      message: seedMessage ?? error.message,
      description: seedMessage ? error.message : description,
      ...(error.errors.length > 0 && { errors: error.errors }),
      requestId,
    },
  };
}
