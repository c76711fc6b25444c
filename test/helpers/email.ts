import type { DeliveryPolicy } from '../../src/core/email/deliver-messages.js';
import type { Clock, Mailer } from '../../src/core/ports.js';
import { createOutboxSender, type OutboxSender } from '../../src/workers/outbox-sender.js';
import { createSmtpMailer, type SmtpMailer } from '../../src/smtp/smtp-mailer.js';
import type { Db } from '../../src/storage/database.js';
import { createOutboxQueue } from '../../src/storage/email-store.js';

/** Policy for tests: a failed message is due again at once, so `drain()` runs it to its end. */
export const FAST_POLICY: Partial<DeliveryPolicy> = { backoffBaseMs: 0, backoffMaxMs: 0, leaseMs: 60_000, sendBudgetMs: 10_000 };

export interface TestSender {
  sender: OutboxSender;
  mailer: SmtpMailer;
  close(): Promise<void>;
}

/**
 * The server's outbox sender, run against a test app's database and an SMTP URL. `wrap`
 * lets a test put something between the sender and SMTP (e.g. a process that dies after sending);
 * `clock` (a manual clock in tests of backoff and leases) is the time the sender goes by.
 */
export function startTestSender(
  db: Db,
  smtpUrl: string,
  options: { policy?: Partial<DeliveryPolicy>; owner?: string; wrap?: (mailer: Mailer) => Mailer; clock?: Clock } = {},
): TestSender {
  const mailer = createSmtpMailer(smtpUrl);
  const sender = createOutboxSender({
    outbox: createOutboxQueue(db),
    mailer: options.wrap ? options.wrap(mailer) : mailer,
    policy: { ...FAST_POLICY, ...options.policy },
    pollIntervalMs: 20,
    ...(options.clock !== undefined && { clock: options.clock }),
    ...(options.owner !== undefined && { owner: options.owner }),
  });
  return {
    sender,
    mailer,
    async close() {
      await sender.stop();
      mailer.close();
    },
  };
}

/** Every outbox row of the database, oldest first, as stored. */
export async function outboxRows(db: Db) {
  return db.kysely.selectFrom('email_messages').selectAll().orderBy('seq').execute();
}
