import { readFileSync } from 'node:fs';
import { buildApp, REDACTED_PATHS } from './app.js';
import { loadConfig } from './config/config.js';
import { createDependencies, prepareDatabase } from './dependencies.js';
import { startEmailDelivery, type EmailDelivery } from './email/email-delivery.js';
import { openDatabase } from './storage/database.js';

const config = loadConfig();
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const db = openDatabase(config.DATABASE_URL);
const core = createDependencies(db, {
  email: {
    from: config.MUSTER_MAIL_FROM,
    invitationTtlHours: config.MUSTER_INVITATION_TTL_HOURS,
    publicUrl: config.MUSTER_PUBLIC_URL ?? `http://localhost:${config.PORT}`,
  },
});
await prepareDatabase(db, core);

const app = await buildApp({
  core,
  adminToken: config.MUSTER_ADMIN_TOKEN,
  rateLimitPerMinute: config.MUSTER_RATE_LIMIT,
  rootUsers: config.MUSTER_ROOT_USERS,
  bodyLimit: config.MUSTER_BODY_LIMIT,
  version,
  logger: { level: config.LOG_LEVEL, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
});

let email: EmailDelivery | undefined;
let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  app.log.info({ signal }, 'draining in-flight requests, then stopping');
  await app.close();
  // The sends in flight finish; what is still pending waits in the outbox for the next start.
  await email?.stop();
  await db.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

await app.listen({ port: config.PORT, host: config.HOST });
email = startEmailDelivery(db, config.SMTP_URL, app.log);
