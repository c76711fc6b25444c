import Type from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, fieldError, type FieldError } from '../../../core/errors.js';
import { createUsers, MAX_BATCH_SIZE, type UserOutcome } from '../../../core/users/create-users.js';
import { getUsersRevision } from '../../../core/users/users-revision.js';
import { requireActor } from '../../shared/authenticate.js';
import { isPlainObject } from '../../shared/dialect-input.js';
import { expectedRevision, parseIfMatch } from '../../shared/if-match.js';
import { renameField } from '../../shared/field-names.js';
import type { DialectOptions } from '../index.js';
import { accountField, AccountUser, AccountUserInput, presentAccountUser, toDraft } from './entity.js';
import { AccountErrorSchema, accountErrorBody, accountRefusal, accountStatus } from './map-error.js';
import { renderErrorsWith } from '../../shared/error-handler.js';
import { documentedBody } from '../../shared/body-validation.js';

export const ACCOUNT_USERS_PATH = '/api/account/:accountId/configuration/le-users/users';

/** The only API version this dialect speaks (seed 001: "Value should be 4.0"). */
const API_VERSION = 4;

const AccountParams = Type.Object({
  accountId: Type.String({ minLength: 1, maxLength: 63, description: 'The account: a Muster tenant id, which must be the credential\'s own tenant (any tenant for a global admin).' }),
});

const AccountQuery = Type.Object({
  v: Type.Optional(Type.String({ maxLength: 20, description: 'API version: required, must be 4.0.' })),
});

const AccountHeaders = Type.Object({
  'if-match': Type.Optional(
    Type.String({
      maxLength: 100,
      description: 'The users revision (`ac-revision`) the client knows, bare or quoted. When it is no longer current the request fails with 412 and nothing is written.',
    }),
  ),
});

const AccountBody = Type.Union([Type.Array(AccountUserInput, { maxItems: MAX_BATCH_SIZE }), AccountUserInput], {
  description: `A list of up to ${MAX_BATCH_SIZE} user entities (or one entity). All are created or none is.`,
});

const revisionHeaders = {
  'ac-revision': Type.Integer({ description: "The account's users revision after the request; it grows with every change to the account's users." }),
  etag: Type.String({ description: 'The same revision, quoted (the vendor appendix\'s eTag).' }),
};

/**
 * The revision named by `If-Match`: a bare (`7`), quoted (`"7"`) or weak (`W/"7"`) number.
 * `*` or no header asks for no check; anything else can match no revision (-1).
 */
export function ifMatchRevision(header: string | undefined): number | undefined {
  const ifMatch = parseIfMatch(header, { bare: true });
  const expected = ifMatch === undefined ? undefined : expectedRevision(ifMatch, 'weak');
  return expected === 'any' ? undefined : expected;
}

function checkVersion(v: string | undefined): void {
  if (v === undefined) {
    throw new DomainError('MISSING_REQUIRED_FIELD', 'The query parameter v is required: add ?v=4.0.', [
      fieldError('v', 'MISSING_REQUIRED_FIELD', 'v is required; this API is version 4.0.'),
    ]);
  }
  if (v.trim() === '' || Number(v) !== API_VERSION) {
    throw new DomainError('INVALID_FIELD', 'Unsupported API version: v must be 4.0.', [fieldError('v', 'INVALID_FIELD', 'v must be 4.0.')]);
  }
}

function setRevision(reply: FastifyReply, revision: number): void {
  reply.header('ac-revision', String(revision));
  reply.header('etag', `"${revision}"`);
}

/** The whole request refused: the first failed user's code names it; every failed user's errors are listed. */
function refusal(failed: Extract<UserOutcome, { status: 'failed' }>[], list: boolean, expected: number | undefined, revision: number | undefined): DomainError {
  if (failed.some((o) => o.error.code === 'PRECONDITION_FAILED')) {
    return new DomainError(
      'PRECONDITION_FAILED',
      `If-Match names users revision ${expected}, but the account's users revision is ${revision}; nothing was written.`,
    );
  }
  const errors: FieldError[] = failed.flatMap((o) =>
    o.error.errors.map((e) => {
      const renamed = renameField(e, accountField);
      const path = list ? [String(o.index), renamed.field].filter(Boolean).join('.') : renamed.field;
      return { ...renamed, field: path };
    }),
  );
  const first = failed[0]!.error;
  const message = list ? `No user was created: user ${failed[0]!.index} was refused. ${errors[0]!.message}` : errors[0]!.message;
  return new DomainError(first.code, message, errors);
}

