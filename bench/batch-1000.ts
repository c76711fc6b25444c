import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { hash } from '@node-rs/argon2';
import { ARGON2ID_PARAMS } from '../src/core/passwords/argon2-hasher.js';
import type { RawInsertFloor } from './floors.js';
import { median, post, timedPost, type LoopFigures, type RunningMuster } from './server-process.js';

export interface BatchFigures {
  withPasswordsMs: number;
  /** Without passwords and `notify=false`: the users, their seats and audit events. */
  withoutPasswordsMs: number;
  /** Without passwords, each user also invited by email (an invitation and an outbox message per user). */
  withoutPasswordsInvitedMs: number;
  hashMs: number;
  hashBoundMs: number;
  ratioToHashBound: number;
  /** The raw insert floor of a 1000-user batch (see floors.ts), measured right after each batch without passwords; undefined without a floor. */
  floorMs?: number;
  /** withoutPasswordsMs ÷ floorMs. */
  withoutPasswordsRatio?: number;
  /** withoutPasswordsInvitedMs ÷ floorMs. */
  withoutPasswordsInvitedRatio?: number;
  runs: { withPasswords: number[]; withoutPasswords: number[]; withoutPasswordsInvited: number[]; floor: number[] };
  loop: { withPasswords: LoopFigures; withoutPasswords: LoopFigures; withoutPasswordsInvited: LoopFigures };
}

let counter = 0;
function users(count: number, withPassword: boolean) {
  const run = `${Date.now().toString(36)}${counter++}`;
  return Array.from({ length: count }, (_, i) => ({
    email: `user${i}.${run}@example.com`,
    name: { givenName: 'Bench', familyName: `User ${i}` },
    ...(withPassword && { password: `Unusual-passphrase-${i}-${run}` }),
  }));
}

/** Median time of one argon2id hash with the server's parameters, measured in this process. */
export async function oneHashMs(samples = 40): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    await hash(`sample-password-${i}`, ARGON2ID_PARAMS);
    times.push(performance.now() - t);
  }
  return median(times);
}

async function timeBatch(muster: RunningMuster, tenant: string, withPassword: boolean, notify = true): Promise<{ ms: number; report: unknown }> {
  const res = await timedPost(muster.baseUrl, `/v1/tenants/${tenant}/users/batch${notify ? '' : '?notify=false'}`, { users: users(1000, withPassword) });
  if (res.status !== 200 || res.json.successCount !== 1000) throw new Error(`batch failed: ${res.status} ${JSON.stringify(res.json).slice(0, 300)}`);
  return { ms: res.ms, report: res.json };
}

/**
 * A batch of 1000 users with and without passwords; each figure the median of several runs.
 * Without passwords it is measured twice: with `notify=false`, as the single creates and the
 * imports are, and as sent by default, when every user is also invited by email.
 */
export async function benchBatch(muster: RunningMuster, runs = { withPasswords: 5, withoutPasswords: 9 }, floor?: RawInsertFloor): Promise<BatchFigures> {
  const tenant = `bench-${Date.now().toString(36)}`;
  await post(muster.baseUrl, '/v1/tenants', { id: tenant });
  await timeBatch(muster, tenant, false, false); // warm-up
  await timeBatch(muster, tenant, false);
  const floors: number[] = [];
  // The floor right after the batch it divides: parsing the same body, serialising that batch's report.
  const measureFloor = async (report: unknown) => {
    if (floor) floors.push(await floor.batchMs(JSON.stringify({ users: users(1000, false) }), report));
  };
  if (floor) await floor.batchMs(JSON.stringify({ users: users(1000, false) }), {}); // warm-up
  await muster.loop();
  const without: number[] = [];
  const invited: number[] = [];
  const loopWithout: LoopFigures[] = [];
  const loopInvited: LoopFigures[] = [];
  // Alternately, so that a drift of the machine's speed weighs on both alike.
  for (let i = 0; i < runs.withoutPasswords; i++) {
    const plain = await timeBatch(muster, tenant, false, false);
    loopWithout.push(await muster.loop());
    without.push(plain.ms);
    await measureFloor(plain.report);
    const withInvitations = await timeBatch(muster, tenant, false);
    loopInvited.push(await muster.loop());
    invited.push(withInvitations.ms);
    await measureFloor(withInvitations.report);
  }
  const withPw: number[] = [];
  const hashTimes: number[] = [];
  for (let i = 0; i < runs.withPasswords; i++) {
    hashTimes.push(await oneHashMs(20));
    withPw.push((await timeBatch(muster, tenant, true)).ms);
  }
  const loopWith = await muster.loop();
  const hashMs = median(hashTimes);
  const hashBoundMs = (1000 * hashMs) / availableParallelism();
  const floorMs = floors.length > 0 ? median(floors) : undefined;
  const worstLoop = (loops: LoopFigures[]): LoopFigures => loops.reduce((a, b) => (b.maxMs > a.maxMs ? b : a), { maxMs: 0, p99Ms: 0, meanMs: 0 });
  return {
    withPasswordsMs: median(withPw),
    withoutPasswordsMs: median(without),
    withoutPasswordsInvitedMs: median(invited),
    hashMs,
    hashBoundMs,
    ratioToHashBound: median(withPw) / hashBoundMs,
    ...(floorMs !== undefined && { floorMs, withoutPasswordsRatio: median(without) / floorMs, withoutPasswordsInvitedRatio: median(invited) / floorMs }),
    runs: { withPasswords: withPw, withoutPasswords: without, withoutPasswordsInvited: invited, floor: floors },
    loop: { withPasswords: loopWith, withoutPasswords: worstLoop(loopWithout), withoutPasswordsInvited: worstLoop(loopInvited) },
  };
}
