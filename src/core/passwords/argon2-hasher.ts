import { availableParallelism } from 'node:os';
import { hash } from '@node-rs/argon2';
import type { Clock, PasswordHasher } from '../ports.js';
import { ARGON2ID_PARAMS } from './argon2-params.js';
import { createHashQueue, type HashQueue } from './hash-queue.js';
import { verifyPasswordHash } from './hash-verifier.js';

export { ARGON2ID_PARAMS };

/** Interactive hashes allowed to wait per hashing slot by default: about a minute of work at OWASP's parameters. */
export const DEFAULT_QUEUE_DEPTH_PER_SLOT = 1000;

export interface HasherOptions {
  /** Hashes computed at once; defaults to the number of cores. */
  concurrency?: number;
  /** The most interactive hashes that may wait; defaults to 1000 per slot. */
  queueDepth?: number;
  /** The time the admission queue measures hashes by (see HashQueueOptions.clock). */
  clock?: Clock;
}

export interface QueuedPasswordHasher extends PasswordHasher {
  /** The admission queue, for tests and metrics. */
  readonly queue: HashQueue;
}

/**
 * argon2id hashing off the event loop (on libuv's thread pool) behind a bounded, two-priority
 * admission queue (see hash-queue.ts), so that a flood of creates is refused at once rather
 * than left to time out, and import jobs only use what interactive requests leave. `verify`
 * reads every supported format (argon2id/argon2i, bcrypt, scrypt, PBKDF2) through the same queue.
 */
export function createArgon2Hasher(options: HasherOptions = {}): QueuedPasswordHasher {
  const concurrency = options.concurrency ?? availableParallelism();
  const queue = createHashQueue({ concurrency, depth: options.queueDepth ?? DEFAULT_QUEUE_DEPTH_PER_SLOT * concurrency, ...(options.clock && { clock: options.clock }) });
  const hashOne = (password: string) => () => hash(password, ARGON2ID_PARAMS);
  return {
    queue,
    // async, so that a refusal is a rejected promise like any other failure.
    hash: async (password, priority = 'interactive') => queue.submit([hashOne(password)], priority)[0]!,
    async hashAll(passwords, priority = 'interactive') {
      const given = passwords.flatMap((password, index) => (password === undefined ? [] : [{ password, index }]));
      const hashed = await Promise.all(queue.submit(given.map(({ password }) => hashOne(password)), priority));
      const out: (string | undefined)[] = passwords.map(() => undefined);
      given.forEach(({ index }, i) => (out[index] = hashed[i]));
      return out;
    },
    verify: async (encoded, password, priority = 'interactive') => queue.submit([() => verifyPasswordHash(encoded, password)], priority)[0]!,
  };
}
