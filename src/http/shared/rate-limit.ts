import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from '../../core/errors.js';

/** Rate limits are per credential (a digest of the Authorization header), else per client address. */
function keyOf(request: FastifyRequest): string {
  const header = request.headers.authorization;
  return header ? `cred:${createHash('sha256').update(header).digest('base64url')}` : `ip:${request.ip}`;
}

export async function registerRateLimit(app: FastifyInstance, perMinute: number): Promise<void> {
  await app.register(rateLimit, {
    global: true,
    max: perMinute,
    timeWindow: 60_000,
    keyGenerator: keyOf,
    allowList: (request) => request.url === '/healthz',
    errorResponseBuilder: (_request, context) =>
      new DomainError('RATE_LIMIT_EXCEEDED', `Too many requests: at most ${context.max} a minute per credential.`, [], Math.max(1, Math.ceil(context.ttl / 1000))),
  });
}
