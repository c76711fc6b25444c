/**
 * Idempotent retries of create requests (the `Idempotency-Key` header).
 *
 * A key belongs to one credential (its scope). The first request with a key claims it by
 * inserting a record, which the database's unique index on (scope, key) lets only one request
 * do; the claimant runs and then stores its response on the record. Within 24 hours, a
 * request with the same key and the same fingerprint (method, path and body) gets that stored
 * response back and runs nothing; one with another fingerprint is refused with
 * IDEMPOTENCY_KEY_REUSED. A request arriving while the claimant still runs waits for its
 * response. A claim whose process died is taken over once its lease has ended.
 */
import { createHash } from 'node:crypto';
import { DomainError, fieldError } from '../errors.js';
import type { Clock, Ids } from '../ports.js';

/** How long a key and its response are kept. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** How long a claim holds without a response before another request may take it over (longer than any request may run). */
export const IDEMPOTENCY_LEASE_MS = 10 * 60 * 1000;
/** How long a request waits for the first request with its key to finish before answering CONFLICT. */
export const IDEMPOTENCY_WAIT_MS = 60 * 1000;
export const IDEMPOTENCY_KEY_MAX = 255;

/** A response as it is stored and replayed. */
export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface IdempotencyRecord {
  scope: string;
  keyHash: string;
  requestHash: string;
  /** Who holds the claim while the first request runs. */
  owner: string;
  state: 'processing' | 'completed';
  lockedUntil: string;
  response: StoredResponse | null;
  createdAt: string;
  expiresAt: string;
}

export interface IdempotencyStore {
  /** Inserts a processing record; false (nothing written) when the scope already has this key. */
  claim(record: Omit<IdempotencyRecord, 'state' | 'response'>): Promise<boolean>;
  get(scope: string, keyHash: string): Promise<IdempotencyRecord | undefined>;
  /** Gives a processing record whose lease ended to a new owner; false when it is no longer `previousOwner`'s. */
  takeOver(scope: string, keyHash: string, previousOwner: string, owner: string, lockedUntil: string): Promise<boolean>;
  /** Stores the response of the owner's claim; false when the claim is no longer this owner's. */
  complete(scope: string, keyHash: string, owner: string, response: StoredResponse): Promise<boolean>;
  /** Deletes the owner's processing record, so that the key may be used afresh. */
  release(scope: string, keyHash: string, owner: string): Promise<void>;
  /** Deletes the record of this key if it expired at `now`. */
  deleteExpired(scope: string, keyHash: string, now: string): Promise<void>;
  /** Deletes every record expired at `now`; returns how many. */
  purgeExpired(now: string): Promise<number>;
}

export interface IdempotencyDeps {
  idempotency: IdempotencyStore;
  clock: Clock;
  ids: Ids;
}

/** The claim a request holds while it runs. */
export interface IdempotencyClaim {
  scope: string;
  keyHash: string;
  owner: string;
}

export type IdempotencyStart = { kind: 'proceed'; claim: IdempotencyClaim } | { kind: 'replay'; response: StoredResponse };

export interface IdempotentRequest {
  /** Whose key this is: the credential's id. */
  scope: string;
  /** The Idempotency-Key header as sent. */
  key: string;
  /** A digest of what the request asks: method, path with query, body. */
  fingerprint: string;
}

function invalidKey(message: string): DomainError {
  return new DomainError('INVALID_FIELD', message, [fieldError('Idempotency-Key', 'INVALID_FIELD', message)]);
}

/**
 * The key of an `Idempotency-Key` header: 1 to 255 printable ASCII characters, bare or as a
 * structured-field string (`"…"`, as the IETF draft writes it).
 */
