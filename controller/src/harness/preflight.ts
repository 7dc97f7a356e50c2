import { existsSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { harnessErrors } from './errors.js';

export interface PreflightInput {
  workspace: string;
  allowDirty: boolean;
  /** Directory where the stage will be written; its filesystem must have room. */
  stageRoot: string;
  minFreeBytes: number;
}

export interface PreflightReport {
  git: 'clean' | 'dirty-allowed' | 'not-a-repository';
  head?: string;
  dirtyFiles: string[];
  sqlite: string;
  freeBytes: number;
}

/** Is this directory a WVO project (something the harness knows how to stage and build)? */
export function assertProject(workspace: string): void {
  const missing = ['package.json', 'package-lock.json', 'worker/src', 'images/worker.Dockerfile'].filter(
    (entry) => !existsSync(join(workspace, entry)),
  );
  if (missing.length > 0) {
    throw harnessErrors.create('WVO_NOT_A_PROJECT', `workspace is not a WVO project: missing ${missing.join(', ')}`, {
      subject: `--workspace ${workspace}`,
      hint: 'point --workspace at a checkout that has package.json, package-lock.json, worker/src and images/',
    });
  }
}

/** `git status --porcelain` lines, or undefined when the workspace is not a git repository. */
export async function gitDirtyFiles(workspace: string): Promise<{ head: string; dirty: string[] } | undefined> {
  const inside = await execa('git', ['rev-parse', '--is-inside-work-tree'], { cwd: workspace, reject: false });
  if (inside.exitCode !== 0) return undefined;
  const head = await execa('git', ['rev-parse', '--short', 'HEAD'], { cwd: workspace, reject: false });
  const status = await execa('git', ['status', '--porcelain', '--untracked-files=normal'], { cwd: workspace });
  const dirty = status.stdout.split('\n').filter((line) => line.trim() !== '');
  return { head: head.exitCode === 0 ? head.stdout.trim() : '(no commits)', dirty };
}

/** Fail fast, naming the cause and the flag that skips it (DESIGN §4 step 1). */
export async function runPreflight(input: PreflightInput): Promise<PreflightReport> {
  assertProject(input.workspace);

  const git = await gitDirtyFiles(input.workspace);
  if (git && git.dirty.length > 0 && !input.allowDirty) {
    throw harnessErrors.create('WVO_DIRTY_TREE', `workspace has ${git.dirty.length} uncommitted change(s)`, {
      subject: input.workspace,
      hint: 'commit or stash them, or pass --allow-dirty to stage the working tree as it is',
      details: { files: git.dirty.slice(0, 20) },
    });
  }

  let sqlite: string;
  try {
    const db = new Database(':memory:');
    sqlite = (db.prepare('select sqlite_version() as v').get() as { v: string }).v;
    db.close();
  } catch (error) {
    throw harnessErrors.create('WVO_SQLITE_UNAVAILABLE', `SQLite cannot be opened: ${(error as Error).message}`, {
      hint: 'reinstall dependencies with `npm ci` (better-sqlite3 builds a native addon)',
      cause: error,
    });
  }

  const stats = statfsSync(existsSync(input.stageRoot) ? input.stageRoot : input.workspace);
  const freeBytes = Number(stats.bavail) * Number(stats.bsize);
  if (freeBytes < input.minFreeBytes) {
    throw harnessErrors.create('WVO_DISK_LOW', `only ${Math.round(freeBytes / 1e6)} MB free where the stage goes`, {
      subject: input.stageRoot,
      hint: `free at least ${Math.round(input.minFreeBytes / 1e6)} MB, or lower upgrade.minFreeMb in wvo.config.json`,
    });
  }

  return {
    git: git === undefined ? 'not-a-repository' : git.dirty.length > 0 ? 'dirty-allowed' : 'clean',
    ...(git ? { head: git.head } : {}),
    dirtyFiles: git?.dirty ?? [],
    sqlite,
    freeBytes,
  };
}
