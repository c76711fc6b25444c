import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DomainError } from '../../core/errors.js';
import { toDomainError } from './framework-errors.js';
import { problemBody, setErrorHeaders } from './problem.js';
import { nativeStatus } from '../native/map-error.js';

/** How one API answers one error: its status, its body and, when not JSON, its media type. */
export interface RenderedError {
  status: number;
  body: unknown;
  contentType?: string;
}

export type ErrorRenderer = (error: DomainError, request: FastifyRequest, reply: FastifyReply) => RenderedError | Promise<RenderedError>;

/**
 * Every error of a scope, whatever raised it, becomes a domain error and is answered in the
 * scope's own contract: one place for logging server errors (never their details in a
 * body), `WWW-Authenticate` and `Retry-After`, and serialising the body.
 */
export function renderErrorsWith(scope: FastifyInstance, render: ErrorRenderer): void {
  scope.setErrorHandler(async (error, request, reply) => {
    const domainError = toDomainError(error);
    const rendered = await render(domainError, request, reply);
    if (rendered.status >= 500) request.log.error({ err: error }, 'request failed');
    setErrorHeaders(reply, domainError, rendered.status);
    if (rendered.contentType) reply.type(rendered.contentType);
    return reply.code(rendered.status).serializer(JSON.stringify).send(rendered.body);
  });
}

/** The native API's rendering: RFC 9457 problem details. */
export const renderProblem: ErrorRenderer = (error, request) => {
  const status = nativeStatus(error.code);
  return { status, body: problemBody(error, status, String(request.id)), contentType: 'application/problem+json' };
};
