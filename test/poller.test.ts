import { afterEach, describe, expect, it } from 'vitest';
import { createPoller, type Poller, type PollerOptions } from '../src/workers/poller.js';
import { manualClock, type ManualClock } from './helpers/manual-clock.js';
import { waitUntil } from './helpers/wait.js';

/**
 * The loop behind the import runner and the outbox sender, on a manual clock: its waits end
 * only when the test moves the clock, so each case states exactly when a round may run.
 */
describe('the poller', () => {
  let clock: ManualClock;
  let poller: Poller | undefined;
  afterEach(async () => {
    await poller?.stop();
    poller = undefined;
  });

  /** A poller whose rounds are counted; `work` says what each round finds (nothing by default). */
  function start(overrides: Partial<PollerOptions<boolean>> & { work?: () => boolean | Promise<boolean> } = {}) {
    clock = manualClock(0);
    const state = { rounds: 0, errors: [] as { error: unknown; retryInMs: number }[] };
    const { work = () => false, ...options } = overrides;
    poller = createPoller<boolean>({
      round: async () => {
        state.rounds++;
        return work();
      },
      busy: (found) => found,
      intervalMs: 1000,
      onError: (error, retryInMs) => state.errors.push({ error, retryInMs }),
      sleep: clock.sleep,
      ...options,
    });
    poller.start();
    return state;
  }
  const asleep = (waits: number[] = [1000]) => waitUntil(`the poller to sleep ${waits.join(', ')} ms`, () => JSON.stringify(clock.sleeping()) === JSON.stringify(waits));

  it('looks for work at start, then again only once the interval has passed', async () => {
    const state = start();
    await asleep();
    expect(state.rounds).toBe(1);
    clock.advance(999);
    await asleep([1]);
    expect(state.rounds).toBe(1);
    clock.advance(1);
    await asleep();
    expect(state.rounds).toBe(2);
  });

  it('goes again at once while rounds find work, and waits once one finds none', async () => {
    let left = 5;
    const state = start({ work: () => left-- > 0 });
    await asleep();
    // Five rounds that found work and the sixth that found none, with no time passing.
    expect(state.rounds).toBe(6);
    expect(clock.ms()).toBe(0);
  });

  it('ends the wait when woken, and does not wait after a round during which it was woken', async () => {
    let release!: () => void;
    let holding = false;
    const state = start({
      work: async () => {
        if (holding) await new Promise<void>((resolve) => (release = resolve));
        return false;
      },
    });
    await asleep();
    poller!.wake();
    await asleep();
    expect(state.rounds).toBe(2);

    // Woken while a round runs: the work queued meanwhile is looked for straight after it.
    holding = true;
    poller!.wake();
    await waitUntil('the third round to start', () => state.rounds === 3);
    poller!.wake();
    holding = false;
    release();
    await asleep();
    expect(state.rounds).toBe(4);
    expect(clock.ms()).toBe(0);
  });

  it('stops by waiting for the round in flight and running no other', async () => {
    let release!: () => void;
    let held = false;
    const state = start({
      work: () =>
        new Promise<boolean>((resolve) => {
          held = true;
          release = () => resolve(true);
        }),
    });
    await waitUntil('a round to start', () => held);
    let stopped = false;
    const stopping = poller!.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    expect(poller!.running()).toBe(false);
    // The round ends having found work; a running poller would go again at once.
    release();
    await stopping;
    expect(state.rounds).toBe(1);
    expect(clock.sleeping()).toEqual([]);
  });

  it('stops while asleep without waiting for the interval, and starts again after', async () => {
    const state = start();
    await asleep();
    await poller!.stop();
    expect(clock.sleeping()).toEqual([]);
    expect(state.rounds).toBe(1);
    poller!.start();
    poller!.start(); // a second start while running adds no loop
    await asleep();
    expect(state.rounds).toBe(2);
  });

  it('reports a failed round and backs off, doubling the wait up to its limit, until a round succeeds', async () => {
    let failing = true;
    const state = start({
      maxBackoffMs: 5000,
      work: () => {
        if (failing) throw new Error('database unavailable');
        return false;
      },
    });
    for (const wait of [1000, 2000, 4000, 5000, 5000]) {
      await asleep([wait]);
      expect(state.errors.at(-1)).toMatchObject({ error: new Error('database unavailable'), retryInMs: wait });
      clock.advance(wait);
    }
    failing = false;
    // The round after the last wait succeeds: back to the plain interval.
    await asleep([1000]);
    expect(state.errors).toHaveLength(5);
    expect(state.rounds).toBe(6);
    failing = true;
    clock.advance(1000);
    await asleep([1000]);
    expect(state.errors).toHaveLength(6);
  });

  it('runs as many loops side by side as asked, each waiting on its own', async () => {
    let inFlight = 0;
    let most = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const state = start({
      concurrency: 3,
      work: async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await gate;
        inFlight--;
        return false;
      },
    });
    await waitUntil('three rounds in flight', () => inFlight === 3);
    release();
    await asleep([1000, 1000, 1000]);
    expect(most).toBe(3);
    expect(state.rounds).toBe(3);
    // One wake ends every loop's wait.
    poller!.wake();
    await asleep([1000, 1000, 1000]);
    expect(state.rounds).toBe(6);
  });
});
