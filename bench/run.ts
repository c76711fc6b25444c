import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { benchBatch, oneHashMs } from './batch-1000.js';
import { postgresFloor, sqliteFloor } from './floors.js';
import { benchImport, type ImportFigures } from './import-users.js';
import { median, startMuster, startPostgres, type LoopFigures } from './server-process.js';
import { benchSingleCreates, hashBoundConcurrency, type LoadFigures } from './single-creates.js';

/**
 * `npm run bench`: starts Muster as its own process on SQLite and on PostgreSQL, drives it
 * over HTTP on 127.0.0.1, prints a table and writes bench/results/<date>-<db>.json.
 * Machines differ several times over in speed, so every target is a ratio: each figure (the
 * median of several runs) is divided by a floor measured in the same run, interleaved with it:
 * the raw insert floors of floors.ts (the database alone doing the same inserts) and the hash
 * bound (argon2id hashes with the server's parameters, spread over as many threads as cores).
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

/** One line of the table: a figure, the floor it is divided by (measured in the same run), their ratio and its target. */
interface Target {
  scenario: string;
  figure: string;
  floor: string;
  ratio?: number;
  target: string;
  met?: boolean;
}
type Row = [string, string, string, string, string, string, string];
const rows: Row[] = [];
const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
const worst = (loops: LoopFigures[]) => Math.max(...loops.map((l) => l.maxMs));
const medianRun = <T>(runs: T[], by: (r: T) => number): T => {
  const m = median(runs.map(by));
  return runs.reduce((best, r) => (Math.abs(by(r) - m) < Math.abs(by(best) - m) ? r : best));
};

