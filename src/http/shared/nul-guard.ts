import type { FastifyInstance } from 'fastify';
import { DomainError } from '../../core/errors.js';
import { fieldsWithNul, nulFieldErrors } from '../../core/nul-characters.js';

function isStream(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { pipe?: unknown }).pipe === 'function';
}

/**
 * Refuses NUL (U+0000) in the path parameters, the query string and the JSON body of every
 * route, before the route runs: INVALID_FIELD naming each field, in the answering API's own
 * error contract. Registered once on the root instance; it runs after authentication
 * (preValidation), so that a caller without a credential still gets 401. Streamed bodies
 * (import uploads) are checked row by row by the importer instead.
 */
export function registerNulGuard(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const fields = [
      ...fieldsWithNul(request.params ?? {}),
      ...fieldsWithNul(request.query ?? {}),
      ...(isStream(request.body) ? [] : fieldsWithNul(request.body ?? null)),
    ];
    if (fields.length === 0) return;
    const errors = nulFieldErrors(fields);
    throw new DomainError('INVALID_FIELD', errors[0]!.message, errors);
  });
}
