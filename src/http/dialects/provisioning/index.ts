import Type from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Actor } from '../../../core/credentials/actor.js';
import { DomainError, isDomainError, type FieldError } from '../../../core/errors.js';
import { assertBatchSize, MAX_BATCH_SIZE } from '../../../core/users/create-users.js';
import { provisioningTenant, provisionUsers } from '../../../core/users/provision-users.js';
import type { CoreDeps } from '../../../core/ports.js';
import { requireActor } from '../../shared/authenticate.js';
import { isPlainObject } from '../../shared/dialect-input.js';
import { renameField } from '../../shared/field-names.js';
import type { DialectOptions } from '../index.js';
import { provisioningError, ProvisioningErrorSchema, provisioningMessage, ProvisioningUser, SEED_MESSAGES } from './map-error.js';
import { mapUser, presentUser, provisioningField, ProvisioningUserInput, type SimulatedUser } from './users.js';
import { renderErrorsWith } from '../../shared/error-handler.js';
import { documentedBody } from '../../shared/body-validation.js';

export const PROVISIONING_PATHS = ['/provisioning/users.svc/', '/provisioning/users.svc'];

const MODIFIERS = ['', 'no_email', 'simulate'] as const;

const ProvisioningQuery = Type.Object({
  modifier: Type.Optional(
    Type.String({
      maxLength: 20,
      description: "`no_email`: send the users no email. `simulate`: a dry run, nothing is created or sent. Empty or absent: create the users. Any other value is refused (400), so that a mistyped `simulate` cannot create users.",
    }),
  ),
});

const ProvisioningHeaders = Type.Object({
  appkey: Type.Optional(
    Type.String({
      maxLength: 200,
      description: "AppKey: the application key of the Muster tenant to act in (its `appKey`). Optional: without it the credential's own tenant (`default` for a global key). A key that is not the credential's tenant's (any tenant's for a global admin) answers 401.",
    }),
  ),
});

const ProvisioningBody = Type.Union([Type.Array(ProvisioningUserInput, { maxItems: MAX_BATCH_SIZE }), ProvisioningUserInput], {
  description: `A list of up to ${MAX_BATCH_SIZE} users (one object is a list of one).`,
});

type Presented = ReturnType<typeof presentUser> | SimulatedUser;

/** One user of the request that was not created: where it was, and why. */
interface Refused {
  index: number;
  email: string | undefined;
  errors: FieldError[];
}

function errorBody(error: { code: string; message: string }, refused: Refused[], users: Presented[], requestId: string) {
  return {
    Message: error.message,
    Code: error.code,
    Errors: refused.flatMap(({ index, email, errors }) =>
      errors.map((e) => ({ Index: index, ...(email !== undefined && { EmailAddress: email }), Field: e.field, Code: e.code, Message: provisioningMessage(e), Detail: e.message })),
    ),
    Users: users,
    RequestId: requestId,
  };
}

/** The tenant to act in: the one the AppKey header names, or the credential's own. */
async function tenantOf(core: CoreDeps, actor: Actor, appKey: string | undefined): Promise<string> {
  try {
    return await provisioningTenant(core, actor, appKey);
  } catch (error) {
    // An unknown application key, or one this token does not belong to, is a bad credential here.
    if (isDomainError(error) && error.code === 'NOT_FOUND') throw new DomainError('UNAUTHORIZED', SEED_MESSAGES.notAuthorized);
    throw error;
  }
}

/**
 * The `provisioning` dialect (seed 002): POST /provisioning/users.svc/ creates one or more
 * users on behalf of a company administrator. Each user is created or refused on its own;
 * the answer is 200 with the created users when all were created, else the status and
 * message of the first refused user, with every refusal and the users created nonetheless.
 */
