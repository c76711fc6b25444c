import type { Clock } from '../../src/core/ports.js';

/**
 * A Clock that stands still until the test moves it: how tests of backoff, leases and expiry
 * make time pass without waiting for it.
 */
export interface ManualClock extends Clock {
  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void;
  /** The current time in epoch milliseconds. */
  ms(): number;
}

/** A manual clock that starts at `start` (the wall clock's time by default). */
export function manualClock(start: number = Date.now()): ManualClock {
  let current = start;
  return {
    now: () => new Date(current),
    ms: () => current,
    advance(ms: number) {
      if (!(ms >= 0)) throw new Error(`a clock only moves forward (asked to move ${ms} ms)`);
      current += ms;
    },
  };
}
