import type { Clock } from '../core/ports.js';
import type { Db } from '../storage/database.js';
import { createOutboxQueue } from '../storage/email-store.js';
import { createOutboxSender, type SenderLog } from './outbox-sender.js';
import { createSmtpMailer, describeSmtpUrl } from '../smtp/smtp-mailer.js';

export interface EmailDelivery {
  /** Stops polling, lets the sends in flight finish, and closes the SMTP connections. */
  stop(): Promise<void>;
}

/**
 * Starts delivering the outbox over SMTP when `smtpUrl` is set. Without it nothing is sent:
 * messages stay in the outbox, readable at GET /v1/tenants/{tenant}/messages.
 */
export function startEmailDelivery(db: Db, smtpUrl: string | undefined, log: SenderLog, clock?: Clock): EmailDelivery {
  if (!smtpUrl) {
    log.info({}, 'SMTP_URL is not set: emails stay in the outbox (GET /v1/tenants/{tenant}/messages)');
    return { stop: async () => {} };
  }
  const mailer = createSmtpMailer(smtpUrl);
  const sender = createOutboxSender({ outbox: createOutboxQueue(db), mailer, log, ...(clock && { clock }) });
  sender.start();
  log.info({ smtp: describeSmtpUrl(smtpUrl) }, 'delivering emails from the outbox');
  return {
    async stop() {
      await sender.stop();
      mailer.close();
    },
  };
}
