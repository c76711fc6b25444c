import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { benchBatch, oneHashMs } from './batch-1000.js';
import { benchImport, type ImportFigures } from './import-users.js';
import { median, startMuster, startPostgres, type LoopFigures } from './server-process.js';
import { benchSingleCreates, hashBoundConcurrency, type LoadFigures } from './single-creates.js';

/**
 * `npm run bench`: starts Muster as its own process on SQLite and on PostgreSQL, drives it
 * over HTTP on 127.0.0.1, prints a table and writes bench/results/<date>-<db>.json.
 * Every figure is the median of several runs; each ratio is measured in the same run as its
 * reference (the hash time right before the run it divides).
 *
 *   npm run bench                      both databases, every scenario but the million
 *   npm run bench -- sqlite            one database
 *   npm run bench -- --million         also the peak RSS of a 1,000,000-user import (slow)
 *   npm run bench -- --quick           fewer and shorter runs (a smoke test, not a result)
 */
const args = process.argv.slice(2);
const million = args.includes('--million');
const quick = args.includes('--quick');
const only = args.find((a) => !a.startsWith('--'));
const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
const kinds = (['sqlite', 'postgres'] as const).filter((k) => !only || k === only);
const postgres = kinds.includes('postgres') ? await startPostgres({ durable: true }) : undefined;
const date = new Date().toISOString().slice(0, 10);
const settings = quick
  ? { batch: { withPasswords: 1, withoutPasswords: 3 }, imports: 1, importUsers: 20_000, loadRuns: 1, loadSeconds: 5, passwordLoadSeconds: 5 }
  : { batch: { withPasswords: 3, withoutPasswords: 9 }, imports: 3, importUsers: 100_000, loadRuns: 3, loadSeconds: 15, passwordLoadSeconds: 10 };
mkdirSync('bench/results', { recursive: true });

type Row = [string, string, string, string];
const rows: Row[] = [];
const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
const worst = (loops: LoopFigures[]) => Math.max(...loops.map((l) => l.maxMs));
const medianRun = <T>(runs: T[], by: (r: T) => number): T => {
  const m = median(runs.map(by));
  return runs.reduce((best, r) => (Math.abs(by(r) - m) < Math.abs(by(best) - m) ? r : best));
};

