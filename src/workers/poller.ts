import { setTimeout as delay } from 'node:timers/promises';

/**
 * Waits `ms` milliseconds, or less if `signal` aborts first; never rejects. The default waits
 * on the event loop's timers; a test passes one driven by its manual clock.
 */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export interface PollerOptions<R> {
  /** One look for work, and the work found. A throw is reported to `onError` and backed off. */
  round(): Promise<R>;
  /** Whether a round found work: then the next one starts at once instead of after the interval. */
  busy(result: R): boolean;
  /** The wait after a round that found nothing. */
  intervalMs: number;
  /**
   * The longest wait after rounds that keep throwing: the wait doubles from `intervalMs` with
   * each failure in a row, up to this (default 10 s, never below `intervalMs`). A round that
   * does not throw starts again from `intervalMs`.
   */
  maxBackoffMs?: number;
  /** Rounds run side by side (default 1), each loop waiting on its own. */
  concurrency?: number;
  /** Told of a round that threw, with the wait before the next one. */
  onError(error: unknown, retryInMs: number): void;
  sleep?: Sleep;
}

export interface Poller {
  /** Starts the loops in the background; a second start while running does nothing. */
  start(): void;
  /** Ends every wait and resolves once the rounds in flight have returned; start works again after. */
  stop(): Promise<void>;
  /**
   * Ends the current waits: the loops look for work now instead of at the end of the interval.
   * A wake during a round makes that loop start its next round without waiting.
   */
  wake(): void;
  /** Whether the loops run (between start and stop). */
  running(): boolean;
}

const sleepOnTimers: Sleep = (ms, signal) => delay(ms, undefined, { signal }).catch(() => {});

/** Gives the event loop a turn: I/O waiting behind a run of busy rounds gets its go. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The background loop of a worker that polls the database for work (queued import chunks,
 * due emails): a round, then the next at once when it found work or after the interval when it
 * did not; a failed round is reported and the loop backs off, so a database that is down
 * costs a log line every few seconds instead of a busy loop.
 */
export function createPoller<R>(options: PollerOptions<R>): Poller {
  const sleep = options.sleep ?? sleepOnTimers;
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const maxBackoffMs = Math.max(options.intervalMs, options.maxBackoffMs ?? 10_000);

  let running = false;
  let loops: Promise<void> | undefined;
  /** Aborted to end the current waits; replaced by a fresh one for the next. */
  let waking = new AbortController();

  async function loop(): Promise<void> {
    let failures = 0;
    while (running) {
      // A wake while the round runs ends the wait after it too: work queued meanwhile is looked for at once.
      const woken = waking.signal;
      let waitMs = options.intervalMs;
      try {
        const busy = options.busy(await options.round());
        failures = 0;
        if (busy) waitMs = 0;
      } catch (error) {
        failures++;
        waitMs = Math.min(maxBackoffMs, options.intervalMs * 2 ** Math.min(failures - 1, 30));
        options.onError(error, waitMs);
      }
      if (!running) break;
      // SQLite's driver answers on this thread without ever leaving the microtask queue: a busy
      // loop still lets requests waiting for the event loop run between two rounds.
      if (waitMs === 0) await nextTurn();
      else if (!woken.aborted) await sleep(waitMs, woken);
    }
  }

  function wake(): void {
    const current = waking;
    waking = new AbortController();
    current.abort();
  }

  return {
    start() {
      if (running) return;
      running = true;
      loops = Promise.all(Array.from({ length: concurrency }, () => loop())).then(() => {});
    },
    async stop() {
      running = false;
      wake();
      await loops;
      loops = undefined;
    },
    wake,
    running: () => running,
  };
}