export async function provisioningDialect(scope: FastifyInstance, options: DialectOptions): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const core = options.core;
  renderErrorsWith(app, (error, request) => {
    const mapped = provisioningError(error.code);
    const first = error.errors[0];
    const message = mapped.message ?? (first ? provisioningMessage(renameField(first, provisioningField)) : error.message);
    return { status: mapped.status, body: errorBody({ code: error.code, message }, [], [], String(request.id)) };
  });
  requireActor(app, options.authenticator, 'provisioning');
  // JSON only (the documented Content-Type): without this, Fastify's text/plain parser would hand the route a string.
  app.removeContentTypeParser('text/plain');

  for (const url of PROVISIONING_PATHS) {
    app.post(url, {
      // "The application must be working on behalf of an authorized administrator account."
      config: { idempotency: true, performs: 'users:provision' },
      schema: {
        tags: ['provisioning'],
        summary: 'Create one or more users (seed 002)',
        description:
          'Needs a tenant-admin or global-admin credential (HTTP Basic with the key id and token, or Bearer). Responses are JSON whatever `Accept` says. ' +
          '200 lists the users created. When some user is refused, the status and `Message` are those of the first refused user (400, 402 or 403), ' +
          '`Errors` lists every refused user and `Users` the users created nonetheless.',
        ...(url.endsWith('/') ? {} : { hide: true }),
        querystring: ProvisioningQuery,
        headers: ProvisioningHeaders,
        body: documentedBody(ProvisioningBody),
        response: {
          200: Type.Array(ProvisioningUser, { description: 'The users created (with modifier=simulate: that would be created).' }),
          400: ProvisioningErrorSchema,
          401: ProvisioningErrorSchema,
          402: ProvisioningErrorSchema,
          403: ProvisioningErrorSchema,
          413: ProvisioningErrorSchema,
          415: ProvisioningErrorSchema,
          429: ProvisioningErrorSchema,
          500: ProvisioningErrorSchema,
        },
      },
      handler: async (request, reply) => {
        const actor = request.actor;
        const modifier = request.query.modifier ?? '';
        if (!(MODIFIERS as readonly string[]).includes(modifier)) {
          throw new DomainError('INVALID_FIELD', 'modifier must be no_email or simulate.', [{ field: 'modifier', code: 'INVALID_FIELD', message: 'modifier must be no_email or simulate.' }]);
        }
        const simulate = modifier === 'simulate';
        const tenantId = await tenantOf(core, actor, request.headers.appkey);

        const body = request.body;
        if (!Array.isArray(body) && !isPlainObject(body)) {
          throw new DomainError('INVALID_FIELD', 'The body must be a list of users.', [{ field: '', code: 'INVALID_FIELD', message: 'The body must be a list of users.' }]);
        }
        const inputs: unknown[] = Array.isArray(body) ? body : [body];
        assertBatchSize(inputs.length);
        const mapped = inputs.map(mapUser);
        const toCore = mapped.flatMap((m, index) => (m.ok ? [{ index, draft: m.draft, simulated: m.simulated }] : []));

        const refused: Refused[] = [];
        const users: Presented[] = [];
        const emailOf = (index: number) => {
          const input = inputs[index];
          return isPlainObject(input) && typeof input.EmailAddress === 'string' ? input.EmailAddress : undefined;
        };
        mapped.forEach((m, index) => {
          if (!m.ok) refused.push({ index, email: emailOf(index), errors: [m.error] });
        });
        if (toCore.length > 0) {
          const result = await provisionUsers(core, tenantId, actor, toCore.map((c) => c.draft), { dryRun: simulate, notify: modifier !== 'no_email' });
          for (const outcome of result.outcomes) {
            const { index, simulated } = toCore[outcome.index]!;
            if (outcome.status === 'created') users.push(presentUser(outcome.user));
            else if (outcome.status === 'valid') users.push(simulated);
            else refused.push({ index, email: emailOf(index), errors: outcome.error.errors.map((e) => renameField(e, provisioningField)) });
          }
        }
        if (refused.length === 0) return reply.code(200).send(users);

        refused.sort((a, b) => a.index - b.index);
        const first = refused[0]!.errors[0]!;
        const status = provisioningError(first.code).status;
        return reply.code(status as 400).send(errorBody({ code: first.code, message: provisioningMessage(first) }, refused, users, String(request.id)));
      },
    });
  }
}
