/**
 * Supply chain: the lockfile is committed, matches package.json, and pins every package to an
 * integrity hash, so `npm ci` installs exactly what was reviewed. (`npm audit --omit=dev` needs
 * the registry's advisory service and is run where it can be reached, not in this suite.)
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  lockfileVersion: number;
  packages: Record<string, { version?: string; resolved?: string; integrity?: string; link?: boolean; dependencies?: Record<string, string>; devDependencies?: Record<string, string> }>;
};

describe('supply chain', () => {
  it('has its lockfile under version control', () => {
    const tracked = execFileSync('git', ['ls-files', '--', 'package-lock.json'], { cwd: root, encoding: 'utf8' }).trim();
    expect(tracked).toBe('package-lock.json');
  });

  it('locks exactly the dependencies package.json declares', () => {
    expect(lock.lockfileVersion).toBeGreaterThanOrEqual(3);
    const rootEntry = lock.packages['']!;
    expect(rootEntry.dependencies).toEqual(manifest.dependencies);
    expect(rootEntry.devDependencies).toEqual(manifest.devDependencies);
    for (const name of [...Object.keys(manifest.dependencies), ...Object.keys(manifest.devDependencies)]) {
      expect(lock.packages[`node_modules/${name}`]?.version, name).toBeTruthy();
    }
  });

  it('pins every locked package to a version and its sha512 integrity hash', () => {
    const unpinned = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && !entry.link)
      .filter(([, entry]) => !entry.version || !entry.integrity?.startsWith('sha512-'))
      .map(([path]) => path);
    expect(unpinned).toEqual([]);
  });
});
