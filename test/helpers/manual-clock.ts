import type { Clock } from '../../src/core/ports.js';

/**
 * A Clock that stands still until the test moves it: how tests of backoff, leases and expiry
 * make time pass without waiting for it.
 */
export interface ManualClock extends Clock {
  /** Moves the clock forward by `ms` milliseconds, ending the sleeps whose time has come. */
  advance(ms: number): void;
  /** The current time in epoch milliseconds. */
  ms(): number;
  /**
   * Waits until the clock has been moved `ms` milliseconds on, or `signal` aborts: a worker's
   * waits between rounds (the poller's `sleep`) on the test's time.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** The sleeps not yet ended, each as how long it still has to go. */
  sleeping(): number[];
}

/** A manual clock that starts at `start` (the wall clock's time by default). */
export function manualClock(start: number = Date.now()): ManualClock {
  let current = start;
  const sleepers = new Set<{ until: number; end: () => void }>();
  return {
    now: () => new Date(current),
    ms: () => current,
    advance(ms: number) {
      if (!(ms >= 0)) throw new Error(`a clock only moves forward (asked to move ${ms} ms)`);
      current += ms;
      for (const sleeper of [...sleepers]) if (sleeper.until <= current) sleeper.end();
    },
    sleep(ms: number, signal?: AbortSignal) {
      return new Promise<void>((resolve) => {
        if (signal?.aborted || ms <= 0) return resolve();
        const sleeper = {
          until: current + ms,
          end: () => {
            sleepers.delete(sleeper);
            signal?.removeEventListener('abort', sleeper.end);
            resolve();
          },
        };
        sleepers.add(sleeper);
        signal?.addEventListener('abort', sleeper.end, { once: true });
      });
    },
    sleeping: () => [...sleepers].map((s) => s.until - current),
  };
}
