import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { hash } from '@node-rs/argon2';
import { ARGON2ID_PARAMS } from '../src/core/passwords/argon2-hasher.js';
import { BENCH_ADMIN_TOKEN, post, type LoopFigures, type RunningMuster } from './server-process.js';

export interface ImportFigures {
  users: number;
  /** From the first byte of the upload to the job's `completed` state. */
  seconds: number;
  usersPerSecond: number;
  /** The upload alone (the 202 answer comes once every row is stored). */
  uploadSeconds: number;
  loop: LoopFigures;
  peakRssMiB: number;
}

/**
 * Rows of a CSV upload: email, names and a `passwordHash` column holding an argon2id PHC string
 * computed once with the server's parameters and reused on every row (an import from another
 * system carries hashes, never plaintext, so no row is hashed on the way in).
 */
function csvBody(count: number, run: string, passwordHash: string): Readable {
  const rowsPerPiece = 5000;
  let next = 0;
  return Readable.from(
    (function* () {
      yield 'email,givenName,familyName,passwordHash\n';
      while (next < count) {
        const end = Math.min(count, next + rowsPerPiece);
        let piece = '';
        for (let i = next; i < end; i++) piece += `user${i}.${run}@example.com,Import,User ${i},"${passwordHash}"\n`;
        next = end;
        yield piece;
      }
    })(),
  );
}

/**
 * Imports `count` users through POST /v1/tenants/{t}/imports (CSV) and polls the job until it
 * completes. A small import runs first, unmeasured, so that the figures are those of a server
 * that has served imports before (the first answer of each route builds its serializer).
 */
export async function benchImport(muster: RunningMuster, count: number): Promise<ImportFigures> {
  await importOnce(muster, 100);
  return importOnce(muster, count);
}

async function importOnce(muster: RunningMuster, count: number): Promise<ImportFigures> {
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const tenant = `import-${run}`;
  await post(muster.baseUrl, '/v1/tenants', { id: tenant });
  const passwordHash = await hash('Imported-passphrase-from-elsewhere', ARGON2ID_PARAMS);
  await muster.loop();
  const started = performance.now();
  const response = await fetch(`${muster.baseUrl}/v1/tenants/${tenant}/imports?notify=false`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, 'content-type': 'text/csv' },
    body: csvBody(count, run, passwordHash),
    duplex: 'half',
  } as unknown as RequestInit);
  const job = (await response.json()) as { id: string; state: string };
  const uploadSeconds = (performance.now() - started) / 1000;
  if (response.status !== 202) throw new Error(`import refused: ${response.status} ${JSON.stringify(job).slice(0, 300)}`);
  for (;;) {
    const res = await fetch(`${muster.baseUrl}/v1/tenants/${tenant}/imports/${job.id}`, { headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` } });
    const state = (await res.json()) as { state: string; created: number; processed: number; failed?: number };
    if (state.state === 'completed') {
      if (state.created !== count) throw new Error(`import created ${state.created} of ${count} users: ${JSON.stringify(state).slice(0, 600)}`);
      break;
    }
    if (state.state !== 'queued' && state.state !== 'running') throw new Error(`import ended ${state.state}: ${JSON.stringify(state).slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (performance.now() - started) / 1000;
  return { users: count, seconds, usersPerSecond: count / seconds, uploadSeconds, loop: await muster.loop(), peakRssMiB: muster.peakRssMiB() };
}
