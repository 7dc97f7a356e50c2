import Docker from 'dockerode';
import { describe } from 'vitest';

/**
 * Docker integration tests run against a real engine. Without one they skip, unless
 * WVO_REQUIRE_DOCKER=1 (CI), where a missing engine is a failure, never a skip.
 */
export async function dockerAnswers(docker = new Docker()): Promise<boolean> {
  try {
    await docker.ping();
    return true;
  } catch {
    return false;
  }
}

const engineUp = await dockerAnswers();
if (!engineUp && process.env.WVO_REQUIRE_DOCKER === '1') {
  throw new Error('WVO_REQUIRE_DOCKER=1 but no Docker engine answers on the default socket (run .ci/ensure-docker.sh)');
}

/** `describe` that runs only when an engine answers (and fails the file when one is required). */
export const describeDocker: typeof describe = engineUp ? describe : (describe.skip as typeof describe);
export const dockerIsUp = engineUp;

