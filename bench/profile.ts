import { benchBatch } from './batch-1000.js';
import { postgresFloor, sqliteFloor } from './floors.js';
import { benchImport, type ImportFigures } from './import-users.js';
import { startMuster, startPostgres } from './server-process.js';
import { benchSingleCreates } from './single-creates.js';

/**
 * One scenario against one database, for a CPU profile of the server (or a quick figure):
 *   MUSTER_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npx tsx bench/profile.ts sqlite batch
 * Scenarios: batch (20 batches of 1000 without passwords and 20 with invitations, alternately,
 * each followed by its floor; MUSTER_BENCH_ROUNDS sets another count), import
 * (100,000 rows), million (1,000,000 rows; MUSTER_BENCH_ROWS sets another count), single
 * (50 connections, no password), single-pw (2 connections, with passwords).
 */
const [kind = 'sqlite', scenario = 'batch'] = process.argv.slice(2) as ['sqlite' | 'postgres', string];
const postgres = kind === 'postgres' ? await startPostgres({ durable: true }) : undefined;
const muster = await startMuster(kind, postgres);
const showImport = (r: ImportFigures) => console.log({ usersPerSecond: r.usersPerSecond, uploadSeconds: r.uploadSeconds, loop: r.loop, peakRssMiB: r.peakRssMiB });
try {
  if (scenario === 'batch') {
    const floor = kind === 'sqlite' ? sqliteFloor() : await postgresFloor(postgres!.adminUrl);
    const b = await benchBatch(muster, { withPasswords: 0, withoutPasswords: Number(process.env.MUSTER_BENCH_ROUNDS ?? 20) }, floor);
    await floor.close();
    const { withoutPasswordsMs, withoutPasswordsInvitedMs, floorMs, withoutPasswordsRatio, withoutPasswordsInvitedRatio, loop } = b;
    console.log({ withoutPasswordsMs, withoutPasswordsInvitedMs, floorMs, withoutPasswordsRatio, withoutPasswordsInvitedRatio, loop });
  }
  if (scenario === 'import') showImport(await benchImport(muster, 100_000));
  if (scenario === 'million') showImport(await benchImport(muster, Number(process.env.MUSTER_BENCH_ROWS ?? 1_000_000)));
  if (scenario === 'single') console.log((await benchSingleCreates(muster, { connections: 50, seconds: 10, withPassword: false })).requestsPerSecond);
  if (scenario === 'single-pw') console.log((await benchSingleCreates(muster, { connections: 2, seconds: 10, withPassword: true })).requestsPerSecond);
} finally {
  await muster.stop();
  await postgres?.stop();
}
