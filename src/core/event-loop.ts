import { performance } from 'node:perf_hooks';

/**
 * Time-slicing for long synchronous work on the event loop (a 1000-user batch, an import
 * chunk): work that runs row after row calls `yieldIfBusy()` between rows, and gives the event
 * loop a turn once the loop has been held for longer than the budget, so that no other
 * request waits behind it for long.
 *
 * The time of the last turn is kept by an unref'd interval timer, whose callback runs only
 * when the loop does turn: whatever held the loop before (parsing a body, a commit) counts
 * against the budget too.
 */

/** The longest a run of synchronous work holds the event loop before it lets other work in. */
export const LOOP_BUDGET_MS = 8;

let lastTurn = performance.now();
let ticking = false;

function startTicking(): void {
  ticking = true;
  setInterval(() => {
    lastTurn = performance.now();
  }, 2).unref();
}

/** Milliseconds since the event loop last turned (as far as can be told). */
export function heldForMs(): number {
  if (!ticking) startTicking();
  return performance.now() - lastTurn;
}

/** Lets the event loop turn (one setImmediate) if it has been held longer than `budgetMs`. */
export async function yieldIfBusy(budgetMs = LOOP_BUDGET_MS): Promise<void> {
  if (heldForMs() > budgetMs) {
    await new Promise((resolve) => setImmediate(resolve));
    lastTurn = performance.now();
  }
}
