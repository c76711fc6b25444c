import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authenticator } from '../../core/credentials/api-keys.js';
import { authorize, type Action, type Actor } from '../../core/credentials/actor.js';
import { presentedCredential } from './credentials.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on every route of a scope that called `requireActor`. */
    actor: Actor;
  }
  interface FastifyContextConfig {
    /**
     * What the route's use case does, in the core's terms. The core's rule (core/credentials/
     * actor.ts) refuses an actor that may not do it as soon as the request arrives, before its
     * body is read, so that a credential without the right learns nothing from a bad body; the
     * use case checks again when it runs. HTTP names the action, never a role or a tenant rule.
     */
    performs?: Action | readonly Action[];
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
 * A route that declares what it `performs` is refused here by the core's rule, in the tenant
 * `tenantOf` names (null: the credential's own, where only the role counts).
 */
export function requireActor(scope: FastifyInstance, authenticator: Authenticator, dialect?: string, tenantOf: (request: FastifyRequest) => string | null = () => null): void {
  scope.addHook('onRequest', async (request: FastifyRequest) => {
    const actor = await authenticateOnce(request, authenticator);
    request.actor = { ...actor, context: { dialect: dialectOf(request, dialect), requestId: String(request.id) } };
    const performs = request.routeOptions.config?.performs;
    if (performs === undefined) return;
    const tenantId = tenantOf(request);
    for (const action of typeof performs === 'string' ? [performs] : performs) authorize(request.actor, action, tenantId);
  });
}
