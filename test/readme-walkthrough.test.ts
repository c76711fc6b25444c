/**
 * The README's walk-through and the import section after it, run as written: every ```sh
 * block of those sections, in order, in one bash session, in an empty directory. The server
 * the walk-through starts with `npm start` runs from its TypeScript sources (no build step:
 * the same program), and the command line's `node dist/cli/index.js` likewise; nothing else
 * of the text is changed. The walk-through takes its address from PORT, as a reader's shell may.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './helpers/free-port.js';

const REPO = join(import.meta.dirname, '..');
const TSX = pathToFileURL(join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;

/** The text of README.md from `heading` to the next heading of the same level. */
function section(readme: string, heading: string): string {
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "${heading}" section`);
  const level = heading.split(' ')[0]!;
  const rest = readme.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`^${level} `, 'm'));
  return end < 0 ? rest : rest.slice(0, end);
}

/** The ```sh blocks of a text, in order. */
function shellBlocks(text: string): string[] {
  return [...text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

describe("the README's walk-through and import section, run as written", () => {
  const dir = mkdtempSync(join(tmpdir(), 'muster-readme-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every block top to bottom against the server it starts', async () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const imports = section(readme, '## Importing and exporting users');
    const blocks = [...shellBlocks(section(readme, '## Walk-through')), ...shellBlocks(imports.slice(0, imports.indexOf('### How it holds up')))];
    expect(blocks.length).toBeGreaterThan(10);

    const port = await freePort();
    const script = [
      // `npm start` and the built CLI, from the sources: the same program without its build step.
      `npm() { if [ "$1" = start ]; then exec node --import ${TSX} ${join(REPO, 'src/server.ts')}; else command npm "$@"; fi; }`,
      ...blocks.map((block, i) => `${block.replaceAll('node dist/cli/index.js', `node --import ${TSX} ${join(REPO, 'src/cli/index.ts')}`)}\necho "\n::block ${i} rc=$?"`),
      'kill %1; wait',
    ].join('\n');

    const child = spawn('bash', ['-c', script], {
      cwd: dir,
      detached: true,
      env: { PATH: process.env.PATH ?? '', HOME: dir, PORT: String(port), HOST: '127.0.0.1', LANG: 'C.UTF-8' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the whole group has ended
    }
    const log = `${stdout}\n--- stderr ---\n${stderr.slice(-4000)}\n--- muster.log ---\n${(() => {
      try {
        return readFileSync(join(dir, 'muster.log'), 'utf8').slice(-4000);
      } catch {
        return '';
      }
    })()}`;
    expect(code, log).toBe(0);

    const rcs = [...stdout.matchAll(/^::block (\d+) rc=(\d+)$/gm)].map((m) => [Number(m[1]), Number(m[2])] as const);
    expect(rcs, log).toHaveLength(blocks.length);
    // The first import completes with one failed row (exit code 3, as the text says); every other block succeeds.
    const firstImport = blocks.findIndex((b) => b.includes('muster import users.csv'));
    expect(rcs.map(([i, rc]) => (i === firstImport ? rc === 3 : rc === 0)), log).not.toContain(false);

    // The walk-through: the server answered, the tenant, the user, the batch, the changes and the revoked key.
    expect(stdout).toContain('{"status":"ok"}');
    expect(stdout).toContain('"id":"walkthrough"');
    expect(stdout).toMatch(/HTTP\/1\.1 201 Created/);
    expect(stdout).toContain('"successCount":2');
    expect(stdout).toMatch(/"familyName":"Turing"/);
    expect(stdout).toMatch(/^204\n(.*\n)*401$/m);
    // The import section: 99,999 created and the bad row reported with its source; the rerun refused; the update; the export.
    expect(stdout).toMatch(/created: +99999/);
    expect(stdout).toMatch(/^7,not-an-email,INVALID_FIELD,email,/m);
    expect(stdout).toContain('already completed');
    expect(stdout).toMatch(/updated: +1/);
    expect(stdout).toMatch(/^email,userName,externalId,givenName,familyName/m);
    expect(stdout).toContain('"source":{"email":"not-an-email"}');
  }, 600_000);
});
