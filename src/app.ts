import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { createAuthenticator } from './core/credentials/api-keys.js';
import type { CoreDeps } from './core/ports.js';
import { consoleRoutes } from './http/console/index.js';
import { registerDialects, type RootUsers } from './http/dialects/index.js';
import { nativeApi } from './http/native/index.js';
import { invitationApi } from './http/native/invitation-routes.js';
import { createValidatorCompiler } from './http/shared/body-validation.js';
import { registerOpenApi } from './http/shared/openapi.js';
import { ProblemSchema, sendProblem } from './http/shared/problem.js';
import { registerRateLimit } from './http/shared/rate-limit.js';
import { registerMetrics, type Metrics } from './http/shared/metrics.js';
import { registerReadiness } from './http/shared/readiness.js';
import { serializeRequest } from './http/shared/request-log.js';
import './http/shared/public-url.js';
import type { LimiterFactory } from './storage/rate-limit-store.js';
import type { OperationalStats } from './storage/operational-stats.js';
import type { UploadLimits } from './core/imports/start-import.js';
import { registerIdempotency } from './http/shared/idempotency.js';
import { registerJsonBodyParser } from './http/shared/json-body.js';
import { registerNulGuard } from './http/shared/nul-guard.js';
import { DomainError } from './core/errors.js';
import { renderErrorsWith, renderProblem } from './http/shared/error-handler.js';

export interface AppOptions {
  core: CoreDeps;
  adminToken?: string | undefined;
  rateLimitPerMinute: number;
  rootUsers: RootUsers;
  bodyLimit?: number;
  /** The largest import upload in bytes (its body is streamed, outside `bodyLimit`); default 2 GiB. */
  importMaxBytes?: number;
  /** Called when an upload has been stored and its job queued (the server wakes its import runner). */
  onImportQueued?: () => void;
  logger?: FastifyServerOptions['logger'];
  version?: string;
  /** Connection limits; each defaults to the value in DEFAULT_LIMITS. */
  limits?: Partial<ConnectionLimits>;
  /** Browser origins allowed by CORS (`*` for any); none by default, and then no CORS header is ever sent. */
  corsOrigins?: readonly string[];
  /** Password checks per minute for one login of one tenant (POST …/credentials/verify); default 10. */
  verifyRateLimitPerMinute?: number;
  /** Where the built console is; dist/console by default. */
  consoleDir?: string;
  /** Where the rate-limit counters live (PostgreSQL: shared by every instance); this process's memory by default. */
  limiters?: LimiterFactory;
  /**
   * Which proxies to believe about the client's address (`X-Forwarded-For`) and scheme: true
   * (any), or addresses/CIDRs, comma-separated. Unset: none, the socket's peer is the client.
   */
  trustProxy?: boolean | string;
  /** Where clients reach the service (MUSTER_PUBLIC_URL): absolute links are built from it, not from the Host header. */
  publicUrl?: string;
  /** Prometheus metrics served at /metrics; none (and no /metrics) when unset. */
  metrics?: Metrics;
  /** What /readyz checks of the database; without it /readyz reports only draining. */
  stats?: OperationalStats;
  /** What one tenant's import uploads may take at once; DEFAULT_UPLOAD_LIMITS when unset. */
  uploadLimits?: UploadLimits;
}

export interface ConnectionLimits {
  /** Most bytes of request line and headers; past it Node answers 431. */
  maxHeaderBytes: number;
  /** Time allowed to send the headers; then the connection is closed. */
  headersTimeoutMs: number;
  /** Time allowed to send the whole request; then the connection is closed. */
  requestTimeoutMs: number;
  /** Time a connection may stay silent before it is closed. */
  idleTimeoutMs: number;
}

export const DEFAULT_LIMITS: ConnectionLimits = {
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 120_000,
  idleTimeoutMs: 60_000,
};

/** Response headers a browser script may read when CORS lets it call. */
const CORS_EXPOSED_HEADERS = ['location', 'etag', 'retry-after', 'x-request-id', 'ac-revision', 'idempotent-replayed', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'];

/** Never logged: credentials, passwords and tokens wherever they appear. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  // The provisioning dialect's application key, a credential like the one in the app dialect's path.
  'req.headers.appkey',
  '*.password',
  '*.confirmPassword',
  '*.token',
  '*.passwordHash',
  // The account and provisioning dialects' names for a password.
  '*.passwordSh',
  '*.oldPassword',
  '*.Password',
];

/** Builds the whole HTTP application over the given core; never listens (server.ts does). */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  // Node refuses a headers timeout longer than the request timeout.
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  const logger = options.logger === true ? {} : options.logger;
  const app = Fastify({
    // The request line is logged without the `app` dialect's key (a credential in the path).
    logger: (logger ? { ...logger, serializers: { req: serializeRequest, ...logger.serializers } } : false) as FastifyServerOptions['logger'],
    ...(options.trustProxy !== undefined && { trustProxy: options.trustProxy }),
    bodyLimit: options.bodyLimit ?? 8 * 1024 * 1024,
    http: {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout,
      // Node checks the two timeouts above every this many ms (30 s by default, which would let a slow client stay that much longer).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
    connectionTimeout: limits.idleTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: 10_000,
    ajv: { customOptions: { strict: false } },
  });
  app.setValidatorCompiler(createValidatorCompiler());
  registerJsonBodyParser(app);
  // Once the server is closing (SIGTERM), a response that is still finishing closes its
  // connection: the process then exits when the last one is out, not when keep-alive times out.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (closing) reply.header('connection', 'close');
  });
  app.addSchema(ProblemSchema);

  await app.register(helmet, { contentSecurityPolicy: false, global: true });
  if (options.corsOrigins && options.corsOrigins.length > 0) {
    const origins = options.corsOrigins;
    await app.register(cors, {
      origin: origins.includes('*') ? '*' : [...origins],
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'if-match', 'idempotency-key', 'x-request-id', 'appkey'],
      exposedHeaders: CORS_EXPOSED_HEADERS,
      maxAge: 600,
    });
  }
  await registerOpenApi(app, options.version ?? '0.0.0');
  app.decorate('publicUrl', options.publicUrl?.replace(/\/+$/, ''));
  app.decorate('uploadLimits', options.uploadLimits);
  if (options.metrics) registerMetrics(app, options.metrics);
  registerReadiness(app, options.stats);
  const authenticator = createAuthenticator(options.core.keys, options.adminToken);
  registerRateLimit(app, { perMinute: options.rateLimitPerMinute, authenticator, limiters: options.limiters, onRefused: options.metrics?.rateLimited });
  // Before any scope is registered, so that its hooks reach the create routes of every dialect.
  registerNulGuard(app);
  registerIdempotency(app, options.core);

  renderErrorsWith(app, renderProblem);
  app.setNotFoundHandler((request, reply) => sendProblem(request, reply, new DomainError('NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}.`), 404));

  app.get('/healthz', { schema: { tags: ['system'], summary: 'Liveness' } }, async () => ({ status: 'ok' }));

  await app.register(nativeApi, { prefix: '/v1', core: options.core, authenticator, verifyRateLimitPerMinute: options.verifyRateLimitPerMinute, importMaxBytes: options.importMaxBytes, onImportQueued: options.onImportQueued });
  // The one /v1 route without an API key: the invitation token is its credential.
  await app.register(invitationApi, { prefix: '/v1', core: options.core });
  await registerDialects(app, { core: options.core, authenticator, rootUsers: options.rootUsers });
  // The browser console, same origin as the API it calls.
  await consoleRoutes(app, { dir: options.consoleDir });
  return app;
}
