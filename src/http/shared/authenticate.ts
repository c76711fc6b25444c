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

/** Every route of this scope needs a valid credential; a missing or bad one is UNAUTHORIZED. */
export function requireActor(scope: FastifyInstance, authenticator: Authenticator): void {
  scope.addHook('onRequest', async (request: FastifyRequest) => {
    request.actor = await authenticator.authenticate(presentedCredential(request));
  });
}
