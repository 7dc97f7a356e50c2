import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { connectMcp } from '../../common/src/mcp-client.js';
import { fetchRemoteStateFile, type DockerHost } from '../../controller/src/runtime/index.js';

/**
 * Reads and writes a lane's live state through MCP, so a test can prove two lanes serve ONE
 * database (a write through blue is seen by green), not two copies.
 */
export async function dispatchThrough(url: string, times: number, agent = 'live-state-probe'): Promise<void> {
  const mcp = await connectMcp(url, 'live-state-probe');
  try {
    for (let i = 0; i < times; i++) {
      const result = await mcp.call('dispatch', { agent });
      if (result.isError) throw new Error(`dispatch through ${url} failed: ${JSON.stringify(result.value)}`);
    }
  } finally {
    await mcp.close();
  }
}

/** The lane's task counts by status (orchestrator_status `.queue.by_status`). */
export async function queueByStatus(url: string): Promise<Record<string, number>> {
  const mcp = await connectMcp(url, 'live-state-probe');
  try {
    const result = await mcp.call('orchestrator_status');
    if (result.isError) throw new Error(`orchestrator_status through ${url} failed: ${JSON.stringify(result.value)}`);
    return (result.value as { queue: { by_status: Record<string, number> } }).queue.by_status;
  } finally {
    await mcp.close();
  }
}

/** Tasks no longer open: every dispatch moves one out of `open`. */
export function taken(byStatus: Record<string, number>): number {
  return Object.entries(byStatus).reduce((sum, [status, n]) => (status === 'open' ? sum : sum + n), 0);
}

/**
 * The task ids of every dispatch recorded in a live state volume on its host (the database and its
 * WAL fetched through the Docker API, read here): what the one live database holds, whichever lane wrote it.
 */
export async function dispatchedInVolume(host: DockerHost, volume: string): Promise<Set<string>> {
  const dir = mkdtempSync(join(tmpdir(), 'wvo-live-probe-'));
  try {
    const file = await fetchRemoteStateFile(host, volume, 'orchestrator.db', dir);
    const db = new Database(file);
    try {
      return new Set((db.prepare('SELECT task_id FROM dispatches').all() as Array<{ task_id: string }>).map((r) => r.task_id));
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
