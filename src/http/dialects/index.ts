import type { FastifyInstance } from 'fastify';
import type { Authenticator } from '../../core/credentials/api-keys.js';
import type { CoreDeps } from '../../core/ports.js';
import { simpleDialect } from './simple/index.js';

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
}
