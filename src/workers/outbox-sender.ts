import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DEFAULT_DELIVERY_POLICY, deliverDueMessages, type DeliveryPolicy, type DeliveryReport } from '../core/email/deliver-messages.js';
import { createPoller, type Sleep } from './poller.js';
import type { Clock, Mailer, OutboxQueue } from '../core/ports.js';

/** The part of a pino/Fastify logger the sender uses. */
export interface SenderLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface OutboxSenderOptions {
  outbox: OutboxQueue;
  mailer: Mailer;
  clock?: Clock;
  log?: SenderLog;
  policy?: Partial<DeliveryPolicy>;
  /** The wait between two rounds when nothing was due. */
  pollIntervalMs?: number;
  /** Names this sender in lease records; unique per process by default. */
  owner?: string;
  /** The waits between rounds (the event loop's timers by default). */
  sleep?: Sleep;
}

export interface OutboxSender {
  /** Starts polling the outbox in the background. */
  start(): void;
  /** Stops polling and waits for the round in flight, so that no send is cut off half-way. */
  stop(): Promise<void>;
  /** One round now: claims the due messages and tries each once. */
  runOnce(): Promise<DeliveryReport>;
  /** Rounds until a round claims nothing: everything due now has been tried. */
  drain(): Promise<DeliveryReport>;
}

const SILENT: SenderLog = { info() {}, warn() {}, error() {} };

/**
 * Delivers the outbox from inside the server process. Several processes may run one each
 * over the same database: claims never overlap while a lease runs (see OutboxQueue.claim).
 * A restart loses nothing: pending messages wait in the database, and messages a dead
 * process had claimed are claimed again when its lease runs out.
 */
export function createOutboxSender(options: OutboxSenderOptions): OutboxSender {
  const policy: DeliveryPolicy = { ...DEFAULT_DELIVERY_POLICY, ...options.policy };
  const clock = options.clock ?? { now: () => new Date() };
  const log = options.log ?? SILENT;
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const pollIntervalMs = options.pollIntervalMs ?? 2_000;

  const deps = {
    outbox: options.outbox,
    mailer: options.mailer,
    clock,
    onEvent: (event: { type: string; id: string; attempts: number; error?: string }) => {
      if (event.type === 'sent') log.info({ emailId: event.id, attempts: event.attempts }, 'email sent');
      else if (event.type === 'retrying') log.warn({ emailId: event.id, attempts: event.attempts, error: event.error }, 'email attempt failed; will retry');
      else if (event.type === 'failed') log.error({ emailId: event.id, attempts: event.attempts, error: event.error }, 'email given up after its last attempt');
      else log.warn({ emailId: event.id, attempts: event.attempts }, 'email sent but not recorded; a later attempt repeats its Message-ID');
    },
  };

  const runOnce = () => deliverDueMessages(deps, owner, policy);

  const poller = createPoller({
    round: runOnce,
    busy: (report) => report.claimed >= policy.batchSize,
    intervalMs: pollIntervalMs,
    onError: (error, retryInMs) => log.error({ err: error, retryInMs }, 'email delivery round failed; retrying after a pause'),
    ...(options.sleep && { sleep: options.sleep }),
  });

  return {
    start: poller.start,
    stop: poller.stop,
    runOnce,
    async drain() {
      const total: DeliveryReport = { claimed: 0, sent: 0, retrying: 0, failed: 0, unrecorded: 0, released: 0 };
      for (;;) {
        const report = await runOnce();
        for (const key of Object.keys(total) as (keyof DeliveryReport)[]) total[key] += report[key];
        if (report.claimed === 0) return total;
      }
    },
  };
}