export function parseIdempotencyKey(header: string): string {
  const value = header.trim();
  const key = /^"(.*)"$/.test(value) ? value.slice(1, -1).replace(/\\(["\\])/g, '$1') : value;
  if (key.length === 0 || key.length > IDEMPOTENCY_KEY_MAX) return fail(`Idempotency-Key must be 1 to ${IDEMPOTENCY_KEY_MAX} characters.`);
  if (!/^[\x20-\x7e]+$/.test(key)) return fail('Idempotency-Key must be printable ASCII.');
  return key;

  function fail(message: string): never {
    throw invalidKey(message);
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const lastPurge = new WeakMap<IdempotencyStore, number>();
const PURGE_INTERVAL_MS = 10 * 60 * 1000;

/** Deletes expired records now and then (at most every ten minutes per store); never fails a request. */
function purgeNowAndThen(store: IdempotencyStore, now: Date): void {
  const last = lastPurge.get(store) ?? 0;
  if (now.getTime() - last < PURGE_INTERVAL_MS) return;
  lastPurge.set(store, now.getTime());
  store.purgeExpired(now.toISOString()).catch(() => lastPurge.set(store, last));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Decides what a request with an Idempotency-Key does: proceed (it holds the claim and must
 * call `finishIdempotentRequest`), or replay a stored response. Throws
 * IDEMPOTENCY_KEY_REUSED when the key was used for another request, and CONFLICT when the
 * first request with the key is still running after `waitMs`.
 */
export async function startIdempotentRequest(deps: IdempotencyDeps, request: IdempotentRequest, options: { waitMs?: number } = {}): Promise<IdempotencyStart> {
  const store = deps.idempotency;
  const keyHash = sha256(request.key);
  const owner = deps.ids.uuid();
  const deadline = Date.now() + (options.waitMs ?? IDEMPOTENCY_WAIT_MS);
  purgeNowAndThen(store, deps.clock.now());
  let pause = 20;
  for (;;) {
    const now = deps.clock.now();
    const lockedUntil = new Date(now.getTime() + IDEMPOTENCY_LEASE_MS).toISOString();
    const claimed = await store.claim({
      scope: request.scope,
      keyHash,
      requestHash: request.fingerprint,
      owner,
      lockedUntil,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + IDEMPOTENCY_TTL_MS).toISOString(),
    });
    const claim = { scope: request.scope, keyHash, owner };
    if (claimed) return { kind: 'proceed', claim };

    const existing = await store.get(request.scope, keyHash);
    if (!existing) continue; // released or purged meanwhile: claim again
    if (existing.expiresAt <= now.toISOString()) {
      await store.deleteExpired(request.scope, keyHash, now.toISOString());
      continue;
    }
    if (existing.requestHash !== request.fingerprint) {
      throw new DomainError(
        'IDEMPOTENCY_KEY_REUSED',
        'This Idempotency-Key was already used with a different request (method, path or body) in the last 24 hours; use a new key for a new request.',
        [fieldError('Idempotency-Key', 'IDEMPOTENCY_KEY_REUSED', 'This key belongs to another request.')],
      );
    }
    if (existing.state === 'completed' && existing.response) return { kind: 'replay', response: existing.response };
    if (existing.lockedUntil <= now.toISOString()) {
      // The first request's process ended without an answer: this one runs in its place.
      if (await store.takeOver(request.scope, keyHash, existing.owner, owner, lockedUntil)) return { kind: 'proceed', claim };
      continue;
    }
    if (Date.now() >= deadline) {
      throw new DomainError('CONFLICT', 'A request with this Idempotency-Key is still being processed; retry it later to get its response.', [], 1);
    }
    await sleep(pause);
    pause = Math.min(250, pause * 2);
  }
}

/**
 * Ends a claim: stores the response for replay, or, with no response (a server error, a busy
 * server, a response that cannot be stored), gives the key back so that a retry runs afresh.
 */
export async function finishIdempotentRequest(deps: Pick<IdempotencyDeps, 'idempotency'>, claim: IdempotencyClaim, response: StoredResponse | undefined): Promise<void> {
  if (response) await deps.idempotency.complete(claim.scope, claim.keyHash, claim.owner, response);
  else await deps.idempotency.release(claim.scope, claim.keyHash, claim.owner);
}
