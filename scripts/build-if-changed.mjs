#!/usr/bin/env node
/**
 * Runs `npm run build` only when the build's inputs changed since the last build: `npm start`
 * then starts in about a second instead of compiling every time. The inputs are fingerprinted
 * (path, size and modification time of every file under src/, console/ and scripts/, and of the root
 * build settings), so an edit, a new file, a deleted file or a `git checkout` all count as a
 * change. Uses only Node's own modules: it also runs on a production install (no TypeScript),
 * where an up-to-date build is all it needs.
 *
 * `--install` (npm's `prepare`, run by `npm install` and `npm ci`): build right after the
 * install, so that the first `npm start` starts at once; on an install without the build tools
 * (`--omit=dev`) it says so and leaves the install to succeed.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stampFile = join(root, 'dist', '.build-fingerprint');
const INPUT_DIRS = ['src', 'console', 'scripts'];
const ROOT_FILE = /^(package\.json|tsconfig(\.[\w-]+)?\.json|vite\.config\.[cm]?[jt]s)$/;
const SKIP_DIRS = new Set(['node_modules', 'dist', '.vite']);

function* files(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) yield* files(path);
    } else if (entry.isFile()) {
      yield path;
    }
  }
}

function fingerprint() {
  const paths = [...INPUT_DIRS.flatMap((d) => [...files(join(root, d))]), ...readdirSync(root).filter((n) => ROOT_FILE.test(n)).map((n) => join(root, n))].sort();
  const hash = createHash('sha256');
  for (const path of paths) {
    const { size, mtimeMs } = statSync(path);
    hash.update(`${relative(root, path)}\0${size}\0${Math.trunc(mtimeMs)}\n`);
  }
  return hash.digest('hex');
}

const current = fingerprint();
const built = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : '';
if (built === current && existsSync(join(root, 'dist', 'server.js'))) process.exit(0);

const duringInstall = process.argv.includes('--install');

if (!existsSync(join(root, 'node_modules', '.bin', 'tsc'))) {
  if (duringInstall) {
    console.error('No build tools in this install (--omit=dev): not building. Run the build made elsewhere with `npm run serve`.');
    process.exit(0);
  }
  console.error(
    existsSync(join(root, 'dist', 'server.js'))
      ? 'The sources changed since dist/ was built, and this install has no build tools (npm prune --omit=dev). Build on a machine with the dev dependencies (npm ci && npm run build) and copy dist/, or run the existing build as it is with `npm run serve`.'
      : 'There is no build in dist/ and this install has no build tools (npm prune --omit=dev). Run `npm ci && npm run build` first, then prune.',
  );
  process.exit(1);
}

console.error(
  duringInstall
    ? 'Building Muster once after the install, so that npm start starts at once…'
    : built === ''
      ? 'Building Muster (first start only; later starts skip this while the sources are unchanged)…'
      : 'Sources changed since the last build: rebuilding…',
);
const result = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
if (result.status !== 0) process.exit(result.status ?? 1);
mkdirSync(dirname(stampFile), { recursive: true });
writeFileSync(stampFile, `${current}\n`);
