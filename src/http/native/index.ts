import type { FastifyInstance } from 'fastify';
import type { Authenticator } from '../../core/credentials/api-keys.js';
import type { CoreDeps } from '../../core/ports.js';
import { requireActor } from '../shared/authenticate.js';
import { auditRoutes } from './audit-routes.js';
import { catalogRoutes } from './catalog-routes.js';
import { credentialRoutes } from './credential-routes.js';
import { emailRoutes } from './email-routes.js';
import { importRoutes } from './import-routes.js';
import { invitationResendRoutes } from './invitation-resend-routes.js';
import { sessionRoutes } from './session-routes.js';
import { tenantRoutes } from './tenant-routes.js';
import { userRoutes } from './user-routes.js';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import { renderErrorsWith, renderProblem } from '../shared/error-handler.js';

export type NativeScope = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

/** The native `/v1` API: thin routes over the core, errors as RFC 9457 problem+json. */
export async function nativeApi(scope: FastifyInstance, options: { core: CoreDeps; authenticator: Authenticator; verifyRateLimitPerMinute?: number | undefined; importMaxBytes?: number | undefined; onImportQueued?: (() => void) | undefined }): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>() as NativeScope;
  renderErrorsWith(app, renderProblem);
  // JSON only: without this, Fastify's built-in text/plain parser would hand a string to the routes.
  app.removeContentTypeParser('text/plain');
  requireActor(app, options.authenticator, 'native', (request) => {
    const tenant = (request.params as { tenant?: unknown } | undefined)?.tenant;
    return typeof tenant === 'string' ? tenant : null;
  });
  sessionRoutes(app);
  tenantRoutes(app, options.core);
  catalogRoutes(app, options.core);
  userRoutes(app, options.core);
  invitationResendRoutes(app, options.core);
  credentialRoutes(app, options.core, { perLoginPerMinute: options.verifyRateLimitPerMinute });
  emailRoutes(app, options.core);
  auditRoutes(app, options.core);
  // In a scope of its own: the upload reads its body as a stream, outside the global body limit.
  await app.register(importRoutes, { core: options.core, maxBytes: options.importMaxBytes, onQueued: options.onImportQueued });
}
