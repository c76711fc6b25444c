/**
 * Delivery of the outbox: claim due messages, send each over the mail transport, record the
 * outcome. At-least-once by construction — a message is marked sent only after the server
 * accepted it — and recognisable on a repeat: every attempt of one message carries the same
 * Message-ID and Date, so a sender that died between the server's "250 OK" and marking the
 * message sent causes, after its lease runs out, a second copy that the receiving side
 * recognises by its Message-ID and drops (SMTP itself offers no way to ask whether a message
 * was already received, so exactly-once ends at the recipient's deduplication).
 */
import type { Clock, Mailer, OutboxQueue } from '../ports.js';
import type { ClaimedMessage } from './email.js';
import { withoutSecret } from './compose-user-emails.js';
import { redactCredentials } from './redact-credentials.js';

export interface DeliveryPolicy {
  /** Messages claimed per round. */
  batchSize: number;
  /** How long a claim lasts; a sender that has not finished by then is presumed dead. */
  leaseMs: number;
  /**
   * The longest one send may take (the SMTP transport's timeouts keep it shorter). A message
   * is handed to SMTP only while at least this much of its lease is left, so that no other
   * sender can claim it while it is being sent; otherwise it is given back for a later round.
   */
  sendBudgetMs: number;
  /** Attempts before a message is given up (status `failed`). */
  maxAttempts: number;
  /** The wait after the first failed attempt; it doubles after each further one. */
  backoffBaseMs: number;
  /** The longest wait between two attempts. */
  backoffMaxMs: number;
  /** Messages sent at the same time within one round. */
  concurrency: number;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = {
  batchSize: 50,
  leaseMs: 5 * 60_000,
  sendBudgetMs: 2 * 60_000,
  maxAttempts: 10,
  backoffBaseMs: 30_000,
  backoffMaxMs: 60 * 60_000,
  concurrency: 4,
};

/** The longest error text kept per message. */
const MAX_ERROR_LENGTH = 500;

/**
 * The wait before the next attempt after `attempts` failed ones: base × 2^(attempts−1),
 * capped, less up to a fifth at random so that many failures do not all retry at once.
 */
export function retryDelayMs(attempts: number, policy: Pick<DeliveryPolicy, 'backoffBaseMs' | 'backoffMaxMs'>, random: () => number = Math.random): number {
  const exponential = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(exponential * (1 - random() / 5));
}

export interface DeliveryReport {
  claimed: number;
  sent: number;
  /** Failed attempts that will be tried again. */
  retrying: number;
  /** Messages given up in this round. */
  failed: number;
  /** Claimed but given back unsent: too little of the lease was left to send them safely. */
  released: number;
  /** Sent, but the outcome could not be recorded (the lease had passed to another sender or the database failed). */
  unrecorded: number;
}

export interface DeliveryDeps {
  outbox: OutboxQueue;
  mailer: Mailer;
  clock: Clock;
  /** Told about each outcome; gets ids and errors, never addresses' contents or bodies. */
  onEvent?: (event: { type: 'sent' | 'retrying' | 'failed' | 'unrecorded'; id: string; attempts: number; error?: string }) => void;
}

/** The failure as it is stored in `lastError` and logged: credentials the server quoted redacted, then cut to length. */
function describe(error: unknown): string {
  const text = redactCredentials(error instanceof Error ? error.message : String(error));
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}

async function deliverOne(deps: DeliveryDeps, policy: DeliveryPolicy, message: ClaimedMessage, report: DeliveryReport): Promise<void> {
  if (deps.clock.now().getTime() + policy.sendBudgetMs > Date.parse(message.leaseUntil)) {
    await deps.outbox.release(message.id, message.claim);
    report.released++;
    return;
  }
  try {
    await deps.mailer.send({
      from: message.from,
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
      messageId: message.messageId,
      date: new Date(message.createdAt),
    });
  } catch (error) {
    const reason = describe(error);
    const giveUp = message.attempts >= policy.maxAttempts;
    const retryAt = giveUp ? null : new Date(deps.clock.now().getTime() + retryDelayMs(message.attempts, policy));
    await deps.outbox.markFailed(message.id, message.claim, reason, retryAt);
    if (giveUp) report.failed++;
    else report.retrying++;
    deps.onEvent?.({ type: giveUp ? 'failed' : 'retrying', id: message.id, attempts: message.attempts, error: reason });
    return;
  }
  // Sent. Failing to record it must not count as a failed send: the lease runs out and the
  // next attempt repeats the same Message-ID.
  let recorded = false;
  try {
    recorded = await deps.outbox.markSent(message.id, message.claim, deps.clock.now(), withoutSecret(message));
  } catch {
    recorded = false;
  }
  if (recorded) report.sent++;
  else report.unrecorded++;
  deps.onEvent?.({ type: recorded ? 'sent' : 'unrecorded', id: message.id, attempts: message.attempts });
}

/** One round: claims up to a batch of due messages and tries each once. */
export async function deliverDueMessages(deps: DeliveryDeps, owner: string, policy: DeliveryPolicy = DEFAULT_DELIVERY_POLICY): Promise<DeliveryReport> {
  const now = deps.clock.now();
  const claimed = await deps.outbox.claim(owner, now, new Date(now.getTime() + policy.leaseMs), policy.batchSize);
  const report: DeliveryReport = { claimed: claimed.length, sent: 0, retrying: 0, failed: 0, unrecorded: 0, released: 0 };
  let next = 0;
  const worker = async () => {
    while (next < claimed.length) {
      const message = claimed[next++]!;
      await deliverOne(deps, policy, message, report);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(policy.concurrency, claimed.length)) }, worker));
  return report;
}
