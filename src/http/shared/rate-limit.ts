import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Authenticator } from '../../core/credentials/api-keys.js';
import { DomainError } from '../../core/errors.js';
import { memoryLimiters, type LimiterFactory } from '../../storage/rate-limit-store.js';
import { authenticateOnce } from './authenticate.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Makes the limiters of this application (shared by every instance on PostgreSQL). */
    limiters: LimiterFactory;
    /** To be told of each request a limit refuses (metrics). */
    limitRefused: RefusalListener;
  }
}

/** Paths a load balancer or a scraper calls: never limited. */
const UNLIMITED = new Set(['/healthz', '/readyz', '/metrics']);

export interface LimitVerdict {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window ends (at least 1). */
  resetSeconds: number;
}

/** Takes one point of `key` from `limiter`. */
export async function takePoint(limiter: RateLimiterAbstract, key: string): Promise<LimitVerdict> {
  const verdict = (res: RateLimiterRes, allowed: boolean): LimitVerdict => ({
    allowed,
    limit: limiter.points,
    remaining: res.remainingPoints,
    resetSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
  });
  try {
    return verdict(await limiter.consume(key), true);
  } catch (refusal) {
    if (refusal instanceof RateLimiterRes) return verdict(refusal, false);
    throw refusal;
  }
}

/**
 * Whom a request is counted against: the API key it authenticated with (however the
 * `Authorization` header spells the scheme or pads the value, one key is one bucket); a
 * request with no credential or one that does not authenticate, by its client address (which,
 * behind a trusted proxy, comes from `X-Forwarded-For`: see the `trustProxy` setting).
 * Invented credentials therefore share their sender's bucket instead of each getting a new one.
 */
async function subjectOf(request: FastifyRequest, authenticator: Authenticator): Promise<string> {
  if (request.headers.authorization !== undefined) {
    try {
      return `key:${(await authenticateOnce(request, authenticator)).keyId}`;
    } catch {
      // Not a valid credential: counted by address like any other anonymous request.
    }
  }
  return `ip:${request.ip}`;
}

/** Called for each request refused by a limit (for metrics). */
export type RefusalListener = (limit: 'api' | 'verify') => void;

export function setLimitHeaders(reply: FastifyReply, verdict: LimitVerdict): void {
  reply.header('ratelimit-limit', verdict.limit);
  reply.header('ratelimit-remaining', verdict.remaining);
  reply.header('ratelimit-reset', verdict.resetSeconds);
}

/** The per-credential limit on every request (MUSTER_RATE_LIMIT): past it, 429 RATE_LIMIT_EXCEEDED with Retry-After. */
export function registerRateLimit(
  app: FastifyInstance,
  options: { perMinute: number; authenticator: Authenticator; limiters?: LimiterFactory | undefined; onRefused?: RefusalListener | undefined },
): void {
  const limiters = options.limiters ?? memoryLimiters;
  app.decorate('limiters', limiters);
  app.decorate('limitRefused', options.onRefused ?? (() => {}));
  const limiter = limiters('api', options.perMinute);
  app.addHook('onRequest', async (request, reply) => {
    if (UNLIMITED.has(request.url.split('?')[0]!)) return;
    const verdict = await takePoint(limiter, await subjectOf(request, options.authenticator));
    setLimitHeaders(reply, verdict);
    if (!verdict.allowed) {
      app.limitRefused('api');
      throw new DomainError('RATE_LIMIT_EXCEEDED', `Too many requests: at most ${verdict.limit} a minute per credential.`, [], verdict.resetSeconds);
    }
  });
}
