/**
 * Checks a user's password: the core of POST /v1/tenants/{tenant}/credentials/verify.
 *
 * The answer says only whether the password is right, and it takes about as long whatever
 * the reason it is not: an unknown login, a user without a password, a locked-out or
 * unapproved user and a wrong password all cost one password verification (against a dummy
 * argon2id hash when there is no hash to check) and all answer the same `{ valid: false }`.
 * A correct password over a hash that is not argon2id with Muster's current parameters (an
 * imported bcrypt, scrypt or PBKDF2 hash, or weaker argon2) is re-hashed and stored.
 */
import { randomBytes } from 'node:crypto';
import Type from 'typebox';
import { DomainError, isDomainError } from '../errors.js';
import { needsRehash } from '../passwords/hash-formats.js';
import type { CoreDeps, PasswordHasher } from '../ports.js';
import { loadTenant } from '../tenants/load-tenant.js';
import { identityKey } from '../users/normalise.js';
import type { User } from '../users/user.js';
import { compileValidator } from '../validation.js';
import type { Actor } from './actor.js';

export const VerifyCredentialsSchema = Type.Object(
  {
    login: Type.String({ minLength: 1, maxLength: 255, description: "The user's user name or email (compared after NFKC and case folding)." }),
    password: Type.String({ minLength: 1, maxLength: 4096, writeOnly: true }),
  },
  { additionalProperties: false },
);

const validateInput = compileValidator(VerifyCredentialsSchema);

export type VerifyResult = { valid: true; user: User; rehashed: boolean } | { valid: false };

/** The login as the rate limiter and the lookup see it: its identity key. */
export function loginKey(login: string): string {
  return identityKey(login);
}

/** One dummy argon2id hash per hasher, made with its current parameters from a password nobody knows. */
const dummyHashes = new WeakMap<PasswordHasher, Promise<string>>();

function dummyHash(hasher: PasswordHasher): Promise<string> {
  let dummy = dummyHashes.get(hasher);
  if (!dummy) {
    dummy = hasher.hash(randomBytes(32).toString('base64url'));
    dummyHashes.set(hasher, dummy);
    dummy.catch(() => dummyHashes.delete(hasher));
  }
  return dummy;
}

export async function verifyCredentials(
  deps: Pick<CoreDeps, 'tenants' | 'users' | 'credentials' | 'hasher'>,
  tenantId: string,
  actor: Actor,
  input: unknown,
): Promise<VerifyResult> {
  const tenant = await loadTenant(deps.tenants, actor, 'credentials:verify', tenantId);
  const parsed = validateInput(input);
  if (!parsed.ok) throw new DomainError(parsed.errors[0]!.code, parsed.errors[0]!.message, parsed.errors);
  const { login, password } = parsed.value;

  const stored = await deps.credentials.findByLogin(tenant.id, loginKey(login));
  const encoded = stored?.passwordHash ?? (await dummyHash(deps.hasher));
  // Always one verification, so that an unknown login costs what a known one does.
  const matches = await deps.hasher.verify(encoded, password);
  if (!stored || stored.passwordHash === null || !matches || stored.lockedOut || !stored.approved) return { valid: false };

  let rehashed = false;
  if (needsRehash(stored.passwordHash)) {
    try {
      const fresh = await deps.hasher.hash(password);
      rehashed = await deps.credentials.replacePasswordHash(tenant.id, stored.userId, stored.passwordHash, fresh);
    } catch (error) {
      // A busy hasher only postpones the upgrade to the next successful verification.
      if (!(isDomainError(error) && error.code === 'SERVICE_BUSY')) throw error;
    }
  }
  const user = await deps.users.get(tenant.id, stored.userId);
  // Deleted between the check and now: as if it had never been there.
  if (!user) return { valid: false };
  return { valid: true, user, rehashed };
}
