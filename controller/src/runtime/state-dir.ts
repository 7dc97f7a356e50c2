import { constants, promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { RuntimeError } from './errors.js';

/** The state dir must exist, be a directory and be writable by us: checked before anything starts. */
export async function checkStateDir(dir: string): Promise<string> {
  const path = resolve(dir);
  let stat;
  try {
    stat = await fs.stat(path);
  } catch {
    throw new RuntimeError('WVO_STATE_DIR_MISSING', `state directory ${path} does not exist`, {
      subject: path,
      hint: 'Create it (mkdir -p) or pass --state with an existing directory.',
    });
  }
  if (!stat.isDirectory()) {
    throw new RuntimeError('WVO_STATE_DIR_MISSING', `state path ${path} is not a directory`, {
      subject: path,
      hint: 'Pass a directory to --state.',
    });
  }
  try {
    await fs.access(path, constants.W_OK | constants.X_OK);
  } catch {
    throw new RuntimeError('WVO_STATE_DIR_NOT_WRITABLE', `state directory ${path} is not writable`, {
      subject: path,
      hint: 'Fix its permissions (chmod u+w) or run wvo as its owner.',
    });
  }
  return path;
}

export interface OwnerMode {
  uid: number;
  gid: number;
  mode: number;
}

export type ContainerUserPlan =
  | { user: string; adopt: false }
  | { user: string; adopt: true }
  | { user?: undefined; adopt?: undefined; reason: string };

/**
 * Which non-root user a container runs as so it can write its bind-mounted state dir (pure).
 * - dir owned by a non-root user with u+wx: run as that uid:gid (files stay the host user's).
 * - dir owned by root and world-writable: run as the image user.
 * - dir owned by root otherwise: when we are root, adopt it (chown -R to the image user) — the
 *   usual case for dirs the controller or harness created; else it is not writable.
 */
export function planContainerUser(dir: OwnerMode, imageUser: { uid: number; gid: number }, weAreRoot: boolean): ContainerUserPlan {
  const imageUserSpec = `${imageUser.uid}:${imageUser.gid}`;
  if (dir.uid !== 0) {
    if ((dir.mode & 0o300) === 0o300) return { user: `${dir.uid}:${dir.gid}`, adopt: false };
    return { reason: `owner uid ${dir.uid} lacks write/search permission (mode ${(dir.mode & 0o777).toString(8)})` };
  }
  if ((dir.mode & 0o003) === 0o003) return { user: imageUserSpec, adopt: false };
  if (weAreRoot) return { user: imageUserSpec, adopt: true };
  return { reason: `owned by root (mode ${(dir.mode & 0o777).toString(8)}) and not writable by uid ${imageUser.uid}` };
}

/** chown -R, for adopting a root-owned state dir (see planContainerUser). */
export async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  await fs.chown(path, uid, gid);
  for (const entry of await fs.readdir(path, { withFileTypes: true })) {
    const child = `${path}/${entry.name}`;
    if (entry.isDirectory()) await chownTree(child, uid, gid);
    else await fs.lchown(child, uid, gid);
  }
}
