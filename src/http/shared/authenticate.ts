import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authenticator } from '../../core/credentials/api-keys.js';
import type { Actor } from '../../core/ports.js';
import { presentedCredential } from './credentials.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on every route of a scope that called `requireActor`. */
    actor: Actor;
  }
}

/** The API a request came through: the one its scope named, else its route's first OpenAPI tag. */
function dialectOf(request: FastifyRequest, named: string | undefined): string {
  if (named) return named;
  const tags = (request.routeOptions.schema as { tags?: unknown } | undefined)?.tags;
  return Array.isArray(tags) && typeof tags[0] === 'string' ? tags[0] : 'unknown';
}

const attempts = new WeakMap<FastifyRequest, Promise<Actor>>();

/**
 * The actor behind the request's credential, looked up once per request: the rate limit (which
 * counts by credential) and the route's own check share one lookup. Rejects with UNAUTHORIZED
 * like `Authenticator.authenticate`.
 */
export function authenticateOnce(request: FastifyRequest, authenticator: Authenticator): Promise<Actor> {
  let attempt = attempts.get(request);
  if (!attempt) {
    attempt = authenticator.authenticate(presentedCredential(request));
    // Whoever awaits it sees the refusal; an attempt nobody awaits must not end the process.
    attempt.catch(() => {});
    attempts.set(request, attempt);
  }
  return attempt;
}

/**
 * Every route of this scope needs a valid credential; a missing or bad one is UNAUTHORIZED.
 * The actor carries the API (`dialect`) and the request id, which the audit log records.
 */
export function requireActor(scope: FastifyInstance, authenticator: Authenticator, dialect?: string): void {
  scope.addHook('onRequest', async (request: FastifyRequest) => {
    const actor = await authenticateOnce(request, authenticator);
    request.actor = { ...actor, context: { dialect: dialectOf(request, dialect), requestId: String(request.id) } };
  });
}
