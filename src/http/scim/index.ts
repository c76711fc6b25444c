/**
 * The SCIM 2.0 service provider (RFC 7643, RFC 7644) at /scim/v2: one more dialect over the
 * same core. Bodies are application/scim+json (plain JSON accepted), answers are
 * application/scim+json, errors are SCIM Error bodies. A key's tenant is the tenant
 * provisioned; a global key provisions `default`. Discovery needs no credential.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { Authenticator } from '../../core/credentials/api-keys.js';
import { DomainError } from '../../core/errors.js';
import type { CoreDeps } from '../../core/ports.js';
import { requireActor } from '../shared/authenticate.js';
import { publicBase } from '../shared/public-url.js';
import { registerJsonBodyParser } from '../shared/json-body.js';
import { bulkRoutes, MAX_BULK_PAYLOAD_BYTES } from './bulk.js';
import { SCIM_PREFIX } from './context.js';
import { discoveryRoutes } from './discovery.js';
import { groupRoutes } from './groups.js';
import { scimErrorBody } from './map-error.js';
import { SCIM_MEDIA_TYPE } from './schemas.js';
import { unsupportedRoutes } from './unsupported.js';
import { userRoutes } from './users.js';
import { renderErrorsWith } from '../shared/error-handler.js';

export type ScimScope = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface ScimOptions {
  core: CoreDeps;
  authenticator: Authenticator;
}

/** Errors every SCIM scope answers alike: a SCIM Error body, the bulk limit named when it is the bulk body that is too large. */
function errorHandling(scope: ScimScope): void {
  renderErrorsWith(scope, (error, request) => {
    let domainError = error;
    if (error.code === 'PAYLOAD_TOO_LARGE' && request.url.split('?')[0]?.endsWith('/Bulk')) {
      domainError = new DomainError('PAYLOAD_TOO_LARGE', `The size of the bulk operation exceeds the maxPayloadSize (${MAX_BULK_PAYLOAD_BYTES}).`);
    } else if (error.code === 'UNSUPPORTED_MEDIA_TYPE') {
      domainError = new DomainError('UNSUPPORTED_MEDIA_TYPE', `Send the body as ${SCIM_MEDIA_TYPE} (or application/json).`);
    }
    return { ...scimErrorBody(domainError), contentType: SCIM_MEDIA_TYPE };
  });
  scope.setNotFoundHandler((request, reply) => {
    const { status, body } = scimErrorBody(new DomainError('NOT_FOUND', `No SCIM endpoint for ${request.method} ${request.url.split('?')[0]}.`));
    return reply.code(status).type(SCIM_MEDIA_TYPE).send(body);
  });
}

/** Every answer is application/scim+json (RFC 7644 §3.1). */
function scimMediaType(scope: ScimScope): void {
  registerJsonBodyParser(scope, undefined, SCIM_MEDIA_TYPE);
  // JSON only: without this, Fastify's built-in text/plain parser would hand a string to the routes.
  scope.removeContentTypeParser('text/plain');
  scope.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode !== 204 && String(reply.getHeader('content-type') ?? '').includes('json')) reply.type(`${SCIM_MEDIA_TYPE}; charset=utf-8`);
    return payload;
  });
}

/** /scim/v2: discovery without a credential, then Users, Groups and Bulk with one. */
export async function scimApi(root: FastifyInstance, options: ScimOptions): Promise<void> {
  await root.register(
    async (instance) => {
      const scope = instance.withTypeProvider<TypeBoxTypeProvider>() as ScimScope;
      errorHandling(scope);
      scimMediaType(scope);

      await scope.register(async (open) => {
        discoveryRoutes(open.withTypeProvider<TypeBoxTypeProvider>() as ScimScope, (request) => `${publicBase(request)}${SCIM_PREFIX}`);
      });

      await scope.register(async (guarded) => {
        const app = guarded.withTypeProvider<TypeBoxTypeProvider>() as ScimScope;
        requireActor(app, options.authenticator, 'scim');
        userRoutes(app, options.core);
        groupRoutes(app, options.core);
        bulkRoutes(app, options.core);
        unsupportedRoutes(app);
      });
    },
    { prefix: SCIM_PREFIX },
  );
}