/**
 * The `account` dialect (seed 001): POST /api/account/{accountId}/configuration/le-users/users?v=4.0
 * creates a list of users in the account, all or none, and answers with the account's users
 * revision in `ac-revision`; `If-Match` makes the request conditional on that revision.
 */
export async function accountDialect(scope: FastifyInstance, options: DialectOptions): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const core = options.core;

  /** The account's revision for error responses, for a caller allowed to see the account; never for 401, 403 or 404. */
  async function revisionForError(request: FastifyRequest, reply: FastifyReply, status: number): Promise<void> {
    if (reply.hasHeader('ac-revision') || status === 401 || status === 403 || status === 404) return;
    const accountId = (request.params as { accountId?: unknown } | undefined)?.accountId;
    if (!request.actor || typeof accountId !== 'string') return;
    try {
      setRevision(reply, await getUsersRevision(core, request.actor, accountId));
    } catch {
      // No revision to report (another tenant's account, a role that may not read users): the error stands without it.
    }
  }

  renderErrorsWith(app, async (refusal, request, reply) => {
    const error = request.actor ? accountRefusal(refusal, request.actor, (request.params as { accountId?: unknown } | undefined)?.accountId) : refusal;
    const status = accountStatus(error.code);
    if (status === 401 || status === 403 || status === 404) {
      reply.removeHeader('ac-revision');
      reply.removeHeader('etag');
    }
    await revisionForError(request, reply, status);
    return { status, body: accountErrorBody(error, String(request.id), core.clock.now()) };
  });
  requireActor(app, options.authenticator, 'account', (request) => {
    const accountId = (request.params as { accountId?: unknown } | undefined)?.accountId;
    return typeof accountId === 'string' ? accountId : null;
  });
  // JSON only (the documented Content-Type): without this, Fastify's text/plain parser would hand the route a string.
  app.removeContentTypeParser('text/plain');

  app.post(ACCOUNT_USERS_PATH, {
    config: { idempotency: true, performs: 'users:write' },
    schema: {
      tags: ['account'],
      summary: 'Create a list of users in an account (seed 001)',
      description:
        'All users are created or none is. Every response to a caller that may see the account carries `ac-revision` (and `ETag`), ' +
        "the account's users revision; with `If-Match` naming an older revision the request fails with 412 and writes nothing.",
      params: AccountParams,
      querystring: AccountQuery,
      headers: AccountHeaders,
      body: documentedBody(AccountBody),
      response: {
        201: {
          description: 'Created: the users, in request order (a list for a list, one entity for one entity). `Location` is set when one user was created.',
          headers: revisionHeaders,
          ...Type.Union([Type.Array(AccountUser), AccountUser]),
        },
        400: AccountErrorSchema,
        401: AccountErrorSchema,
        402: AccountErrorSchema,
        403: AccountErrorSchema,
        404: AccountErrorSchema,
        409: AccountErrorSchema,
        412: AccountErrorSchema,
        413: AccountErrorSchema,
        415: AccountErrorSchema,
        429: AccountErrorSchema,
        500: AccountErrorSchema,
      },
    },
    handler: async (request, reply) => {
      const { accountId } = request.params;
      const actor = request.actor;
      checkVersion(request.query.v);
      const expected = ifMatchRevision(request.headers['if-match']);

      const body = request.body;
      const list = Array.isArray(body);
      if (!list && !isPlainObject(body)) {
        throw new DomainError('INVALID_FIELD', 'The body must be a list of user entities.', [fieldError('', 'INVALID_FIELD', 'The body must be a list of user entities.')]);
      }
      const entities: unknown[] = list ? body : [body];
      const result = await createUsers(core, accountId, actor, entities.map(toDraft), { atomic: true, expectedUsersRevision: expected });
      const revision = result.usersRevision ?? (await getUsersRevision(core, actor, accountId));
      setRevision(reply, revision);

      const failed = result.outcomes.filter((o): o is Extract<UserOutcome, { status: 'failed' }> => o.status === 'failed');
      if (failed.length > 0) throw refusal(failed, list, expected, revision);
      const users = result.outcomes.flatMap((o) => (o.status === 'created' ? [o.user] : []));
      if (users.length === 1) reply.header('location', `${request.server.publicUrl ?? ''}/v1/tenants/${encodeURIComponent(accountId)}/users/${users[0]!.id}`);
      const presented = users.map(presentAccountUser);
      return reply.code(201).send(list ? presented : presented[0]!);
    },
  });
}
