import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { buildApp, REDACTED_PATHS } from './app.js';
import { loadConfig } from './config/config.js';
import { createArgon2Hasher } from './core/passwords/argon2-hasher.js';
import { createDependencies, prepareDatabase } from './dependencies.js';
import { startEmailDelivery, type EmailDelivery } from './email/email-delivery.js';
import { createImportRunner, type ImportRunner } from './imports/import-runner.js';
import { openDatabase } from './storage/database.js';
import { openSealKeyring, rewrapSealKeys } from './storage/seal-keys.js';

const config = loadConfig();
// V8 reads this factor each time it sets its next collection's threshold, so it takes effect
// for the rest of the process.
if (config.MUSTER_HEAP_GROWTH_PERCENT > 0) v8.setFlagsFromString(`--heap-growing-percent=${config.MUSTER_HEAP_GROWTH_PERCENT}`);
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const db = openDatabase(config.DATABASE_URL);
// Import job keys are stored wrapped by this key, which stays out of the database.
const sealKeys = openSealKeyring(db, { keys: config.MUSTER_IMPORT_KEY, file: config.MUSTER_IMPORT_KEY_FILE });
const core = createDependencies(db, {
  sealKeys,
  hasher: createArgon2Hasher({ concurrency: config.MUSTER_HASH_CONCURRENCY, queueDepth: config.MUSTER_HASH_QUEUE_DEPTH }),
  email: {
    from: config.MUSTER_MAIL_FROM,
    invitationTtlHours: config.MUSTER_INVITATION_TTL_HOURS,
    publicUrl: config.MUSTER_PUBLIC_URL ?? `http://localhost:${config.PORT}`,
  },
});
await prepareDatabase(db, core);
// Job keys from before wrapping, or wrapped by a key being rotated out, are wrapped with the current key.
await rewrapSealKeys(db, sealKeys);

const app = await buildApp({
  core,
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
  app.log.info({ signal }, 'draining in-flight requests, then stopping');
  // The import chunk in flight commits (or rolls back) first; the rest of its job waits in the database.
  await Promise.all([app.close(), imports?.stop()]);
  // The sends in flight finish; what is still pending waits in the outbox for the next start.
  await email?.stop();
  await db.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

await app.listen({ port: config.PORT, host: config.HOST });
email = startEmailDelivery(db, config.SMTP_URL, app.log, core.clock);
imports = createImportRunner({
  deps: core,
  log: app.log,
  leaseMs: config.MUSTER_IMPORT_LEASE_SECONDS * 1000,
  concurrency: config.MUSTER_IMPORT_CONCURRENCY ?? (db.dialect === 'postgres' ? 2 : 1),
});
imports.start();
