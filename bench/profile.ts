import { benchBatch } from './batch-1000.js';
import { benchImport } from './import-users.js';
import { startMuster, startPostgres } from './server-process.js';
import { benchSingleCreates } from './single-creates.js';

/**
 * One scenario against one database, for a CPU profile of the server:
 *   MUSTER_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npx tsx bench/profile.ts sqlite batch|import|single
 */
const [kind = 'sqlite', scenario = 'batch'] = process.argv.slice(2) as ['sqlite' | 'postgres', string];
const postgres = kind === 'postgres' ? await startPostgres({ durable: true }) : undefined;
const muster = await startMuster(kind, postgres);
try {
  if (scenario === 'batch') { const b = await benchBatch(muster, { withPasswords: 0, withoutPasswords: 20 }); console.log(b.withoutPasswordsMs, b.withoutPasswordsInvitedMs, b.loop); }
  if (scenario === 'import') { const r = await benchImport(muster, 100_000); console.log(r.usersPerSecond, r.uploadSeconds, r.loop, r.peakRssMiB); }
  if (scenario === 'single-pw') console.log((await benchSingleCreates(muster, { connections: 2, seconds: 10, withPassword: true })).requestsPerSecond);
  if (scenario === 'million') { const r = await benchImport(muster, Number(process.env.N ?? 1_000_000)); console.log(r.usersPerSecond, r.uploadSeconds, r.loop, r.peakRssMiB); }
  if (scenario === 'single') console.log((await benchSingleCreates(muster, { connections: 50, seconds: 10, withPassword: false })).requestsPerSecond);
} finally {
  await muster.stop();
  await postgres?.stop();
}
