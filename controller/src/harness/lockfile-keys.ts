import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { depsCacheKey } from './stage.js';

/** Keys of tmp/wv-deps the workspace still stages from: its package-lock.json's and HEAD's (stage.ts's `depsCacheKey`). */
export async function lockHashes(workspace: string): Promise<{ currentLockHash?: string; headLockHash?: string }> {
  const lockfile = join(workspace, 'package-lock.json');
  const current = existsSync(lockfile) ? depsCacheKey(readFileSync(lockfile)) : undefined;
  const head = await execa('git', ['show', 'HEAD:package-lock.json'], { cwd: workspace, encoding: 'buffer', stripFinalNewline: false, reject: false });
  return {
    ...(current ? { currentLockHash: current } : {}),
    ...(head.exitCode === 0 ? { headLockHash: depsCacheKey(head.stdout) } : {}),
  };
}
