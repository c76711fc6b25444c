/**
 * Admission control for password hashing: a bounded queue in front of a fixed number of
 * hashing slots, with two priorities.
 *
 * - `interactive` work (a request someone waits for) is admitted only while the number of
 *   interactive hashes waiting stays within `depth`; past it the whole request is refused at
 *   once with SERVICE_BUSY and a Retry-After estimate, instead of queueing until it times out.
 *   A request is admitted whole or not at all, and an empty queue admits any request, so a
 *   batch larger than `depth` still runs on an idle server.
 * - `background` work (import jobs) is never refused: it waits, and a free slot takes it only
 *   when no interactive work is waiting, so imports use spare capacity and never starve
 *   requests. A background runner bounds its own backlog by awaiting each chunk.
 */
import { DomainError } from '../errors.js';
import type { Clock, HashPriority } from '../ports.js';

export type { HashPriority };

export interface HashQueueOptions {
  /** Hashes run at once (each on libuv's thread pool). */
  concurrency: number;
  /** The most interactive hashes that may wait for a slot. */
  depth: number;
  /**
   * The time hashes are measured by, for the Retry-After estimate; the process's monotonic
   * clock by default.
   */
  clock?: Clock;
}

export interface HashQueueStats {
  running: number;
  waitingInteractive: number;
  waitingBackground: number;
}

export interface HashQueue {
  /**
   * Admits every task or none: throws SERVICE_BUSY (nothing started) when interactive tasks
   * do not fit. Returns one promise per task, settled with the task's own result.
   */
  submit<T>(tasks: readonly (() => Promise<T>)[], priority: HashPriority): Promise<T>[];
  stats(): HashQueueStats;
}

interface Job {
  run: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** A FIFO with O(1) shift, so that a thousand queued hashes cost nothing to take in order. */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(item: T): void {
    this.items.push(item);
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

export function createHashQueue(options: HashQueueOptions): HashQueue {
  const concurrency = Math.max(1, Math.floor(options.concurrency));
  const depth = Math.max(1, Math.floor(options.depth));
  const interactive = new Fifo<Job>();
  const background = new Fifo<Job>();
  let running = 0;
  /** Moving average of one hash's duration, for Retry-After. */
  let averageMs = 50;
  const clock = options.clock;
  const nowMs = clock ? () => clock.now().getTime() : () => performance.now();

  function pump(): void {
    while (running < concurrency) {
      const job = interactive.shift() ?? background.shift();
      if (!job) return;
      running++;
      const started = nowMs();
      let result: Promise<unknown>;
      try {
        result = job.run();
      } catch (error) {
        result = Promise.reject(error);
      }
      result.then(job.resolve, job.reject).finally(() => {
        running--;
        averageMs = averageMs * 0.9 + (nowMs() - started) * 0.1;
        pump();
      });
    }
  }

  function busy(incoming: number): DomainError {
    const seconds = Math.ceil(((interactive.length + incoming) * averageMs) / concurrency / 1000);
    return new DomainError(
      'SERVICE_BUSY',
      'The server is hashing as many passwords as it can take; nothing was done. Retry after the time in Retry-After.',
      [],
      Math.min(60, Math.max(1, seconds)),
    );
  }

  return {
    submit<T>(tasks: readonly (() => Promise<T>)[], priority: HashPriority): Promise<T>[] {
      if (tasks.length === 0) return [];
      if (priority === 'interactive' && interactive.length > 0 && interactive.length + tasks.length > depth) throw busy(tasks.length);
      const queue = priority === 'interactive' ? interactive : background;
      const promises = tasks.map(
        (run) =>
          new Promise<T>((resolve, reject) => {
            queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
          }),
      );
      pump();
      return promises;
    },
    stats: () => ({ running, waitingInteractive: interactive.length, waitingBackground: background.length }),
  };
}
