/**
 * How a new deployment lets its first person in without a default password. When no
 * `MUSTER_ADMIN_TOKEN` is configured and the database holds no usable global-admin key, one
 * global-admin API key is issued at start-up with a fresh random secret. Its token is handed
 * back this once for the server to print; like every key, only its SHA-256 is stored, and it is
 * revoked like any other key. Once such a key exists, later starts issue nothing.
 */
import type { ApiKeyStore, Clock, Ids, TenantStore } from '../ports.js';
import type { Actor } from './actor.js';
import { issueApiKey, type IssuedApiKey } from './api-keys.js';

export const FIRST_START_KEY_NAME = 'first-start administrator';

/** Who issues the first-start key in the audit log: the server itself. */
const SYSTEM: Actor = { keyId: 'system', role: 'global-admin', tenantId: null };

/**
 * Issues the first-start administrator key when nobody could otherwise get in: no admin token
 * is configured and no global-admin key is unrevoked. Returns the issued key (with its token,
 * which is never readable again), or undefined when a way in already exists.
 */
export async function ensureFirstStartKey(
  deps: { keys: ApiKeyStore; tenants: TenantStore; clock: Clock; ids: Ids },
  options: { adminTokenConfigured: boolean; tenantId?: string },
): Promise<IssuedApiKey | undefined> {
  if (options.adminTokenConfigured) return undefined;
  const globalKeys = await deps.keys.list(null);
  if (globalKeys.some((key) => key.role === 'global-admin' && key.revokedAt === null)) return undefined;
  return issueApiKey(deps, SYSTEM, options.tenantId ?? 'default', { name: FIRST_START_KEY_NAME, role: 'global-admin' });
}

/** What the server prints once when it issued the first-start key: how to get in. */
export function firstStartMessage(key: IssuedApiKey, baseUrl: string): string {
  return [
    '',
    '┌─ Muster: first start ─────────────────────────────────────────────────────────',
    '│ No MUSTER_ADMIN_TOKEN is set, so a global-admin API key was issued. Its token is',
    '│ shown this once (only its hash is stored):',
    '│',
    `│   export MUSTER_TOKEN=${key.token}`,
    `│   curl -H "Authorization: Bearer $MUSTER_TOKEN" ${baseUrl}/v1/tenants`,
    '│',
    `│ Docs: ${baseUrl}/docs (Authorize with the token)`,
    '│ Keep it somewhere safe, or issue your own keys with it and revoke it:',
    `│   DELETE /v1/tenants/default/api-keys/${key.id}`,
    '│ Lost it? Start once with MUSTER_ADMIN_TOKEN set (16+ characters) and revoke this key.',
    '└───────────────────────────────────────────────────────────────────────────────',
    '',
  ].join('\n');
}

/** What the server logs at every start when nobody can get in with a configured token. */
export const NO_ADMIN_TOKEN_HINT =
  'MUSTER_ADMIN_TOKEN is not set: sign in with an API key (the first-start administrator key printed at the first start, or one issued with it), or set MUSTER_ADMIN_TOKEN (16+ characters) and restart.';
