import Type from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { homeTenant } from '../../../core/credentials/actor.js';
import { DomainError, fieldError } from '../../../core/errors.js';
import { assertBatchSize, createUsers, MAX_BATCH_SIZE } from '../../../core/users/create-users.js';
import type { UserDraft } from '../../../core/users/user.js';
import { requireActor } from '../../shared/authenticate.js';
import { isPlainObject } from '../../shared/dialect-input.js';
import type { DialectOptions } from '../index.js';
import { batchErrorBody } from './map-error.js';
import { BatchUserRecord, mapRecord } from './records.js';
import { BatchErrorSchema, BatchFailure, BatchReport, batchReport } from './report.js';
import { renderErrorsWith } from '../../shared/error-handler.js';
import { documentedBody } from '../../shared/body-validation.js';

const BatchBody = Type.Union([Type.Array(BatchUserRecord, { maxItems: MAX_BATCH_SIZE }), BatchUserRecord], {
  description: `An array of up to ${MAX_BATCH_SIZE} user records, or one record (a batch of one).`,
});

/** The records of a body: an array of them, or one object as a batch of one. */
function recordsOf(body: unknown): unknown[] {
  if (Array.isArray(body)) return body;
  if (isPlainObject(body)) return [body];
  const message = 'The body must be a user record or an array of user records.';
  throw new DomainError('INVALID_FIELD', message, [fieldError('', 'INVALID_FIELD', message)]);
}

/** The `batch` dialect (seed 000): POST /users with up to 1000 records and a success/failure report. */
export async function batchDialect(scope: FastifyInstance, options: DialectOptions & { paths: string[] }): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  renderErrorsWith(app, (error, request) => batchErrorBody(error, String(request.id)));
  requireActor(app, options.authenticator, 'batch');

  for (const url of options.paths) {
    app.post(url, {
      // Refused before the body is read: a credential that may not create users learns nothing from it.
      config: { idempotency: true, performs: 'users:write' },
      schema: {
        tags: ['batch'],
        summary: `Create up to ${MAX_BATCH_SIZE} users (seed 000)`,
        description:
          'Every record is checked and created on its own: 200 when all were created, 400 with the same report when any failed ' +
          "(the others are created). A username or email collision is a failure of that record. The tenant is the credential's.",
        body: documentedBody(BatchBody),
        response: {
          200: BatchReport,
          400: BatchFailure,
          401: BatchErrorSchema,
          403: BatchErrorSchema,
          404: BatchErrorSchema,
          413: BatchErrorSchema,
          415: BatchErrorSchema,
          429: BatchErrorSchema,
          500: BatchErrorSchema,
        },
      },
      handler: async (request, reply) => {
        const records = recordsOf(request.body);
        assertBatchSize(records.length);
        const mapped = records.map(mapRecord);
        const positions = mapped.flatMap((m, index) => (m.ok ? [index] : []));
        const drafts = mapped.flatMap((m): UserDraft[] => (m.ok ? [m.draft] : []));
        const result = await createUsers(options.core, homeTenant(request.actor), request.actor, drafts);
        const report = batchReport(records, mapped, positions, result);
        return reply.code(report.failureCount > 0 ? 400 : 200).send(report);
      },
    });
  }
}
