/**
 * Debian's Chromium (`apt-get install chromium`, done by .ci/run), driven by playwright-core.
 * No browser is downloaded. Pages are opened under a made-up host name that the browser maps to
 * 127.0.0.1 (`http://muster.test:<port>`), so the page is seen as a site on an ordinary,
 * non-loopback address: a CSP or a link that only works on localhost fails here as it would
 * for a user.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.MUSTER_CHROMIUM ?? '/usr/bin/chromium';

/** The host name pages are opened under; the browser resolves it to 127.0.0.1. */
export const TEST_HOST = 'muster.test';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: run \`apt-get install -y chromium\` (.ci/run does)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--host-resolver-rules=MAP ${TEST_HOST} 127.0.0.1`,
    ],
  });
}

/** `http://127.0.0.1:PORT/…` as the browser should open it: `http://muster.test:PORT/…`. */
export function browserUrl(baseUrl: string, path = '/'): string {
  const url = new URL(path, baseUrl);
  url.hostname = TEST_HOST;
  return url.toString();
}

let shotsDir: string | undefined;

/**
 * Where the browser tests save their screenshots: the README's `docs/screenshots/` when
 * `MUSTER_SCREENSHOTS=1` (`npm run screenshots`), otherwise a temporary directory, so that an
 * ordinary test run takes the same pictures without changing the checkout.
 */
export function screenshotDir(): string {
  if (shotsDir) return shotsDir;
  shotsDir =
    process.env.MUSTER_SCREENSHOTS === '1'
      ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))
      : mkdtempSync(join(tmpdir(), 'muster-shots-'));
  mkdirSync(shotsDir, { recursive: true });
  return shotsDir;
}
