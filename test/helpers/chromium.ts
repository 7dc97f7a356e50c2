import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { describe } from 'vitest';

/**
 * Browser tests drive Debian's `chromium` package through playwright-core. Without it they
 * skip, unless WVO_REQUIRE_DOCKER=1 or CI is set (as .ci/run does, after .ci/ensure-docker.sh
 * installed it), where a missing browser is a failure, never a skip: mirrors helpers/docker.ts.
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';

const present = existsSync(CHROMIUM_PATH);
const required = process.env.WVO_REQUIRE_DOCKER === '1' || Boolean(process.env.CI);
if (!present && required) {
  throw new Error(`CI or WVO_REQUIRE_DOCKER=1 is set but ${CHROMIUM_PATH} is missing (run .ci/ensure-docker.sh)`);
}

export const describeChromium: typeof describe = present ? describe : (describe.skip as typeof describe);
export const chromiumIsPresent = present;

// Offline and quiet: no sandbox (root in a container), no GPU, nothing that phones home.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A headless browser with a fresh profile; `close` stops it and removes the profile. */
export async function launchChromium(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'wvo-test-chromium-'));
  try {
    // playwright passes the profile as --user-data-dir (it refuses the flag in `args`).
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: FLAGS });
    return {
      context,
      close: async () => {
        await context.close().catch(() => undefined);
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
}
