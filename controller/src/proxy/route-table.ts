import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { z } from 'zod';
import { ProxyError } from './errors.js';

/**
 * The persisted route table: which lanes exist, which one is active and the weighted candidate.
 * Declared once, read back through it. `canary` is optional, so tables written before weighted
 * routing existed still load (as "no split").
 */
export const RouteTableSchema = z.object({
  version: z.literal(1),
  active: z.string().nullable(),
  // `health` is optional: tables written before per-lane health checks existed still load.
  lanes: z.array(z.object({ name: z.string(), url: z.string(), health: z.string().optional() })),
  canary: z.object({ lane: z.string(), weight: z.number().min(0).max(100) }).optional(),
  updated_at: z.string(),
});
export type RouteTable = z.infer<typeof RouteTableSchema>;

/** Missing file → undefined (first start); unreadable or invalid → coded error naming the file. */
export async function loadRouteTable(path: string): Promise<RouteTable | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ProxyError('WVO_PROXY_STATE_INVALID', `cannot read route table: ${(error as Error).message}`, { subject: path, cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ProxyError('WVO_PROXY_STATE_INVALID', 'route table is not JSON', {
      subject: path,
      hint: 'remove the file to start with the lanes given on the command line',
      cause: error,
    });
  }
  const parsed = RouteTableSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ProxyError('WVO_PROXY_STATE_INVALID', `route table invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`, {
      subject: path,
      hint: 'remove the file to start with the lanes given on the command line',
    });
  }
  return parsed.data;
}

let tmpCounter = 0;

/**
 * Write temp file (same directory) + fsync + rename: a reader, or a proxy restarted after kill -9,
 * sees either the old table or the new one, never a torn write.
 */
export async function saveRouteTable(path: string, table: RouteTable): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${++tmpCounter}.tmp`);
  try {
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(RouteTableSchema.parse(table), null, 2)}\n`);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw new ProxyError('WVO_PROXY_STATE_WRITE_FAILED', `cannot write route table: ${(error as Error).message}`, {
      subject: path,
      hint: 'check the directory exists and is writable',
      cause: error,
    });
  }
}
