import Type from 'typebox';
import { createHash } from 'node:crypto';
import { loginKey, VerifyCredentialsSchema, verifyCredentials } from '../../core/credentials/verify-password.js';
import { DomainError } from '../../core/errors.js';
import type { CoreDeps } from '../../core/ports.js';
import type { NativeScope } from './index.js';
import { setLimitHeaders, takePoint } from '../shared/rate-limit.js';
import { ErrorResponses, presentUser, TenantParams, UserSchema } from './schemas.js';
import { documentedBody } from '../shared/body-validation.js';

/** Password checks allowed per minute for one login of one tenant, by default. */
export const DEFAULT_VERIFY_PER_LOGIN_PER_MINUTE = 10;

const VerifyResponse = Type.Object(
  {
    valid: Type.Boolean({ description: 'True only when the login exists, has this password, and is neither locked out nor unapproved.' }),
    user: Type.Optional(UserSchema),
  },
  { description: 'One answer, `{"valid": false}`, for every failure: the response never tells an unknown login from a wrong password.' },
);

export function credentialRoutes(app: NativeScope, core: CoreDeps, options: { perLoginPerMinute?: number | undefined } = {}): void {
  // Counted per tenant and normalised login, whichever credential asks, on top of the
  // per-credential limit; on PostgreSQL shared by every instance (see createLimiterFactory).
  const limitPerLogin = app.limiters('verify', options.perLoginPerMinute ?? DEFAULT_VERIFY_PER_LOGIN_PER_MINUTE);

  app.post('/tenants/:tenant/credentials/verify', {
    // Only a caller who may verify in this tenant counts against its logins' limits.
    config: { performs: 'credentials:verify' },
    schema: {
      tags: ['native'],
      summary: "Check a user's password",
      description:
        'Checks `password` for the user whose user name or email is `login` (user-manager and above of the tenant). ' +
        'Answers 200 `{"valid": true, "user": …}` or 200 `{"valid": false}` — the same body, in about the same time, for an unknown login, ' +
        'a wrong password, a user without a password and a locked-out or unapproved user. At most 10 checks a minute per login ' +
        '(429 with Retry-After past it). A correct password stored in another format (bcrypt, scrypt, PBKDF2, argon2i, weaker argon2id) ' +
        "is re-hashed with Muster's current argon2id parameters.",
      params: TenantParams,
      body: documentedBody(VerifyCredentialsSchema),
      response: { 200: VerifyResponse, ...ErrorResponses },
    },
    handler: async (request, reply) => {
      const { tenant } = request.params;
      const login = (request.body as { login?: unknown } | undefined)?.login;
      if (typeof login === 'string') {
        // A digest: the stored key has a bounded length and names no login in clear.
        const key = createHash('sha256').update(`${tenant}\0${loginKey(login)}`).digest('base64url');
        const limit = await takePoint(limitPerLogin, key);
        if (!limit.allowed) {
          app.limitRefused('verify');
          setLimitHeaders(reply, limit);
          throw new DomainError('RATE_LIMIT_EXCEEDED', `Too many password checks for this login: at most ${limit.limit} a minute.`, [], limit.resetSeconds);
        }
      }
      const result = await verifyCredentials(core, tenant, request.actor, request.body);
      return result.valid ? { valid: true, user: presentUser(result.user) } : { valid: false };
    },
  });
}
