import type { FastifyInstance } from 'fastify';
import type { OperationalStats } from '../../storage/operational-stats.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** From now on /readyz answers 503 `draining`, so that a load balancer stops sending; requests are still served. */
    startDraining(): void;
  }
}

/** How long /readyz waits for the database before calling it unreachable. */
const PING_TIMEOUT_MS = 2_000;

function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * GET /readyz: 200 when this instance should get traffic — the database answers, every
 * migration this build knows is applied, and the instance is not draining (SIGTERM) — else 503
 * naming what is not ready. /healthz stays liveness: the process runs.
 */
export function registerReadiness(app: FastifyInstance, stats: OperationalStats | undefined): void {
  let draining = false;
  app.decorate('startDraining', () => {
    draining = true;
  });
  app.addHook('preClose', async () => {
    draining = true;
  });
  app.get('/readyz', { schema: { tags: ['system'], summary: 'Readiness', hide: true } }, async (_request, reply) => {
    const checks: Record<string, string> = { draining: draining ? 'draining' : 'ok', database: 'ok', migrations: 'ok' };
    if (stats) {
      try {
        const pending = await within(
          stats.ping().then(() => stats.pendingMigrations()),
          PING_TIMEOUT_MS,
        );
        if (pending.length > 0) checks.migrations = `pending: ${pending.join(', ')}`;
      } catch {
        checks.database = 'unreachable';
        checks.migrations = 'unknown';
      }
    }
    const ready = Object.values(checks).every((v) => v === 'ok');
    return reply.code(ready ? 200 : 503).header('cache-control', 'no-store').send({ status: ready ? 'ready' : 'not-ready', checks });
  });
}
