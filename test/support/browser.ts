import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { releaseWhenDone } from './wait.js';

/** Debian's chromium (what .ci/run installs), or CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Why the browser tests cannot run here, or undefined when they can. Outside CI a missing browser skips
 * them (saying so); in CI (CI=true) the tests run and fail on it.
 */
export function browserMissing(): string | undefined {
  if (fs.existsSync(CHROMIUM) || process.env.CI === 'true') return undefined;
  const reason = `No Chromium at ${CHROMIUM}: the browser tests are skipped (install Debian's chromium, or set CHROMIUM_PATH; with CI=true this fails)`;
  console.warn(reason);
  return reason;
}

/** Headless Chromium with a fresh profile, closed when the file's tests are done. */
export async function launchBrowser(): Promise<BrowserContext> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ovation-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 640, height: 480 },
  });
  releaseWhenDone(async () => {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  });
  return context;
}

/** Where tests leave screenshots (gitignored). */
export const ARTIFACTS = path.join(import.meta.dirname, '..', '..', 'test-artifacts');
