import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { buildApp, REDACTED_PATHS } from './app.js';
import { loadConfig } from './config/config.js';
import { ensureFirstStartKey, firstStartMessage, NO_ADMIN_TOKEN_HINT } from './core/credentials/first-start-key.js';
import { createArgon2Hasher } from './core/passwords/argon2-hasher.js';
import { createDependencies, prepareDatabase } from './dependencies.js';
import { startEmailDelivery, type EmailDelivery } from './workers/email-delivery.js';
import { createImportRunner, type ImportRunner } from './workers/import-runner.js';
import { openDatabase } from './storage/database.js';
import { createMetrics, instrumentCore } from './http/shared/metrics.js';
import { createOperationalStats } from './storage/operational-stats.js';
import { createLimiterFactory } from './storage/rate-limit-store.js';
import { openSealKeyring, rewrapSealKeys } from './storage/seal-keys.js';

const config = loadConfig();
// V8 reads this factor each time it sets its next collection's threshold, so it takes effect
// for the rest of the process.
if (config.MUSTER_HEAP_GROWTH_PERCENT > 0) v8.setFlagsFromString(`--heap-growing-percent=${config.MUSTER_HEAP_GROWTH_PERCENT}`);
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const db = openDatabase(config.DATABASE_URL);
// Import job keys are stored wrapped by this key, which stays out of the database.
const sealKeys = openSealKeyring(db, { keys: config.MUSTER_IMPORT_KEY, file: config.MUSTER_IMPORT_KEY_FILE });
const hasher = createArgon2Hasher({ concurrency: config.MUSTER_HASH_CONCURRENCY, queueDepth: config.MUSTER_HASH_QUEUE_DEPTH });
const core = createDependencies(db, {
  sealKeys,
  hasher,
  email: {
    from: config.MUSTER_MAIL_FROM,
    invitationTtlHours: config.MUSTER_INVITATION_TTL_HOURS,
    publicUrl: config.MUSTER_PUBLIC_URL ?? `http://localhost:${config.PORT}`,
  },
});
await prepareDatabase(db, core);
// Job keys from before wrapping, or wrapped by a key being rotated out, are wrapped with the current key.
await rewrapSealKeys(db, sealKeys);
// No default password: without MUSTER_ADMIN_TOKEN, the first start issues a global-admin key and prints its token once.
const firstStartKey = await ensureFirstStartKey(core, { adminTokenConfigured: config.MUSTER_ADMIN_TOKEN !== undefined });

const stats = createOperationalStats(db);
const metrics = createMetrics({ stats, hashQueue: () => hasher.queue.stats(), importsActive: () => imports?.active() ?? 0 });
const trustProxy = config.MUSTER_TRUST_PROXY === undefined ? undefined : config.MUSTER_TRUST_PROXY === 'true' ? true : config.MUSTER_TRUST_PROXY === 'false' ? false : config.MUSTER_TRUST_PROXY;
const app = await buildApp({
  core: instrumentCore(core, metrics),
  limiters: createLimiterFactory(db),
  metrics,
  stats,
  uploadLimits: { uploadsPerTenant: config.MUSTER_IMPORT_UPLOADS_PER_TENANT, stagedBytesPerTenant: config.MUSTER_IMPORT_STAGED_BYTES_PER_TENANT },
  ...(trustProxy !== undefined && { trustProxy }),
  ...(config.MUSTER_PUBLIC_URL !== undefined && { publicUrl: config.MUSTER_PUBLIC_URL }),
  adminToken: config.MUSTER_ADMIN_TOKEN,
  rateLimitPerMinute: config.MUSTER_RATE_LIMIT,
  rootUsers: config.MUSTER_ROOT_USERS,
  bodyLimit: config.MUSTER_BODY_LIMIT,
  importMaxBytes: config.MUSTER_IMPORT_MAX_BYTES,
  onImportQueued: () => imports?.wake(),
  verifyRateLimitPerMinute: config.MUSTER_VERIFY_RATE_LIMIT,
  limits: {
    maxHeaderBytes: config.MUSTER_MAX_HEADER_BYTES,
    headersTimeoutMs: config.MUSTER_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: config.MUSTER_REQUEST_TIMEOUT_MS,
    idleTimeoutMs: config.MUSTER_IDLE_TIMEOUT_MS,
  },
  corsOrigins: config.MUSTER_CORS_ORIGINS?.split(',').map((origin) => origin.trim()),
  version,
  logger: { level: config.LOG_LEVEL, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
});

let email: EmailDelivery | undefined;
let imports: ImportRunner | undefined;
let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  // Bounded: whatever is still running when the grace ends is cut off (a chunk not committed is
  // taken over by another instance once its lease ends; nothing half-written stays).
  setTimeout(() => {
    app.log.warn({ signal, graceSeconds: config.MUSTER_SHUTDOWN_GRACE_SECONDS }, 'shutdown grace ended; exiting with work still in flight');
    process.exit(1);
  }, config.MUSTER_SHUTDOWN_GRACE_SECONDS * 1000).unref();
  app.startDraining();
  app.log.info({ signal }, 'draining: /readyz answers 503; in-flight requests end, then stopping');
  // The import chunk in flight stops at its next step and gives its lease back, so that another
  // instance takes it at once; the rest of its job waits in the database.
  const importsStopped = imports?.stop();
  if (config.MUSTER_DRAIN_SECONDS > 0) await new Promise((resolve) => setTimeout(resolve, config.MUSTER_DRAIN_SECONDS * 1000));
  await Promise.all([app.close(), importsStopped]);
  // The sends in flight finish; what is still pending waits in the outbox for the next start.
  await email?.stop();
  await db.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

await app.listen({ port: config.PORT, host: config.HOST });
{
  const { port } = app.server.address() as { port: number };
  const baseUrl = config.MUSTER_PUBLIC_URL ?? `http://localhost:${port}`;
  app.log.info({ url: baseUrl, docs: `${baseUrl}/docs` }, `Muster is ready at ${baseUrl}; API docs at ${baseUrl}/docs`);
  if (firstStartKey) {
    app.log.warn({ keyId: firstStartKey.id }, 'first start: issued a global-admin API key; its token is printed on stderr this once');
    process.stderr.write(`${firstStartMessage(firstStartKey, baseUrl)}\n`);
  } else if (config.MUSTER_ADMIN_TOKEN === undefined) {
    app.log.info(NO_ADMIN_TOKEN_HINT);
  }
}
email = startEmailDelivery(db, config.SMTP_URL, app.log, core.clock);
imports = createImportRunner({
  deps: core,
  log: app.log,
  leaseMs: config.MUSTER_IMPORT_LEASE_SECONDS * 1000,
  concurrency: config.MUSTER_IMPORT_CONCURRENCY ?? (db.dialect === 'postgres' ? 2 : 1),
  onReport: (report) => {
    if (report.status === 'idle') return;
    if (report.status === 'done') {
      metrics.importRows(report.counts);
      if (report.counts.created > 0) metrics.usersCreated('import', report.counts.created);
    }
    metrics.importChunk(report.status === 'done' ? 'committed' : report.status);
  },
});
imports.start();
