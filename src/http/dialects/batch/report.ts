import Type from 'typebox';
import { fieldError, type FieldError } from '../../../core/errors.js';
import type { CreateUsersResult } from '../../../core/users/create-users.js';
import { isPlainObject } from '../../shared/dialect-input.js';
import { BatchUserAccess, presentBatchUser, renameRecordErrors, type MappedRecord } from './records.js';

const FieldErrorSchema = Type.Object({ field: Type.String(), code: Type.String(), message: Type.String() });
const Index = Type.Integer({ minimum: 0, description: 'Position of the record in the request (0-based).' });

const SuccessResult = Type.Object({
  index: Index,
  id: Type.String({ format: 'uuid' }),
  userName: Type.String(),
  email: Type.String(),
  name: Type.Optional(
    Type.Object(
      {
        firstName: Type.Optional(Type.String()),
        lastName: Type.Optional(Type.String()),
        givenName: Type.Optional(Type.String()),
        familyName: Type.Optional(Type.String()),
      },
      { description: 'Under the pair of names the record used.' },
    ),
  ),
  phoneNumber: Type.Optional(Type.String()),
  roles: Type.Array(Type.Object({ name: Type.String(), id: Type.String() })),
  userAccess: BatchUserAccess,
  lockedOut: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

const FailedResult = Type.Object({
  index: Index,
  userName: Type.Optional(Type.String({ description: "The record's userName, when it was a string." })),
  email: Type.Optional(Type.String({ description: "The record's email, when it was a string." })),
  code: Type.String({ description: "Muster's error code, e.g. DUPLICATE_EMAIL or UNKNOWN_REFERENCE." }),
  message: Type.String(),
  errors: Type.Array(FieldErrorSchema),
});

const reportProperties = {
  totalProcessed: Type.Integer({ description: 'Number of users processed from request.' }),
  successCount: Type.Integer({ description: 'Number of users successfully processed.' }),
  failureCount: Type.Integer({ description: 'Number of users failed to process.' }),
  successResults: Type.Array(SuccessResult, { description: 'Success result details.' }),
  failedResults: Type.Array(FailedResult, { description: 'Failed result details.' }),
};

/** The 200 body: every record was created. */
export const BatchReport = Type.Object(reportProperties);

/** The body of every error but a 400: the seed's 401 body, `{code, message, description}`. */
export const BatchErrorSchema = Type.Object({
  code: Type.String(),
  message: Type.String(),
  description: Type.String(),
  errors: Type.Optional(Type.Array(FieldErrorSchema)),
  requestId: Type.String(),
});

/** The 400 body: the report; when the whole request was refused, the report is empty and the error fields say why. */
export const BatchFailure = Type.Object({
  ...reportProperties,
  code: Type.Optional(Type.String({ description: 'Only when the whole request was refused, e.g. BATCH_TOO_LARGE or MALFORMED_JSON.' })),
  message: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  errors: Type.Optional(Type.Array(FieldErrorSchema)),
  requestId: Type.Optional(Type.String()),
});

/** What the report may echo of a failed record to identify it: its user name and email when they are strings. */
function identify(record: unknown) {
  if (!isPlainObject(record)) return {};
  return {
    ...(typeof record.userName === 'string' && { userName: record.userName }),
    ...(typeof record.email === 'string' && { email: record.email }),
  };
}

function failed(index: number, record: unknown, errors: FieldError[]) {
  const first = errors[0]!;
  return { index, ...identify(record), code: first.code, message: first.message, errors };
}

/**
 * The seed's report over all records, in request order: those the dialect could not map and
 * those the core refused are failures; `positions[i]` is the request index of the core's draft i.
 */
export function batchReport(records: readonly unknown[], mapped: readonly MappedRecord[], positions: readonly number[], result: CreateUsersResult) {
  const outcomeAt = new Map(result.outcomes.map((o) => [positions[o.index]!, o]));
  const successResults: ({ index: number } & ReturnType<typeof presentBatchUser>)[] = [];
  const failedResults: ReturnType<typeof failed>[] = [];
  mapped.forEach((m, index) => {
    const outcome = outcomeAt.get(index);
    if (!m.ok) failedResults.push(failed(index, records[index], renameRecordErrors(m.errors, m.style)));
    else if (outcome?.status === 'created') successResults.push({ index, ...presentBatchUser(outcome.user, m.style) });
    else if (outcome?.status === 'failed') failedResults.push(failed(index, records[index], renameRecordErrors(outcome.error.errors, m.style)));
    else failedResults.push(failed(index, records[index], [fieldError('', 'SERVER_ERROR', 'The user was not created.')]));
  });
  return {
    totalProcessed: records.length,
    successCount: successResults.length,
    failureCount: failedResults.length,
    successResults,
    failedResults,
  };
}
