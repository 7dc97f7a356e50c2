import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { listWorkspaceFiles } from '../../controller/src/harness/stage.js';

export const PROJECT_ROOT = join(import.meta.dirname, '..', '..');

export interface TempWorkspace {
  root: string;
  /** A git checkout of this project's working tree, one commit, node_modules linked. */
  dir: string;
  git(...args: string[]): Promise<string>;
  cleanup(): void;
}

/**
 * A real WVO workspace to upgrade: this project's files in a fresh git repository (so tests can
 * commit, dirty and change it freely), with node_modules linked to ours to avoid a reinstall.
 */
export async function makeTempWorkspace(prefix = 'wvo-ws-'): Promise<TempWorkspace> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const dir = join(root, 'ws');
  for (const file of await listWorkspaceFiles(PROJECT_ROOT)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(PROJECT_ROOT, file), join(dir, file));
  }
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(dir, 'node_modules'));
  const git = async (...args: string[]) => (await execa('git', args, { cwd: dir })).stdout;
  await git('init', '-q', '-b', 'main');
  // The linked node_modules is a symlink, which the tree's `node_modules/` rule does not match.
  writeFileSync(join(dir, '.git', 'info', 'exclude'), 'node_modules\n');
  await git('-c', 'user.email=test@wvo.local', '-c', 'user.name=wvo-test', 'add', '-A');
  await git('-c', 'user.email=test@wvo.local', '-c', 'user.name=wvo-test', 'commit', '-qm', 'baseline');
  return { root, dir, git, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
