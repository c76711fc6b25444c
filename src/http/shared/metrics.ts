/**
 * Prometheus metrics (prom-client) in one registry per application, served at GET /metrics.
 * What each series means is documented in the README ("Metrics").
 */
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { isDomainError } from '../../core/errors.js';
import type { HashPriority, HashQueueStats } from '../../core/passwords/hash-queue.js';
import type { CoreDeps } from '../../core/ports.js';
import type { UsersWriter } from '../../core/users/write-users.js';
import type { OperationalStats } from '../../storage/operational-stats.js';

export interface MetricSources {
  /** The database's figures (outbox, import backlog, pool). */
  stats?: OperationalStats | undefined;
  /** The password hashing queue's current figures. */
  hashQueue?: (() => HashQueueStats) | undefined;
  /** Import chunks being worked on by this process now. */
  importsActive?: (() => number) | undefined;
  now?: () => Date;
}

export interface Metrics {
  registry: Registry;
  /** Counts users created, by where they came from. */
  usersCreated(source: 'api' | 'import', count: number): void;
  /** Counts an interactive hashing request refused at admission (503 SERVICE_BUSY). */
  hashRefused(): void;
  /** Counts a request refused by a rate limit. */
  rateLimited(limit: 'api' | 'verify'): void;
  /** Counts processed import rows by outcome. */
  importRows(counts: { created: number; failed: number; skipped: number }): void;
  /** Counts an import chunk's end other than a commit (lost lease, given back, failed). */
  importChunk(outcome: 'committed' | 'lost' | 'stopped' | 'error' | 'job-failed'): void;
  /** Sources read at each scrape; set once the server has them all. */
  sources: MetricSources;
}

/** Latency buckets in seconds: from a cached read to a thousand-user batch with hashing. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createMetrics(sources: MetricSources = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics: Metrics = {
    registry,
    sources,
    usersCreated: (source, count) => usersCreated.inc({ source }, count),
    hashRefused: () => hashRefusals.inc(),
    rateLimited: (limit) => rateLimited.inc({ limit }),
    importRows: (counts) => {
      for (const outcome of ['created', 'failed', 'skipped'] as const) if (counts[outcome] > 0) importRows.inc({ outcome }, counts[outcome]);
    },
    importChunk: (outcome) => importChunks.inc({ outcome }),
  };
  const now = () => (metrics.sources.now ?? (() => new Date()))();

  const usersCreated = new Counter({ name: 'muster_users_created_total', help: 'Users created, by source (api: every API and dialect; import: import jobs).', labelNames: ['source'], registers: [registry] });
  const hashRefusals = new Counter({ name: 'muster_hash_admission_refusals_total', help: 'Requests refused at once (503 SERVICE_BUSY) because the password hashing queue was full.', registers: [registry] });
  const rateLimited = new Counter({ name: 'muster_rate_limited_total', help: 'Requests refused with 429, by limit (api: per credential or address; verify: per login).', labelNames: ['limit'], registers: [registry] });
  const importRows = new Counter({ name: 'muster_import_rows_total', help: 'Import rows processed by this instance, by outcome.', labelNames: ['outcome'], registers: [registry] });
  const importChunks = new Counter({ name: 'muster_import_chunks_total', help: 'Import chunks this instance worked on, by how each ended.', labelNames: ['outcome'], registers: [registry] });
  new Gauge({
    name: 'muster_hash_queue_depth',
    help: 'Password hashes waiting for a hashing slot, by priority (interactive: requests; background: imports).',
    labelNames: ['priority'],
    registers: [registry],
    collect() {
      const stats = metrics.sources.hashQueue?.();
      if (!stats) return;
      this.set({ priority: 'interactive' }, stats.waitingInteractive);
      this.set({ priority: 'background' }, stats.waitingBackground);
    },
  });
  new Gauge({
    name: 'muster_hash_running',
    help: 'Password hashes being computed now.',
    registers: [registry],
    collect() {
      const stats = metrics.sources.hashQueue?.();
      if (stats) this.set(stats.running);
    },
  });
  new Gauge({
    name: 'muster_import_chunks_active',
    help: 'Import chunks this instance is working on now.',
    registers: [registry],
    collect() {
      const active = metrics.sources.importsActive?.();
      if (active !== undefined) this.set(active);
    },
  });
  new Gauge({
    name: 'muster_import_backlog_rows',
    help: 'Rows of queued and running import jobs not processed yet (all instances).',
    registers: [registry],
    async collect() {
      const stats = metrics.sources.stats;
      if (stats) this.set((await stats.importBacklog(now())).rows);
    },
  });
  new Gauge({
    name: 'muster_import_lag_seconds',
    help: 'Age of the oldest queued or running import job (0 when none): how far behind the imports are.',
    registers: [registry],
    async collect() {
      const stats = metrics.sources.stats;
      if (stats) this.set((await stats.importBacklog(now())).oldestSeconds);
    },
  });
  new Gauge({
    name: 'muster_outbox_messages',
    help: 'Outbox messages by state (waiting: pending or being sent; failed: given up after the last attempt).',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const stats = metrics.sources.stats;
      if (!stats) return;
      const outbox = await stats.outbox();
      this.set({ state: 'waiting' }, outbox.waiting);
      this.set({ state: 'failed' }, outbox.failed);
    },
  });
  new Gauge({
    name: 'muster_db_pool_connections',
    help: "PostgreSQL connections of this instance's pool (total open, idle) and queries waiting for one.",
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const pool = metrics.sources.stats?.pool();
      if (!pool) return;
      this.set({ state: 'total' }, pool.total);
      this.set({ state: 'idle' }, pool.idle);
      this.set({ state: 'waiting' }, pool.waiting);
    },
  });
  return metrics;
}

/**
 * Counts every request by method, route pattern (never the raw path: ids and application keys
 * stay out of the labels) and status, with a latency histogram per route; serves GET /metrics.
 */
