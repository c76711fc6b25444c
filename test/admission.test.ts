import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { isDomainError } from '../src/core/errors.js';
import { createArgon2Hasher, DEFAULT_QUEUE_DEPTH_PER_SLOT, type HasherOptions } from '../src/core/passwords/argon2-hasher.js';
import { createHashQueue } from '../src/core/passwords/hash-queue.js';
import { createUsers } from '../src/core/users/create-users.js';
import { createDependencies, prepareDatabase } from '../src/dependencies.js';
import type { DialectName } from '../src/storage/database.js';
import { createTestDatabase, DATABASES } from './helpers/databases.js';
import { manualClock } from './helpers/manual-clock.js';
import { ADMIN_TOKEN, call, type CallOptions, type CallResult } from './helpers/test-app.js';
import { waitUntil } from './helpers/wait.js';

const PASSWORD = 'saffron-harbour-2718';

/** A task that finishes when the test says so, recording when it started. */
function gate(log: string[], name: string) {
  let open!: () => void;
  const done = new Promise<void>((resolve) => (open = resolve));
  return { run: () => (log.push(name), done.then(() => name)), open };
}

describe('the hashing queue', () => {
  it('admits a request whole on an idle server even when it is larger than the depth', async () => {
    const queue = createHashQueue({ concurrency: 2, depth: 10 });
    const results = await Promise.all(queue.submit(Array.from({ length: 1000 }, (_, i) => async () => i), 'interactive'));
    expect(results).toHaveLength(1000);
    expect(results[999]).toBe(999);
  });

  it('keeps the default depth at a thousand hashes per slot, so a busy server still takes a full batch', () => {
    const hasher = createArgon2Hasher({ concurrency: 2 });
    expect(DEFAULT_QUEUE_DEPTH_PER_SLOT).toBe(1000);
    // Two 1000-user batches wait together without a refusal.
    const tasks = Array.from({ length: 1000 }, () => () => new Promise<void>(() => {}));
    hasher.queue.submit(tasks, 'interactive');
    expect(() => hasher.queue.submit(tasks, 'interactive')).not.toThrow();
    expect(hasher.queue.stats().waitingInteractive).toBe(1998);
  });

  it('refuses interactive work past the depth at once, whole, with SERVICE_BUSY and a Retry-After', () => {
    const queue = createHashQueue({ concurrency: 1, depth: 3 });
    const log: string[] = [];
    const gates = Array.from({ length: 4 }, (_, i) => gate(log, `i${i}`));
    queue.submit(gates.map((g) => g.run), 'interactive'); // one runs, three wait
    expect(queue.stats()).toEqual({ running: 1, waitingInteractive: 3, waitingBackground: 0 });
    let refusal: unknown;
    try {
      queue.submit([async () => 'late'], 'interactive');
    } catch (error) {
      refusal = error;
    }
    expect(isDomainError(refusal) && refusal.code).toBe('SERVICE_BUSY');
    expect(isDomainError(refusal) && refusal.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    // Nothing of the refused request was queued.
    expect(queue.stats().waitingInteractive).toBe(3);
    for (const g of gates) g.open();
  });

  it('never refuses background work, and runs it only when no interactive work waits', async () => {
    const queue = createHashQueue({ concurrency: 1, depth: 1 });
    const log: string[] = [];
    const background = Array.from({ length: 3 }, (_, i) => gate(log, `b${i}`));
    const backgroundDone = queue.submit(background.map((g) => g.run), 'background');
    expect(log).toEqual(['b0']);
    const interactive = Array.from({ length: 2 }, (_, i) => gate(log, `i${i}`));
    const interactiveDone = queue.submit(interactive.map((g) => g.run), 'interactive');
    // More background work than the depth is still taken.
    const more = gate(log, 'b3');
    const moreDone = queue.submit([more.run], 'background');
    for (const g of [...background, ...interactive, more]) g.open();
    await Promise.all([...backgroundDone, ...interactiveDone, ...moreDone]);
    // b0 was already running; both interactive tasks went before the waiting background ones.
    expect(log).toEqual(['b0', 'i0', 'i1', 'b1', 'b2', 'b3']);
  });

  it('estimates Retry-After from how long hashes have taken by its clock: the waiting work over the slots, 1 s to 60 s', async () => {
    const clock = manualClock();
    const queue = createHashQueue({ concurrency: 2, depth: 4, clock });
    const refusal = (): number => {
      try {
        queue.submit([async () => 'late'], 'interactive');
      } catch (error) {
        if (isDomainError(error) && error.code === 'SERVICE_BUSY') return error.retryAfterSeconds!;
        throw error;
      }
      throw new Error('the queue admitted work past its depth');
    };
    /** Fills both slots and the queue with work that waits for the test, then opens it. */
    const whileFull = async (check: () => void) => {
      const gates = Array.from({ length: 6 }, (_, i) => gate([], `g${i}`));
      const done = queue.submit(gates.map((g) => g.run), 'interactive');
      expect(queue.stats()).toEqual({ running: 2, waitingInteractive: 4, waitingBackground: 0 });
      check();
      for (const g of gates) g.open();
      await Promise.all(done);
    };
    // Nothing measured yet (and the gates took no time by the clock): the shortest estimate.
    await whileFull(() => expect(refusal()).toBe(1));
    /** One hash at a time that takes `ms` by the clock; the queue has booked it before the next starts. */
    const hashesTaking = async (ms: number, count: number) => {
      for (let i = 0; i < count; i++) {
        await queue.submit([async () => clock.advance(ms)], 'interactive')[0];
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    // Sixty hashes of 4 s each by the clock: about 4 s per hash, so (4 waiting + 1 asked) × 4 s / 2 slots = 10 s.
    await hashesTaking(4_000, 60);
    await whileFull(() => expect(refusal()).toBe(10));
    // Hashes of 100 s: the estimate stops at a minute.
    await hashesTaking(100_000, 60);
    await whileFull(() => expect(refusal()).toBe(60));
  });

  it("passes a failing task's error to its caller and keeps going", async () => {
    const queue = createHashQueue({ concurrency: 1, depth: 5 });
    const [bad, good] = queue.submit([async () => Promise.reject(new Error('boom')), async () => 'fine'], 'interactive');
    await expect(bad).rejects.toThrow('boom');
    await expect(good).resolves.toBe('fine');
  });
});

interface BusyApp {
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  countUsers(): Promise<number>;
  core: ReturnType<typeof createDependencies>;
  /** Resolves once at least `count` interactive hashes wait in the queue. */
  queued(count: number): Promise<void>;
  /** Resolves once background hashes wait in the queue behind the one running. */
  backgroundQueued(): Promise<void>;
  close(): Promise<void>;
}

/** The real application over a real database, with a hasher of `concurrency` slots and a queue of `queueDepth`. */
async function startBusyApp(kind: DialectName, hasher: HasherOptions): Promise<BusyApp> {
  const database = await createTestDatabase(kind);
  const db = database.open();
  const queuedHasher = createArgon2Hasher(hasher);
  const core = createDependencies(db, { hasher: queuedHasher });
  await prepareDatabase(db, core);
  const app = await buildApp({ core, adminToken: ADMIN_TOKEN, rateLimitPerMinute: 100_000, rootUsers: 'simple' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  return {
    core,
    call: (method, path, options) => call(url, method, path, options),
    async queued(count) {
      await waitUntil(`${count} interactive hashes waiting`, () => queuedHasher.queue.stats().waitingInteractive >= count, { intervalMs: 2 });
    },
    async backgroundQueued() {
      await waitUntil('background hashes waiting', () => queuedHasher.queue.stats().waitingBackground > 0, { intervalMs: 2 });
    },
    async countUsers() {
      const row = await db.kysely.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async close() {
      await app.close();
      await db.close();
      await database.drop();
    },
  };
}

describe.each(DATABASES)('admission control on %s', (kind) => {
  let busy: BusyApp;
  beforeAll(async () => {
    busy = await startBusyApp(kind, { concurrency: 1, queueDepth: 2 });
  });
  afterAll(async () => busy.close());

  it('answers a flood of creates at once with 503 SERVICE_BUSY and Retry-After, and creates exactly the ones it accepted', async () => {
    const before = await busy.countUsers();
    const timed = async (i: number) => {
      const started = performance.now();
      const res = await busy.call('POST', '/v1/tenants/default/users', { body: { email: `flood${i}@example.com`, password: PASSWORD } });
      return { res, ms: performance.now() - started };
    };
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => timed(i)));
    const created = answers.filter((a) => a.res.status === 201);
    const refused = answers.filter((a) => a.res.status === 503);
    expect(created.length + refused.length).toBe(40);
    expect(created.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    for (const { res } of refused) {
      expect(res.body).toMatchObject({ status: 503, code: 'SERVICE_BUSY' });
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    // Refusals do not wait for the hashing they were refused: each comes back sooner than the last creation.
    const slowestCreate = Math.max(...created.map((a) => a.ms));
    expect(Math.max(...refused.map((a) => a.ms))).toBeLessThan(slowestCreate);
    expect((await busy.countUsers()) - before).toBe(created.length);
  });

  it("takes a batch larger than the queue on an idle server, and refuses other work while it hashes, in every dialect's own shape", async () => {
    const users = Array.from({ length: 40 }, (_, i) => ({ email: `big${i}@example.com`, password: PASSWORD }));
    const batch = busy.call('POST', '/v1/tenants/default/users/batch', { body: { users } });
    // The batch of 40 is admitted although the queue holds 2; while most of it waits, the queue is full.
    await busy.queued(30);

    const native = await busy.call('POST', '/v1/tenants/default/users', { body: { email: 'meanwhile@example.com', password: PASSWORD }, headers: { 'idempotency-key': 'busy-retry' } });
    expect(native.status).toBe(503);
    expect(native.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(native.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    const appKey = (await busy.call('GET', '/v1/tenants/default')).body.appKey;
    const app = await busy.call('POST', `/${appKey}/users`, { body: { userName: 'meanwhile-app', email: 'meanwhile-app@example.com', password: PASSWORD, confirmPassword: PASSWORD } });
    expect(app.status).toBe(503);
    expect(app.body).toMatchObject({ statusCode: 503, error: 'SERVICE_BUSY' });
    expect(Number(app.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    const provisioning = await busy.call('POST', '/provisioning/users.svc/', { body: [{ EmailAddress: 'meanwhile-prov@example.com', FirstName: 'A', LastName: 'B', Password: PASSWORD }] });
    expect(provisioning.status).toBe(503);
    expect(provisioning.body).toMatchObject({ Code: 'SERVICE_BUSY' });

    const report = await batch;
    expect(report.status, report.text).toBe(200);
    expect(report.body.successCount).toBe(40);

    // The refusal was not stored under its Idempotency-Key: the retry runs and creates the user.
    const retry = await busy.call('POST', '/v1/tenants/default/users', { body: { email: 'meanwhile@example.com', password: PASSWORD }, headers: { 'idempotency-key': 'busy-retry' } });
    expect(retry.status, retry.text).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
  });

  it('lets a background create (an import) wait for capacity instead of being refused, behind interactive work', async () => {
    const actor = { keyId: 'bootstrap', role: 'global-admin' as const, tenantId: null };
    const users = Array.from({ length: 20 }, (_, i) => ({ email: `import${i}@example.com`, password: PASSWORD }));
    const finished: string[] = [];
    const imported = createUsers(busy.core, 'default', actor, users, { priority: 'background' }).then((result) => (finished.push('import'), result));
    // Once the import's hashes wait, an interactive create gets the next free slot, ahead of them.
    await busy.backgroundQueued();
    const interactive = await busy.call('POST', '/v1/tenants/default/users', { body: { email: 'interactive-first@example.com', password: PASSWORD } });
    finished.push('interactive');
    expect(interactive.status, interactive.text).toBe(201);
    const result = await imported;
    expect(result.outcomes.every((o) => o.status === 'created')).toBe(true);
    expect(finished).toEqual(['interactive', 'import']);
  });
});
