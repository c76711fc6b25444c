import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { hash } from '@node-rs/argon2';
import { ARGON2ID_PARAMS } from '../src/core/passwords/argon2-hasher.js';
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
  runs: { withPasswords: number[]; withoutPasswords: number[]; withoutPasswordsInvited: number[] };
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

async function timeBatch(muster: RunningMuster, tenant: string, withPassword: boolean, notify = true): Promise<number> {
  const res = await timedPost(muster.baseUrl, `/v1/tenants/${tenant}/users/batch${notify ? '' : '?notify=false'}`, { users: users(1000, withPassword) });
  if (res.status !== 200 || res.json.successCount !== 1000) throw new Error(`batch failed: ${res.status} ${JSON.stringify(res.json).slice(0, 300)}`);
  return res.ms;
}

/**
 * A batch of 1000 users with and without passwords; each figure the median of several runs.
 * Without passwords it is measured twice: with `notify=false`, as the single creates and the
 * imports are, and as sent by default, when every user is also invited by email.
 */
export async function benchBatch(muster: RunningMuster, runs = { withPasswords: 5, withoutPasswords: 9 }): Promise<BatchFigures> {
  const tenant = `bench-${Date.now().toString(36)}`;
  await post(muster.baseUrl, '/v1/tenants', { id: tenant });
  await timeBatch(muster, tenant, false, false); // warm-up
  await timeBatch(muster, tenant, false);
  await muster.loop();
  const without: number[] = [];
  for (let i = 0; i < runs.withoutPasswords; i++) without.push(await timeBatch(muster, tenant, false, false));
  const loopWithout = await muster.loop();
  const invited: number[] = [];
  for (let i = 0; i < runs.withoutPasswords; i++) invited.push(await timeBatch(muster, tenant, false));
  const loopInvited = await muster.loop();
  const withPw: number[] = [];
  const hashTimes: number[] = [];
  for (let i = 0; i < runs.withPasswords; i++) {
    hashTimes.push(await oneHashMs(20));
    withPw.push(await timeBatch(muster, tenant, true));
  }
  const loopWith = await muster.loop();
  const hashMs = median(hashTimes);
  const hashBoundMs = (1000 * hashMs) / availableParallelism();
  return {
    withPasswordsMs: median(withPw),
    withoutPasswordsMs: median(without),
    withoutPasswordsInvitedMs: median(invited),
    hashMs,
    hashBoundMs,
    ratioToHashBound: median(withPw) / hashBoundMs,
    runs: { withPasswords: withPw, withoutPasswords: without, withoutPasswordsInvited: invited },
    loop: { withPasswords: loopWith, withoutPasswords: loopWithout, withoutPasswordsInvited: loopInvited },
  };
}
