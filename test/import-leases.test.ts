/**
 * An import chunk's lease: renewed while its worker hashes, given up as soon as another worker
 * holds it, given back uncounted on shutdown, and a chunk claimed too often fails its job with
 * a clear error instead of cycling. Run through the real runner step on both databases.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_CHUNK_CLAIMS, type ClaimedChunk } from '../src/core/imports/import-job.js';
import { runNextImportChunk } from '../src/core/imports/process-import-chunk.js';
import type { CoreDeps, PasswordHasher } from '../src/core/ports.js';
import { DATABASES } from './helpers/databases.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';
import { WAIT_DEADLINE_MS } from './helpers/wait.js';

const ROWS = 80;

/** Resolves once `check` holds, looking every 10 ms; fails after the shared generous deadline. */
async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + WAIT_DEADLINE_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A hasher that runs `before` ahead of every hashing step, then hashes for real. */
function hasherWith(real: PasswordHasher, before: (step: number) => Promise<void>): PasswordHasher & { steps: () => number } {
  let steps = 0;
  return {
    hash: (password, priority) => real.hash(password, priority),
    verify: (encoded, password, priority) => real.verify(encoded, password, priority),
    hashAll: async (passwords, priority) => {
      await before(++steps);
      return real.hashAll(passwords, priority);
    },
    steps: () => steps,
  };
}

describe.each(DATABASES)('import chunk leases on %s', (kind) => {
  let t: TestApp;
  let jobId: string;

  beforeEach(async () => {
    t = await startTestApp(kind);
    expect((await t.call('POST', '/v1/tenants', { body: { id: 'lease' } })).status).toBe(201);
    const lines = ['email,password'];
    for (let row = 1; row <= ROWS; row++) lines.push(`lease${row}@example.com,lease password number ${row}`);
    // No runner runs in this app: the job waits until a test runs its chunk.
    const accepted = await t.call('POST', '/v1/tenants/lease/imports?notify=false', { raw: `${lines.join('\n')}\n`, headers: { 'content-type': 'text/csv' } });
    expect(accepted.status, accepted.text).toBe(202);
    jobId = accepted.body.id;
  });
  afterEach(async () => {
    await t?.close();
  });

  const chunkRow = () => t.db.kysely.selectFrom('import_chunks').select(['lease_owner', 'lease_until', 'attempts']).where('job_id', '=', jobId).executeTakeFirst();
  const users = async () => (await t.db.kysely.selectFrom('users').select('id').where('tenant_id', '=', 'lease').execute()).length;

  it('renews the lease while the chunk is hashed, however long that takes, and commits it', async () => {
    let claimedUntil = 0;
    const hasher = hasherWith(t.core.hasher, async (step) => {
      if (step !== 1) return;
      claimedUntil = Date.parse((await chunkRow())!.lease_until!);
      // Hashing outlasts the 300 ms lease several times over: only renewals keep the chunk.
      await until('the lease to be renewed twice over', async () => Date.parse((await chunkRow())!.lease_until!) >= claimedUntil + 600);
    });
    const report = await runNextImportChunk({ ...t.core, hasher }, 'worker-a', 300, { renewEveryMs: 50 });
    expect(report).toMatchObject({ status: 'done', counts: { processed: ROWS, created: ROWS } });
    expect(await users()).toBe(ROWS);
    const job = await t.call('GET', `/v1/tenants/lease/imports/${jobId}`);
    expect(job.body).toMatchObject({ state: 'completed', created: ROWS });
  });

  it('stops at its next step once another worker holds the chunk, and commits nothing', async () => {
    let lostRenewal!: () => void;
    const renewalFailed = new Promise<void>((resolve) => (lostRenewal = resolve));
    const imports = {
      ...t.core.imports,
      renewChunk: async (chunk: ClaimedChunk, leaseUntil: string) => {
        const renewed = await t.core.imports.renewChunk(chunk, leaseUntil);
        if (!renewed) lostRenewal();
        return renewed;
      },
    };
    const hasher = hasherWith(t.core.hasher, async (step) => {
      if (step !== 1) return;
      // Another worker takes the chunk over (as after a stall past the lease).
      await t.db.kysely.updateTable('import_chunks').set({ lease_owner: 'worker-b/claim', lease_until: new Date(Date.now() + 60_000).toISOString() }).where('job_id', '=', jobId).execute();
      await renewalFailed;
    });
    const deps: CoreDeps = { ...t.core, hasher, imports };
    const report = await runNextImportChunk(deps, 'worker-a', 60_000, { renewEveryMs: 20 });
    expect(report).toMatchObject({ status: 'lost', jobId });
    // One step of 32 passwords was hashed, not the three steps of the whole chunk.
    expect(hasher.steps()).toBe(1);
    expect(await users()).toBe(0);
    expect((await chunkRow())!.lease_owner).toBe('worker-b/claim');
  });

  it('gives the chunk back on shutdown without counting the claim, for any worker to take at once', async () => {
    const stop = new AbortController();
    const hasher = hasherWith(t.core.hasher, async (step) => {
      if (step === 1) stop.abort();
    });
    const report = await runNextImportChunk({ ...t.core, hasher }, 'worker-a', 60_000, { stop: stop.signal });
    expect(report).toMatchObject({ status: 'stopped', jobId });
    expect(await chunkRow()).toMatchObject({ lease_owner: null, lease_until: null, attempts: 0 });
    expect(await users()).toBe(0);
    // Another worker takes it at once and finishes the job.
    expect(await runNextImportChunk(t.core, 'worker-b', 60_000)).toMatchObject({ status: 'done', counts: { created: ROWS } });
  });

  it('fails the job with a clear error once a chunk has been claimed too often, instead of claiming it forever', async () => {
    // As if MAX_CHUNK_CLAIMS workers had claimed it and each died or lost its lease.
    await t.db.kysely.updateTable('import_chunks').set({ attempts: MAX_CHUNK_CLAIMS }).where('job_id', '=', jobId).execute();
    const report = await runNextImportChunk(t.core, 'worker-a', 60_000);
    expect(report).toMatchObject({ status: 'job-failed', jobId });
    const job = await t.call('GET', `/v1/tenants/lease/imports/${jobId}`);
    expect(job.body.state).toBe('failed');
    expect(job.body.error).toBe(
      `Rows 1 to ${ROWS} were claimed ${MAX_CHUNK_CLAIMS + 1} times without being committed (each worker stopped or lost its lease before it finished); the rows before them are committed.`,
    );
    expect(await users()).toBe(0);
    expect(await runNextImportChunk(t.core, 'worker-b', 60_000)).toEqual({ status: 'idle' });
  });
});
