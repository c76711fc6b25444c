import type { FastifyInstance } from 'fastify';
import type { Authenticator } from '../../core/credentials/api-keys.js';
import type { CoreDeps } from '../../core/ports.js';
import { accountDialect } from './account/index.js';
import { appDialect } from './app/index.js';
import { batchDialect } from './batch/index.js';
import { provisioningDialect } from './provisioning/index.js';
import { simpleDialect } from './simple/index.js';
import { scimApi } from '../scim/index.js';

export interface DialectOptions {
  core: CoreDeps;
  authenticator: Authenticator;
}

export type RootUsers = 'batch' | 'simple' | 'none';

/**
 * Registers every compatibility dialect, each in its own encapsulated scope with its own
 * error mapping. `batch` and `simple` both claim POST /users: both are always at
 * /compat/<name>/users, and `rootUsers` picks which also answers at /users.
 */
export async function registerDialects(app: FastifyInstance, options: DialectOptions & { rootUsers: RootUsers }): Promise<void> {
  const { rootUsers, ...shared } = options;
  await app.register(simpleDialect, { ...shared, paths: ['/compat/simple/users', ...(rootUsers === 'simple' ? ['/users'] : [])] });
  await app.register(batchDialect, { ...shared, paths: ['/compat/batch/users', ...(rootUsers === 'batch' ? ['/users'] : [])] });
  await app.register(appDialect, shared);
  await app.register(accountDialect, shared);
  await app.register(provisioningDialect, shared);
  // SCIM 2.0 at /scim/v2 (src/http/scim): the dialect of directory clients such as Okta and Entra ID.
  await app.register(scimApi, shared);
}
