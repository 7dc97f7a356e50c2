import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { listWorkspaceFiles } from './stage.js';

const AUTHOR = ['-c', 'user.email=wvo@localhost', '-c', 'user.name=wvo'];

export interface GitWorkspace {
  dir: string;
  git(...args: string[]): Promise<string>;
  /** Stage everything and commit. */
  commit(message: string): Promise<void>;
}

/**
 * Copy a project's working tree into a fresh git repository (one commit), with node_modules
 * linked rather than copied. The demo and the tests upgrade such copies so they can change them
 * freely without touching the real checkout.
 */
export async function copyWorkspaceToGitRepo(source: string, dir: string): Promise<GitWorkspace> {
  for (const file of await listWorkspaceFiles(source)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(source, file), join(dir, file));
  }
  symlinkSync(join(source, 'node_modules'), join(dir, 'node_modules'));
  const git = async (...args: string[]) => (await execa('git', args, { cwd: dir })).stdout;
  await git('init', '-q', '-b', 'main');
  // The linked node_modules is a symlink, which the tree's `node_modules/` rule does not match.
  writeFileSync(join(dir, '.git', 'info', 'exclude'), 'node_modules\n');
  const commit = async (message: string) => {
    await git(...AUTHOR, 'add', '-A');
    await git(...AUTHOR, 'commit', '-qm', message);
  };
  await commit('baseline');
  return { dir, git, commit };
}
