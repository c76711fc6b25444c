import { randomUUID } from 'node:crypto';
import helmet from '@fastify/helmet';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { createAuthenticator } from './core/credentials/api-keys.js';
import type { CoreDeps } from './core/ports.js';
import { registerDialects, type RootUsers } from './http/dialects/index.js';
import { nativeApi } from './http/native/index.js';
import { invitationApi } from './http/native/invitation-routes.js';
import { nativeStatus } from './http/native/map-error.js';
import { createValidatorCompiler } from './http/shared/body-validation.js';
import { toDomainError } from './http/shared/framework-errors.js';
import { registerOpenApi } from './http/shared/openapi.js';
import { ProblemSchema, sendProblem } from './http/shared/problem.js';
import { registerRateLimit } from './http/shared/rate-limit.js';
import { DomainError } from './core/errors.js';

export interface AppOptions {
  core: CoreDeps;
  adminToken?: string | undefined;
  rateLimitPerMinute: number;
  rootUsers: RootUsers;
  bodyLimit?: number;
  logger?: FastifyServerOptions['logger'];
  version?: string;
}

/** Never logged: credentials, passwords and tokens wherever they appear. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  '*.password',
  '*.confirmPassword',
  '*.token',
  '*.passwordHash',
  // The account and provisioning dialects' names for a password.
  '*.passwordSh',
  '*.oldPassword',
  '*.Password',
];

/** Builds the whole HTTP application over the given core; never listens (server.ts does). */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? 8 * 1024 * 1024,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
    connectionTimeout: 60_000,
    requestTimeout: 120_000,
    keepAliveTimeout: 10_000,
    ajv: { customOptions: { strict: false } },
  });
  app.setValidatorCompiler(createValidatorCompiler());
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addSchema(ProblemSchema);

  await app.register(helmet, { contentSecurityPolicy: false, global: true });
  await registerOpenApi(app, options.version ?? '0.0.0');
  await registerRateLimit(app, options.rateLimitPerMinute);

  app.setErrorHandler((error, request, reply) => {
    const domainError = toDomainError(error);
    const status = nativeStatus(domainError.code);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(request, reply, domainError, status);
  });
  app.setNotFoundHandler((request, reply) => sendProblem(request, reply, new DomainError('NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}.`), 404));

  app.get('/healthz', { schema: { tags: ['system'], summary: 'Liveness' } }, async () => ({ status: 'ok' }));

  const authenticator = createAuthenticator(options.core.keys, options.adminToken);
  await app.register(nativeApi, { prefix: '/v1', core: options.core, authenticator });
  // The one /v1 route without an API key: the invitation token is its credential.
  await app.register(invitationApi, { prefix: '/v1', core: options.core });
  await registerDialects(app, { core: options.core, authenticator, rootUsers: options.rootUsers });
  return app;
}
