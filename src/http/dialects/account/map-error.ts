import Type from 'typebox';
import { canSeeTenant, type Actor } from '../../../core/credentials/actor.js';
import { DomainError, type ErrorCode } from '../../../core/errors.js';
import { statusesOver } from '../../native/map-error.js';

/**
 * The account dialect's status for each domain error code. Seed 001 documents 201, 401, 403
 * and 500 only, which the native statuses already are; the vendor's documentation says nothing
 * more about failures, so every other case answers as the native API does (400 invalid,
 * 402 seats, 409 duplicates, 412 stale If-Match, 413 too many users): no override.
 */
export const accountStatus: (code: ErrorCode) => number = statusesOver({});

/**
 * The core hides another tenant (NOT_FOUND, as the native API answers it); the vendor answers a
 * token of another account 403 "Not Authorized". Only the wording changes: the refusal is the core's.
 */
export function accountRefusal(error: DomainError, actor: Actor, accountId: unknown): DomainError {
  if (error.code !== 'NOT_FOUND' || typeof accountId !== 'string' || canSeeTenant(actor, accountId)) return error;
  return new DomainError('FORBIDDEN', 'Not Authorized: this credential does not belong to this account.');
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
