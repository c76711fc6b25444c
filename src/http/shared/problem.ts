import Type from 'typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DomainError } from '../../core/errors.js';
import { WWW_AUTHENTICATE } from './credentials.js';

export const FieldErrorSchema = Type.Object({
  field: Type.String({ description: 'Dotted path of the field, e.g. `name.givenName` or `users.3.email`.' }),
  code: Type.String(),
  message: Type.String(),
});

/** RFC 9457 problem details with Muster's stable `code` and per-field `errors`. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'Stable, machine-readable error code.' }),
    errors: Type.Array(FieldErrorSchema, { description: 'Per-field detail; empty when the problem concerns the whole request.' }),
    requestId: Type.String(),
  },
  { $id: 'Problem', description: 'application/problem+json' },
);

function title(code: string): string {
  return code
    .toLowerCase()
    .split('_')
    .map((word, i) => (i === 0 ? word[0]!.toUpperCase() + word.slice(1) : word))
    .join(' ');
}

/**
 * Sends the headers every error needs whatever the dialect: `WWW-Authenticate` on 401 and
 * `Retry-After` when a retry can succeed later.
 */
export function setErrorHeaders(reply: FastifyReply, error: DomainError, status: number): void {
  if (status === 401) reply.header('www-authenticate', WWW_AUTHENTICATE);
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
}

/** The RFC 9457 body of a domain error answered with `status`. */
export function problemBody(error: DomainError, status: number, requestId: string) {
  return {
    type: `urn:muster:error:${error.code.toLowerCase().replace(/_/g, '-')}`,
    title: title(error.code),
    status,
    detail: error.message,
    code: error.code,
    errors: error.errors,
    requestId,
  };
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: DomainError, status: number) {
  setErrorHeaders(reply, error, status);
  return reply.code(status).type('application/problem+json').serializer(JSON.stringify).send(problemBody(error, status, String(request.id)));
}