try {
  for (const kind of kinds) {
    const startLoad = loadavg();
    const muster = await startMuster(kind, postgres);
    const floor = kind === 'sqlite' ? sqliteFloor() : await postgresFloor(postgres!.adminUrl);
    try {
      const log = (what: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${kind}: ${what}`);
      log('batches of 1000');
      const batch = await benchBatch(muster, settings.batch, floor);

      log(`imports of ${settings.importUsers} users`);
      const importRuns: ImportFigures[] = [];
      const importFloors: number[] = [];
      for (let i = 0; i < settings.imports; i++) {
        importRuns.push(await benchImport(muster, settings.importUsers));
        importFloors.push(await floor.importRowsPerSecond(settings.importUsers));
      }
      const importUsersPerSecond = median(importRuns.map((r) => r.usersPerSecond));
      const importFloorRowsPerSecond = median(importFloors);

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

      const plain = { requestsPerSecond: median(plainRuns.map((r) => r.requestsPerSecond)), p50Ms: median(plainRuns.map((r) => r.p50Ms)), p99Ms: median(plainRuns.map((r) => r.p99Ms)) };
      const passwordFigures = (runs: PasswordRun[]) => ({
        connections: runs[0]!.connections,
        requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
        hashBoundPerSecond: median(runs.map((r) => r.hashBoundPerSecond)),
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

      const ms = (v: number) => `${v.toFixed(1)} ms`;
      const perSecond = (v: number, unit: string) => `${Math.round(v).toLocaleString('en')} ${unit}/s`;
      const targets: Target[] = [
        { scenario: 'batch of 1000, no passwords, invited (default)', figure: ms(batch.withoutPasswordsInvitedMs), floor: ms(batch.floorMs!), ratio: batch.withoutPasswordsInvitedRatio!, target: '≤ 3', met: batch.withoutPasswordsInvitedRatio! <= 3 },
        { scenario: 'batch of 1000, no passwords, notify=false', figure: ms(batch.withoutPasswordsMs), floor: ms(batch.floorMs!), ratio: batch.withoutPasswordsRatio!, target: '≤ 3', met: batch.withoutPasswordsRatio! <= 3 },
        { scenario: 'batch of 1000 with passwords', figure: `${batch.withPasswordsMs.toFixed(0)} ms`, floor: `${batch.hashBoundMs.toFixed(0)} ms (hash bound)`, ratio: batch.ratioToHashBound, target: '≤ 1.05', met: batch.ratioToHashBound <= 1.05 },
        { scenario: `import of ${settings.importUsers.toLocaleString('en')} users`, figure: perSecond(importUsersPerSecond, 'users'), floor: perSecond(importFloorRowsPerSecond, 'rows'), ratio: importUsersPerSecond / importFloorRowsPerSecond, target: '≥ 0.5', met: importUsersPerSecond / importFloorRowsPerSecond >= 0.5 },
        { scenario: `single creates with password, ${withPw.connections} conn.`, figure: `${perSecond(withPw.requestsPerSecond, 'req')}, p99 ${withPw.p99Ms} ms`, floor: `${perSecond(withPw.hashBoundPerSecond, 'req')} (hash bound)`, ratio: withPw.ratioToHashBound, target: '≥ 0.9', met: withPw.ratioToHashBound >= 0.9 },
        { scenario: `single creates with password, ${withPw2x.connections} conn.`, figure: `${perSecond(withPw2x.requestsPerSecond, 'req')}, p99 ${withPw2x.p99Ms} ms`, floor: `${perSecond(withPw2x.hashBoundPerSecond, 'req')} (hash bound)`, ratio: withPw2x.ratioToHashBound, target: '(shown)' },
        { scenario: 'single creates, no password, 50 conn.', figure: `${perSecond(plain.requestsPerSecond, 'req')}, p50 ${plain.p50Ms} ms, p99 ${plain.p99Ms} ms`, floor: '', target: '(shown)' },
        { scenario: 'longest event-loop stall', figure: ms(longestStall), floor: '', target: '< 50 ms', met: longestStall < 50 },
      ];
      if (millionImport) {
        targets.push({ scenario: 'import of 1,000,000 users: peak RSS', figure: `${millionImport.peakRssMiB.toFixed(0)} MiB (${perSecond(millionImport.usersPerSecond, 'users')})`, floor: '', target: '< 300 MB', met: millionImport.peakRssMiB * 1.048576 < 300 });
      }
      for (const t of targets) rows.push([kind, t.scenario, t.figure, t.floor, t.ratio === undefined ? '' : t.ratio.toFixed(2), t.target, t.met === undefined ? '' : mark(t.met)]);

      const file = `bench/results/${date}-${kind}.json`;
      const summary = {
        targets,
        batchFloorMs: batch.floorMs,
        batchWithoutPasswordsInvitedRatio: batch.withoutPasswordsInvitedRatio,
        batchWithoutPasswordsRatio: batch.withoutPasswordsRatio,
        batchWithPasswordsRatio: batch.ratioToHashBound,
        batchWithoutPasswordsMs: batch.withoutPasswordsMs,
        batchWithoutPasswordsInvitedMs: batch.withoutPasswordsInvitedMs,
        importUsersPerSecond,
        importFloorRowsPerSecond,
        importRatio: importUsersPerSecond / importFloorRowsPerSecond,
        singleCreates: plain,
        singleCreatesWithPassword: withPw,
        singleCreatesWithPasswordTwiceTheConcurrency: withPw2x,
        longestEventLoopStallMs: longestStall,
        ...(millionImport && { millionImportPeakRssMiB: millionImport.peakRssMiB }),
      };
      const details = { batch, imports: importRuns, importFloorRowsPerSecond: importFloors, singleCreates: plainRuns, singleCreatesWithPassword: passwordRuns, singleCreatesWithPasswordTwiceTheConcurrency: passwordRuns2x, stalls, millionImport, representativeImport: medianRun(importRuns, (r) => r.usersPerSecond) };
      // The load average (1, 5, 15 minutes) when this database's run began and ended: other work on the machine weighs on every figure.
      writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), database: kind, machine, loadAverage: { start: startLoad, end: loadavg() }, quick, summary, details }, null, 2)}\n`);
      log(`wrote ${file}`);
    } finally {
      await floor.close();
      await muster.stop();
    }
  }
} finally {
  await postgres?.stop();
}
const width = [9, 48, 42, 28, 6, 8, 6];
console.log(`\nMuster benchmarks on ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}; load average now ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
for (const row of [['database', 'scenario', 'figure', 'floor', 'ratio', 'target', ''], ...rows]) console.log(row.map((c, i) => c.padEnd(width[i]!)).join(' '));
