/**
 * Waiting in tests: for a condition, never for a fixed time. A passing test waits only as
 * long as its condition takes to hold; the deadline is there for a test that would otherwise
 * hang, so it is generous (a busy machine may take many times longer than a quiet one).
 * MUSTER_TEST_WAIT_SECONDS changes it for the whole run.
 */
export const WAIT_DEADLINE_MS = (Number(process.env.MUSTER_TEST_WAIT_SECONDS) || 150) * 1000;

export interface WaitOptions {
  /** How long before giving up (default WAIT_DEADLINE_MS). */
  timeoutMs?: number;
  /** The pause between two looks (default 10 ms). */
  intervalMs?: number;
}

/**
 * Resolves with the first truthy value `check` returns, looking again every few milliseconds;
 * rejects naming `what` once the deadline has passed. An error thrown by `check` counts as
 * "not yet" (a server that is not listening yet refuses the connection), and the last one is
 * reported with the timeout.
 */
export async function waitUntil<T>(what: string, check: () => T | Promise<T>, options: WaitOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? WAIT_DEADLINE_MS;
  const intervalMs = options.intervalMs ?? 10;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last: ${lastError.message})` : '';
      throw new Error(`waited ${Math.round(timeoutMs / 1000)} s for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
