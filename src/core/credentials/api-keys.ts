import { createHash, timingSafeEqual } from 'node:crypto';
import Type, { type Static } from 'typebox';
import { auditEvent } from '../audit/audit.js';
import { DomainError } from '../errors.js';
import type { ApiKeyStore, Clock, Ids, TenantStore } from '../ports.js';
import type { ApiKeyRecord } from './api-key-record.js';
import { loadTenant } from '../tenants/load-tenant.js';
import { compileValidator, PlainText } from '../validation.js';
import { isGlobal, KEY_ROLES, type Actor, type KeyRole } from './actor.js';
import { assertPermitted, checkKeyIssue } from './privileges.js';
import { invalidInput } from '../tenants/create-tenant.js';

const TOKEN_PREFIX = 'mst_';
/** What an issued key id looks like (`key-` and letters or digits); anything else names no key. */
const KEY_ID = /^key-[A-Za-z0-9]{1,64}$/;
/** The random bytes of a new key id: 8, written as 16 hex digits. */
const KEY_ID_BYTES = 8;

export const NewApiKeySchema = Type.Object(
  {
    name: PlainText({ minLength: 1, maxLength: 200 }),
    role: Type.Union(KEY_ROLES.map((role) => Type.Literal(role))),
  },
  { additionalProperties: false },
);
const validateNewKey = compileValidator(NewApiKeySchema);

export type IssuedApiKey = ApiKeyRecord & { token: string };

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Compares a presented secret with a stored SHA-256 digest in constant time. */
export function matchesDigest(presented: string, digest: Buffer): boolean {
  const candidate = sha256(presented);
  return candidate.length === digest.length && timingSafeEqual(candidate, digest);
}

/**
 * Issues a key for a tenant. Its token (`mst_<id>_<secret>`) is returned this once; only its
 * SHA-256 is stored. A global-admin key is bound to no tenant and only a global admin issues one.
 */
export async function issueApiKey(
  deps: { keys: ApiKeyStore; tenants: TenantStore; clock: Clock; ids: Ids },
  actor: Actor,
  tenantId: string,
  input: unknown,
): Promise<IssuedApiKey> {
  await loadTenant(deps.tenants, actor, 'keys:manage', tenantId);
  const checked = validateNewKey(input);
  if (!checked.ok) throw invalidInput(checked.errors);
  const { name, role } = checked.value as Static<typeof NewApiKeySchema> & { role: KeyRole };
  // The privilege rule: nobody issues a key of a higher role than its own.
  assertPermitted(checkKeyIssue(actor, role));
  // 16 hex digits, every one random (64 bits): unguessable, telling nothing of when the key was
  // issued, and no two alike in practice. Ids issued earlier, also 16 hex digits, keep working.
  const id = `key-${Buffer.from(deps.ids.secret(KEY_ID_BYTES), 'base64url').toString('hex')}`;
  const token = `${TOKEN_PREFIX}${id}_${deps.ids.secret(32)}`;
  const record: ApiKeyRecord = {
    id,
    tenantId: role === 'global-admin' ? null : tenantId,
    name,
    role,
    tokenHash: sha256(token).toString('hex'),
    createdAt: deps.clock.now().toISOString(),
    revokedAt: null,
  };
  await deps.keys.insert(record, auditEvent(deps, actor, tenantId, 'api-key.issued', id, { role, name }, record.createdAt));
  return { ...record, token };
}

export async function listApiKeys(deps: { keys: ApiKeyStore; tenants: TenantStore }, actor: Actor, tenantId: string): Promise<ApiKeyRecord[]> {
  await loadTenant(deps.tenants, actor, 'keys:manage', tenantId);
  const own = await deps.keys.list(tenantId);
  // Global keys belong to no tenant; a global admin sees (and may revoke) them through any tenant's list.
  return isGlobal(actor) ? [...own, ...(await deps.keys.list(null))] : own;
}

export async function revokeApiKey(deps: { keys: ApiKeyStore; tenants: TenantStore; clock: Clock; ids: Ids }, actor: Actor, tenantId: string, keyId: string): Promise<void> {
  await loadTenant(deps.tenants, actor, 'keys:manage', tenantId);
  const key = KEY_ID.test(keyId) ? await deps.keys.get(keyId) : undefined;
  const visible = key !== undefined && (key.tenantId === tenantId || (key.tenantId === null && isGlobal(actor)));
  const at = deps.clock.now().toISOString();
  if (!visible || !(await deps.keys.revoke(keyId, at, auditEvent(deps, actor, tenantId, 'api-key.revoked', keyId, { role: key.role }, at)))) {
    throw new DomainError('NOT_FOUND', 'No such API key.');
  }
}

export type PresentedCredential = { kind: 'bearer'; token: string } | { kind: 'basic'; user: string; password: string };

export interface Authenticator {
  /** The actor behind a credential; UNAUTHORIZED for an unknown, malformed or revoked one. */
  authenticate(credential: PresentedCredential | undefined): Promise<Actor>;
}

const BOOTSTRAP: Actor = { keyId: 'bootstrap', role: 'global-admin', tenantId: null };

export function createAuthenticator(keys: ApiKeyStore, adminToken: string | undefined): Authenticator {
  const adminDigest = adminToken ? sha256(adminToken) : undefined;
  const refuse = () => new DomainError('UNAUTHORIZED', 'The credential is missing, invalid or revoked.');
  return {
    async authenticate(credential) {
      if (!credential) throw refuse();
      const token = credential.kind === 'bearer' ? credential.token : credential.password;
      if (credential.kind === 'bearer' && adminDigest && matchesDigest(token, adminDigest)) return BOOTSTRAP;
      if (!token.startsWith(TOKEN_PREFIX)) throw refuse();
      const rest = token.slice(TOKEN_PREFIX.length);
      const id = rest.slice(0, rest.indexOf('_'));
      if (!KEY_ID.test(id) || (credential.kind === 'basic' && credential.user !== id)) throw refuse();
      const key = await keys.get(id);
      if (!key || key.revokedAt !== null || !matchesDigest(token, Buffer.from(key.tokenHash, 'hex'))) throw refuse();
      return { keyId: key.id, role: key.role, tenantId: key.tenantId };
    },
  };
}
