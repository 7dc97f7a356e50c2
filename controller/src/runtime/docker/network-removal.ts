import type Docker from 'dockerode';
import type { Clock } from '../../../../common/src/clock.js';

export interface NetworkRemoval {
  /** Gone (or never there). */
  removed: boolean;
  attempts: number;
  /** The engine's last refusal, when it is still there. */
  error?: string;
  /** Containers that were still attached and got disconnected. */
  disconnected: string[];
}

/** The engine refuses to remove a network while an endpoint is attached (a stopping container keeps one briefly). */
export function isActiveEndpointsError(error: unknown): boolean {
  return /active endpoints/i.test((error as Error)?.message ?? '');
}

function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: number })?.statusCode === 404;
}

/**
 * Remove `name` even when containers are still attached: disconnect them (force), then remove,
 * retrying briefly on "has active endpoints" (the engine releases endpoints asynchronously).
 * Never throws: the caller decides how loudly a leftover network is reported.
 */
export async function removeNetwork(docker: Docker, name: string, clock: Clock, options: { attempts?: number; delayMs?: number } = {}): Promise<NetworkRemoval> {
  const attempts = options.attempts ?? 10;
  const delayMs = options.delayMs ?? 300;
  const network = docker.getNetwork(name);
  const disconnected: string[] = [];
  let error: string | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const info = (await network.inspect()) as { Containers?: Record<string, { Name?: string }> };
      for (const [id, c] of Object.entries(info.Containers ?? {})) {
        await network.disconnect({ Container: id, Force: true }).catch(() => undefined);
        if (!disconnected.includes(c.Name ?? id)) disconnected.push(c.Name ?? id);
      }
      await network.remove();
      return { removed: true, attempts: attempt, disconnected };
    } catch (caught) {
      if (isNotFound(caught)) return { removed: true, attempts: attempt, disconnected };
      error = (caught as Error).message;
      if (!isActiveEndpointsError(caught)) return { removed: false, attempts: attempt, error, disconnected };
      if (attempt < attempts) await clock.sleep(delayMs);
    }
  }
  return { removed: false, attempts, ...(error ? { error } : {}), disconnected };
}
