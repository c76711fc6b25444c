import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import pLimit from 'p-limit';
import type { PasswordHasher } from '../ports.js';

/** OWASP's recommended argon2id parameters: 19 MiB of memory, 2 iterations, 1 lane. */
export const ARGON2ID_PARAMS = {
  algorithm: 2, // Algorithm.Argon2id (a const enum, which isolated modules cannot read)
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * argon2id hashing off the event loop (on libuv's thread pool), with at most `concurrency`
 * hashes in flight so that a batch of a thousand never oversubscribes the cores.
 */
export function createArgon2Hasher(concurrency = availableParallelism()): PasswordHasher {
  const limit = pLimit(concurrency);
  return {
    hash: (password) => limit(() => hash(password, ARGON2ID_PARAMS)),
    verify: (encoded, password) => limit(() => verify(encoded, password)),
  };
}
