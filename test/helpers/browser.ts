/**
 * Headless Chromium for browser tests: Debian's /usr/bin/chromium (apt-get install chromium) driven by
 * playwright-core, which ships no browser of its own. A fresh profile per launch, and flags that keep Chromium
 * from calling home (the machine has no network beyond the package registries).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { TweetpipeError } from '../../src/errors.ts';

export interface ChromiumSession {
  context: BrowserContext;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** `CHROMIUM_PATH` overrides the executable (default /usr/bin/chromium). */
export async function launchChromium(
  opts: { viewport?: { width: number; height: number } } = {},
): Promise<ChromiumSession> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath))
    throw new TweetpipeError(
      'DEPENDENCY_MISSING',
      `no Chromium at ${executablePath}: apt-get install -y chromium (or set CHROMIUM_PATH)`,
    );
  // Playwright refuses --user-data-dir in args; a persistent context on a fresh directory is the same thing.
  const profile = await mkdtemp(join(tmpdir(), 'tweetpipe-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: ARGS,
      viewport: opts.viewport ?? { width: 1280, height: 800 },
      timeout: 30_000,
    });
    return {
      context,
      close: async () => {
        await context.close();
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(profile, { recursive: true, force: true });
    throw err;
  }
}
