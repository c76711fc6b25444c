import type { KeyRole } from './actor.js';

/** An API key as stored: never its token, only the token's hash. */
export interface ApiKeyRecord {
  id: string;
  tenantId: string | null;
  name: string;
  role: KeyRole;
  /** SHA-256 of the whole token, hex. */
  tokenHash: string;
  createdAt: string;
  revokedAt: string | null;
}