export function registerMetrics(app: FastifyInstance, metrics: Metrics): void {
  const requests = new Counter({ name: 'muster_http_requests_total', help: 'HTTP requests answered, by method, route pattern and status code.', labelNames: ['method', 'route', 'status'], registers: [metrics.registry] });
  const latency = new Histogram({
    name: 'muster_http_request_duration_seconds',
    help: 'Time from request to response, by method and route pattern.',
    labelNames: ['method', 'route'],
    buckets: LATENCY_BUCKETS,
    registers: [metrics.registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (route === '/metrics') return;
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { schema: { tags: ['system'], summary: 'Prometheus metrics', hide: true } }, async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
}

/** A proxy of `target` whose method `name` is replaced by `replacement`; every other member is the target's own. */
function withMethod<T extends object>(target: T, name: keyof T, replacement: unknown): T {
  return new Proxy(target, {
    get(t, property) {
      if (property === name) return replacement;
      const value = Reflect.get(t, property, t) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(t) : value;
    },
  });
}

/**
 * The core with counting around two ports: users kept by committed API writes
 * (imports count their own, from the runner's reports), and hashing requests refused at
 * admission. Nothing else changes.
 */
export function instrumentCore(core: CoreDeps, metrics: Metrics): CoreDeps {
  const userWrites: UsersWriter = {
    async write(tenantId, parts) {
      const result = await core.userWrites.write(tenantId, parts);
      if (result.decision === 'commit') {
        let inserted = 0;
        for (const part of result.parts) inserted += part.inserted.size;
        if (inserted > 0) metrics.usersCreated('api', inserted);
      }
      return result;
    },
  };
  const refused = (error: unknown) => {
    if (isDomainError(error) && error.code === 'SERVICE_BUSY') metrics.hashRefused();
    throw error;
  };
  const hasher = withMethod(
    withMethod(core.hasher, 'hash', (password: string, priority?: HashPriority) => core.hasher.hash(password, priority).catch(refused)),
    'hashAll',
    (passwords: readonly (string | undefined)[], priority?: HashPriority) => core.hasher.hashAll(passwords, priority).catch(refused),
  );
  return { ...core, userWrites, hasher };
}
