import { promises as fs, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { LANE_MODES, LANE_ROLES } from '../lane-runtime.js';

/**
 * Local lanes outlive the command that started them (`wvo lane start` exits), so each lane is a
 * record file `<runDir>/<name>.json` next to its log `<name>.log`; a new runtime instance reads
 * them back and checks the pids, like the docker runtime reads labels.
 */
export const localLaneRecordSchema = z.object({
  name: z.string(),
  pid: z.number().int(),
  port: z.number().int(),
  url: z.string(),
  image: z.string(),
  tree: z.string(),
  main: z.string(),
  stateDir: z.string(),
  dryRun: z.boolean(),
  /** Absent in records written before modes were recorded. */
  mode: z.enum(LANE_MODES).optional(),
  role: z.enum(LANE_ROLES),
  deploymentId: z.string().optional(),
  /** Another app than our worker: its name, health spec and MCP path. */
  app: z.string().optional(),
  health: z.string().optional(),
  mcpPath: z.string().optional(),
  /** Spawned, not yet ready: port and url are unknown (0, ''). */
  starting: z.boolean().optional(),
  startedAt: z.string(),
  stoppedAt: z.string().optional(),
});
export type LocalLaneRecord = z.output<typeof localLaneRecordSchema>;

export class ProcessTable {
  constructor(readonly runDir: string) {}

  /**
   * The value of `WVO_LANE_KEY` in a lane process's environment: which table and lane it belongs
   * to, so a process whose record was never written can still be found (`findKeyed`).
   */
  laneKey(name: string): string {
    return join(this.runDir, name);
  }

  recordPath(name: string): string {
    return join(this.runDir, `${name}.json`);
  }

  logPath(name: string): string {
    return join(this.runDir, `${name}.log`);
  }

  async write(record: LocalLaneRecord): Promise<void> {
    await fs.mkdir(this.runDir, { recursive: true });
    const tmp = `${this.recordPath(record.name)}.${process.pid}.tmp`;
    await fs.writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`);
    await fs.rename(tmp, this.recordPath(record.name));
  }

  /**
   * The same, synchronously: called right after a spawn, so no event-loop turn separates the
   * child's birth from its record (a controller killed in between would orphan the child).
   */
  writeSync(record: LocalLaneRecord): void {
    mkdirSync(this.runDir, { recursive: true });
    const tmp = `${this.recordPath(record.name)}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(tmp, this.recordPath(record.name));
  }

  async read(name: string): Promise<LocalLaneRecord | undefined> {
    try {
      return localLaneRecordSchema.parse(JSON.parse(await fs.readFile(this.recordPath(name), 'utf8')));
    } catch {
      return undefined;
    }
  }

  async all(): Promise<LocalLaneRecord[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.runDir);
    } catch {
      return [];
    }
    const records = await Promise.all(names.filter((n) => n.endsWith('.json')).map((n) => this.read(n.slice(0, -5))));
    return records.filter((r): r is LocalLaneRecord => r !== undefined).sort((a, b) => a.name.localeCompare(b.name));
  }

  async remove(name: string): Promise<void> {
    await fs.rm(this.recordPath(name), { force: true });
    await fs.rm(this.logPath(name), { force: true });
  }
}

/** Alive and not a zombie (a reparented lane may wait unreaped under an init that does not reap). */
export function isAlive(pid: number, expectMain?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/^\d+ \(.*\) Z/.test(stat)) return false;
    // Guard against pid reuse: the process must still be running our worker.
    if (expectMain && !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(expectMain)) return false;
  } catch {
    /* no /proc (not Linux): trust kill(0) */
  }
  return true;
}

/** The `{"event":"listening","port":N}` line a worker prints on stdout (pure). */
export function findListening(output: string): { port: number; url?: string } | undefined {
  for (const line of output.split('\n')) {
    if (!line.includes('"listening"')) continue;
    try {
      const event = JSON.parse(line) as { event?: string; port?: unknown; url?: unknown };
      if (event.event === 'listening' && typeof event.port === 'number') return { port: event.port, ...(typeof event.url === 'string' ? { url: event.url } : {}) };
    } catch {
      /* not JSON */
    }
  }
  return undefined;
}

export const LANE_KEY_ENV = 'WVO_LANE_KEY';

/**
 * Live processes of this user whose environment says `WVO_LANE_KEY=<key>` (Linux `/proc`; empty
 * elsewhere). A controller killed between a lane's spawn and its record leaves such a process.
 */
export function findKeyed(key: string): number[] {
  return processesWithEnv(LANE_KEY_ENV, key);
}

/** Live (not zombie) processes of this user with `name=value` in their environment, ascending pids (Linux `/proc`; empty elsewhere). */
export function processesWithEnv(name: string, value: string): number[] {
  const needle = `${name}=${value}`;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(needle)) continue;
      if (isAlive(Number(entry))) pids.push(Number(entry));
    } catch {
      /* gone, or another user's */
    }
  }
  return pids.sort((a, b) => a - b);
}
