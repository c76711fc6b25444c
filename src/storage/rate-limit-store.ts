import { RateLimiterMemory, RateLimiterPostgres, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Db } from './database.js';

/**
 * Makes a limiter of `perMinute` points per key and minute, named `name` (its keys are
 * `name:key`). Where the counts live is the factory's choice: see `createLimiterFactory`.
 */
export type LimiterFactory = (name: string, perMinute: number) => RateLimiterAbstract;

/** Counts kept in this process's memory: right for a process that is alone (SQLite), and for tests. */
export const memoryLimiters: LimiterFactory = (name, perMinute) => new RateLimiterMemory({ keyPrefix: name, points: perMinute, duration: 60 });

/**
 * On PostgreSQL the counts live in the `rate_limits` table, so that every instance on the
 * database takes from the same bucket: one upsert per request while the key has points left,
 * none once it has used them (until the window ends), in a fixed one-minute window
 * (rate-limiter-flexible's PostgreSQL store). Should the database fail to answer, the
 * instance counts in its own memory meanwhile rather than refusing or letting everything through.
 * On SQLite, where a process is alone, the counts stay in memory.
 */
export function createLimiterFactory(db: Db): LimiterFactory {
  const pool = db.pool;
  if (!pool) return memoryLimiters;
  return (name, perMinute) =>
    new RateLimiterPostgres({
      storeClient: pool,
      storeType: 'pool',
      tableName: 'rate_limits',
      // Created by migration 0010.
      tableCreated: true,
      keyPrefix: name,
      points: perMinute,
      duration: 60,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix: name, points: perMinute, duration: 60 }),
      // A key that has used its last point is refused from memory until its window ends: a
      // flood past the limit costs the database nothing.
      inMemoryBlockOnConsumed: perMinute,
    });
}
