/**
 * Checks a password against a stored hash of any supported format. Every slow computation
 * runs on libuv's thread pool, never on the event loop: argon2 through its napi-rs binding
 * (@node-rs/argon2), bcrypt through the `bcrypt` addon (its prebuilt binary; `compare` is a
 * thread-pool task), scrypt and PBKDF2 through node:crypto's asynchronous functions. Derived
 * keys are compared in constant time.
 */
import { pbkdf2, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { verify as argon2Verify } from '@node-rs/argon2';
import bcrypt from 'bcrypt';
import { HASH_LIMITS, parsePasswordHash } from './hash-formats.js';

const pbkdf2Async = promisify(pbkdf2);
const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

/** Enough for the largest scrypt the bounds admit (128·N·r) plus OpenSSL's own working space. */
const SCRYPT_MAXMEM = HASH_LIMITS.scrypt.maxMemoryBytes + 32 * 1024 * 1024;

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Whether `password` matches `encoded`. False, never an error, for a mismatch and for a hash
 * that is not one of the supported formats (or breaks their bounds).
 */
export async function verifyPasswordHash(encoded: string, password: string): Promise<boolean> {
  const parsed = parsePasswordHash(encoded);
  if (!parsed.ok) return false;
  const h = parsed.hash;
  switch (h.algorithm) {
    case 'argon2id':
    case 'argon2i':
      return argon2Verify(encoded, password);
    case 'bcrypt':
      // `$2y$` (PHP) is the same algorithm as `$2b$`, which is the prefix the addon reads.
      return bcrypt.compare(password, encoded.replace(/^\$2y\$/, '$2b$'));
    case 'scrypt': {
      const derived = await scryptAsync(password, h.salt, h.hash.length, { N: 2 ** h.logN, r: h.r, p: h.p, maxmem: SCRYPT_MAXMEM });
      return sameBytes(derived, h.hash);
    }
    case 'pbkdf2-sha256':
    case 'pbkdf2-sha512': {
      const digest = h.algorithm === 'pbkdf2-sha256' ? 'sha256' : 'sha512';
      const derived = await pbkdf2Async(password, h.salt, h.iterations, h.hash.length, digest);
      return sameBytes(derived, h.hash);
    }
    default: {
      const unhandled: never = h;
      throw new Error(`unhandled hash algorithm ${String(unhandled)}`);
    }
  }
}