try {
  for (const kind of kinds) {
    const muster = await startMuster(kind, postgres);
    try {
      const log = (what: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${kind}: ${what}`);
      log('batches of 1000');
      const batch = await benchBatch(muster, settings.batch);

      log(`imports of ${settings.importUsers} users`);
      const importRuns: ImportFigures[] = [];
      for (let i = 0; i < settings.imports; i++) importRuns.push(await benchImport(muster, settings.importUsers));
      const importUsersPerSecond = median(importRuns.map((r) => r.usersPerSecond));

      log(`single creates without password, 50 connections, ${settings.loadSeconds} s`);
      const plainRuns: LoadFigures[] = [];
      for (let i = 0; i < settings.loadRuns; i++) plainRuns.push(await benchSingleCreates(muster, { connections: 50, seconds: settings.loadSeconds, withPassword: false }));

      const concurrency = hashBoundConcurrency();
      type PasswordRun = LoadFigures & { hashMs: number; hashBoundPerSecond: number; ratioToHashBound: number };
      const passwordLoad = async (connections: number): Promise<PasswordRun[]> => {
        log(`single creates with password, ${connections} connections, ${settings.passwordLoadSeconds} s`);
        const runs: PasswordRun[] = [];
        for (let i = 0; i < settings.loadRuns; i++) {
          // The hash time right before and right after the run, so that a drift of the machine's
          // speed during the run weighs on the bound as on the run.
          const before = await oneHashMs(30);
          const load = await benchSingleCreates(muster, { connections, seconds: settings.passwordLoadSeconds, withPassword: true });
          const hashMs = (before + (await oneHashMs(30))) / 2;
          const hashBoundPerSecond = (1000 / hashMs) * availableParallelism();
          runs.push({ ...load, hashMs, hashBoundPerSecond, ratioToHashBound: load.requestsPerSecond / hashBoundPerSecond });
        }
        return runs;
      };
      // As many requests in flight as the hasher has threads (the hash bound's own concurrency),
      // then twice as many, so that one request's hash overlaps another's parsing and database work.
      const passwordRuns = await passwordLoad(concurrency);
      const passwordRuns2x = await passwordLoad(2 * concurrency);

      let millionImport: ImportFigures | undefined;
      if (million) {
        // In a server of its own, so that its peak memory is the import's alone.
        log('import of 1,000,000 users');
        const fresh = await startMuster(kind, postgres);
        try {
          millionImport = await benchImport(fresh, 1_000_000);
        } finally {
          await fresh.stop();
        }
      }

      const importTarget = kind === 'sqlite' ? 50_000 : 40_000;
      const batchTarget = kind === 'sqlite' ? 40 : 80;
      const loadTarget = kind === 'sqlite' ? 5_000 : 2_000;
      const plain = { requestsPerSecond: median(plainRuns.map((r) => r.requestsPerSecond)), p50Ms: median(plainRuns.map((r) => r.p50Ms)), p99Ms: median(plainRuns.map((r) => r.p99Ms)) };
      const passwordFigures = (runs: PasswordRun[]) => ({
        connections: runs[0]!.connections,
        requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
        ratioToHashBound: median(runs.map((r) => r.ratioToHashBound)),
        p99Ms: median(runs.map((r) => r.p99Ms)),
      });
      const withPw = passwordFigures(passwordRuns);
      const withPw2x = passwordFigures(passwordRuns2x);
      const stalls = {
        batchWithPasswords: batch.loop.withPasswords.maxMs,
        batchWithoutPasswords: batch.loop.withoutPasswords.maxMs,
        batchWithoutPasswordsInvited: batch.loop.withoutPasswordsInvited.maxMs,
        import: worst(importRuns.map((r) => r.loop)),
        singleCreates: worst(plainRuns.map((r) => r.loop)),
        singleCreatesWithPassword: worst([...passwordRuns, ...passwordRuns2x].map((r) => r.loop)),
        ...(millionImport && { importMillion: millionImport.loop.maxMs }),
      };
      const longestStall = Math.max(...Object.values(stalls));

      rows.push([kind, 'batch of 1000 with passwords', `${batch.ratioToHashBound.toFixed(3)} × hash bound (${batch.withPasswordsMs.toFixed(0)} ms; bound ${batch.hashBoundMs.toFixed(0)} ms)`, `≤ 1.11 ${mark(batch.ratioToHashBound <= 1.11)}`]);
      rows.push([kind, 'batch of 1000 without passwords', `${batch.withoutPasswordsMs.toFixed(1)} ms`, `≤ ${batchTarget} ms ${mark(batch.withoutPasswordsMs <= batchTarget)}`]);
      rows.push([kind, '  the same, each user invited by email', `${batch.withoutPasswordsInvitedMs.toFixed(1)} ms`, '(no target)']);
      rows.push([kind, `import of ${settings.importUsers.toLocaleString('en')} users`, `${Math.round(importUsersPerSecond).toLocaleString('en')} users/s`, `≥ ${importTarget.toLocaleString('en')} ${mark(importUsersPerSecond >= importTarget)}`]);
      rows.push([kind, 'single creates, no password, 50 conn.', `${Math.round(plain.requestsPerSecond)} req/s, p50 ${plain.p50Ms} ms, p99 ${plain.p99Ms} ms`, `≥ ${loadTarget} req/s ${mark(plain.requestsPerSecond >= loadTarget)}`]);
      for (const figures of [withPw, withPw2x]) {
        rows.push([kind, `single creates, password, ${figures.connections} conn.`, `${figures.ratioToHashBound.toFixed(3)} × hash bound (${Math.round(figures.requestsPerSecond)} req/s), p99 ${figures.p99Ms} ms`, `≥ 0.90, p99 < 100 ms ${mark(figures.ratioToHashBound >= 0.9 && figures.p99Ms < 100)}`]);
      }
      rows.push([kind, 'longest event-loop stall', `${longestStall.toFixed(1)} ms`, `< 50 ms ${mark(longestStall < 50)}`]);
      if (millionImport) rows.push([kind, 'import of 1,000,000 users: peak RSS', `${millionImport.peakRssMiB.toFixed(0)} MiB (${Math.round(millionImport.usersPerSecond).toLocaleString('en')} users/s)`, `< 300 MB ${mark(millionImport.peakRssMiB * 1.048576 < 300)}`]);

      const file = `bench/results/${date}-${kind}.json`;
      const summary = {
        batchWithPasswordsRatio: batch.ratioToHashBound,
        batchWithoutPasswordsMs: batch.withoutPasswordsMs,
        batchWithoutPasswordsInvitedMs: batch.withoutPasswordsInvitedMs,
        importUsersPerSecond,
        singleCreates: plain,
        singleCreatesWithPassword: withPw,
        singleCreatesWithPasswordTwiceTheConcurrency: withPw2x,
        longestEventLoopStallMs: longestStall,
        ...(millionImport && { millionImportPeakRssMiB: millionImport.peakRssMiB }),
      };
      const details = { batch, imports: importRuns, singleCreates: plainRuns, singleCreatesWithPassword: passwordRuns, singleCreatesWithPasswordTwiceTheConcurrency: passwordRuns2x, stalls, millionImport, representativeImport: medianRun(importRuns, (r) => r.usersPerSecond) };
      writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), database: kind, machine, quick, summary, details }, null, 2)}\n`);
      log(`wrote ${file}`);
    } finally {
      await muster.stop();
    }
  }
} finally {
  await postgres?.stop();
}
const width = [9, 40, 62, 24];
console.log(`\nMuster benchmarks on ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}\n`);
for (const row of [['database', 'scenario', 'measured', 'target'], ...rows]) console.log(row.map((c, i) => c.padEnd(width[i]!)).join(' '));
