import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyWorkspaceToGitRepo } from '../../controller/src/harness/workspace-copy.js';

export const PROJECT_ROOT = join(import.meta.dirname, '..', '..');

export interface TempWorkspace {
  root: string;
  /** A git checkout of this project's working tree, one commit, node_modules linked. */
  dir: string;
  git(...args: string[]): Promise<string>;
  cleanup(): void;
}

/** A real WVO workspace to upgrade, in a temp dir the test owns. */
export async function makeTempWorkspace(prefix = 'wvo-ws-'): Promise<TempWorkspace> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const workspace = await copyWorkspaceToGitRepo(PROJECT_ROOT, join(root, 'ws'));
  return { root, dir: workspace.dir, git: workspace.git, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
