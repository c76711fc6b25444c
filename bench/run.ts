import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { benchBatch } from './batch-1000.js';
import { startMuster, startPostgres } from './server-process.js';

/**
 * `npm run bench`: starts Muster as its own process on SQLite and on PostgreSQL, drives it
 * over HTTP on 127.0.0.1, prints a table and writes bench/results/<date>-<db>.json.
 */
const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
const only = process.argv[2];
const kinds = (['sqlite', 'postgres'] as const).filter((k) => !only || k === only);
const postgres = kinds.includes('postgres') ? await startPostgres({ durable: true }) : undefined;
const date = new Date().toISOString().slice(0, 10);
mkdirSync('bench/results', { recursive: true });
const rows: string[][] = [];
try {
  for (const kind of kinds) {
    const muster = await startMuster(kind, postgres);
    try {
      const batch = await benchBatch(muster);
      rows.push([kind, 'batch of 1000 with passwords', `${batch.withPasswordsMs.toFixed(0)} ms (${batch.ratioToHashBound.toFixed(3)} × hash bound ${batch.hashBoundMs.toFixed(0)} ms)`]);
      rows.push([kind, 'batch of 1000 without passwords', `${batch.withoutPasswordsMs.toFixed(1)} ms`]);
      const file = `bench/results/${date}-${kind}.json`;
      writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), database: kind, machine, batch }, null, 2)}\n`);
    } finally {
      await muster.stop();
    }
  }
} finally {
  await postgres?.stop();
}
const width = [10, 34, 50];
console.log(`\nMuster benchmarks on ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}\n`);
for (const row of [['database', 'scenario', 'figure'], ...rows]) console.log(row.map((c, i) => c.padEnd(width[i]!)).join(' '));
