import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { execa } from 'execa';
import { WvoError } from '../../../common/src/errors.js';
import type { Logger } from '../../../common/src/logger.js';
import { harnessErrors } from './errors.js';

/** Never staged, tracked or not: runtime state, artifacts, builds and stages themselves. */
const ALWAYS_IGNORED = ['node_modules', 'dist', 'tmp', 'state', 'experiments', 'test-results', '.git'];

export interface StageResult {
  dir: string;
  files: number;
  bytes: number;
  lockHash: string;
  deps: 'cache-hit' | 'copied-from-workspace' | 'installed';
}

function isIgnored(path: string): boolean {
  const first = path.split('/')[0] ?? '';
  return ALWAYS_IGNORED.includes(first);
}

/** The workspace's files honouring its ignore rules (git's when it is a repository). */
export async function listWorkspaceFiles(workspace: string): Promise<string[]> {
  // Only a repository's own top level: a stage under the project's tmp/ must not ask the
  // enclosing repository, which ignores tmp/ and would list nothing.
  const git = existsSync(join(workspace, '.git'))
    ? await execa('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: workspace, reject: false })
    : undefined;
  if (git?.exitCode === 0) {
    return [...new Set(git.stdout.split('\0'))]
      .filter((p) => p !== '' && !isIgnored(p) && existsSync(join(workspace, p)))
      .filter((p) => statSync(join(workspace, p)).isFile());
  }
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      const rel = relative(workspace, path);
      if (isIgnored(rel)) return [];
      if (entry.isDirectory()) return walk(path);
      return entry.isFile() ? [rel] : [];
    });
  return walk(workspace);
}

/** Turn ENOSPC (and friends) into one clean error and remove the partial stage. */
function stageFailure(error: unknown, stageDir: string): WvoError {
  rmSync(stageDir, { recursive: true, force: true });
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return harnessErrors.create('WVO_DISK_FULL', 'the disk filled up while staging; the partial stage was removed', {
      subject: dirname(stageDir),
      hint: 'free space (or point upgrade.stageRoot elsewhere) and run again; live state was not touched',
      cause: error,
    });
  }
  if (error instanceof WvoError) return error;
  return harnessErrors.create('WVO_STAGE_FAILED', `staging failed: ${(error as Error).message}`, {
    subject: stageDir,
    cause: error,
  });
}

/** The tmp/wv-deps/<key> a lockfile's dependencies are cached under (`wvo images prune` keeps the live ones). */
export function depsCacheKey(lockfile: Uint8Array): string {
  return createHash('sha256').update(lockfile).digest('hex').slice(0, 16);
}

/**
 * Dependencies are cached by the lockfile's hash: a code-only change reuses them (hard links,
 * so staging costs no copy and the Docker context holds real files).
 */
async function provideDependencies(
  stageDir: string,
  workspace: string,
  depsCacheRoot: string,
  logger: Logger,
): Promise<{ lockHash: string; deps: StageResult['deps'] }> {
  const sourceNodeModules = existsSync(join(workspace, 'node_modules')) ? join(workspace, 'node_modules') : undefined;
  const lockHash = depsCacheKey(readFileSync(join(stageDir, 'package-lock.json')));
  const cached = join(depsCacheRoot, lockHash, 'node_modules');
  let deps: StageResult['deps'] = 'cache-hit';
  if (!existsSync(join(cached, '.package-lock.json'))) {
    rmSync(join(depsCacheRoot, lockHash), { recursive: true, force: true });
    mkdirSync(join(depsCacheRoot, lockHash), { recursive: true });
    if (sourceNodeModules && sameLock(sourceNodeModules, join(stageDir, 'package-lock.json'))) {
      logger.info({ lockHash }, 'caching dependencies from the workspace');
      await execa('cp', ['-al', sourceNodeModules, cached]);
      deps = 'copied-from-workspace';
    } else {
      logger.info({ lockHash }, 'installing dependencies in the stage (lockfile changed)');
      await execa('npm', ['ci', '--no-audit', '--no-fund'], { cwd: stageDir });
      await execa('mv', [join(stageDir, 'node_modules'), cached]);
      deps = 'installed';
    }
  }
  await execa('cp', ['-al', cached, join(stageDir, 'node_modules')]);
  return { lockHash, deps };
}

type LockPackages = Record<string, { version?: string; optional?: boolean; dev?: boolean }>;

/**
 * Installed node_modules match a lockfile when npm's hidden lockfile (what is installed) has every
 * package the lockfile wants at the same version; optional packages for other platforms (esbuild's
 * binaries, say) are never installed, so they may be missing.
 */
function sameLock(nodeModules: string, lockFile: string): boolean {
  const hidden = join(nodeModules, '.package-lock.json');
  if (!existsSync(hidden)) return false;
  const installed = (JSON.parse(readFileSync(hidden, 'utf8')) as { packages?: LockPackages }).packages ?? {};
  const wanted = (JSON.parse(readFileSync(lockFile, 'utf8')) as { packages?: LockPackages }).packages ?? {};
  return Object.entries(wanted)
    .filter(([key]) => key.startsWith('node_modules/'))
    .every(([key, value]) => installed[key]?.version === value.version || (value.optional === true && !installed[key]));
}

/** Copy the workspace's working tree (tracked and untracked-not-ignored files) into the stage. */
export async function stageWorkspace(input: {
  workspace: string;
  stageDir: string;
  depsCacheRoot: string;
  logger: Logger;
}): Promise<StageResult> {
  const { workspace, stageDir } = input;
  try {
    const files = await listWorkspaceFiles(workspace);
    let bytes = 0;
    for (const file of files) {
      const target = join(stageDir, file);
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(join(workspace, file), target);
      bytes += statSync(target).size;
    }
    const deps = await provideDependencies(stageDir, workspace, input.depsCacheRoot, input.logger);
    return { dir: stageDir, files: files.length, bytes, ...deps };
  } catch (error) {
    throw stageFailure(error, stageDir);
  }
}

/** Stage a git ref of the workspace (a baseline given as `--baseline <ref>`). */
export async function stageGitRef(input: {
  workspace: string;
  ref: string;
  stageDir: string;
  depsCacheRoot: string;
  logger: Logger;
}): Promise<StageResult> {
  const { workspace, ref, stageDir } = input;
  const resolved = await execa('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: workspace, reject: false });
  if (resolved.exitCode !== 0) {
    throw harnessErrors.create('WVO_BASELINE_NOT_FOUND', `baseline ref ${ref} is not a commit of the workspace`, {
      subject: `--baseline ${ref}`,
      hint: 'pass an image that exists, or a git ref of the workspace (e.g. HEAD, main, a tag)',
    });
  }
  try {
    mkdirSync(stageDir, { recursive: true });
    const archive = execa('git', ['archive', '--format=tar', resolved.stdout.trim()], { cwd: workspace });
    await archive.pipe('tar', ['-x', '-C', stageDir]);
    const files = (await listWorkspaceFiles(stageDir)).length;
    const deps = await provideDependencies(stageDir, workspace, input.depsCacheRoot, input.logger);
    return { dir: stageDir, files, bytes: 0, ...deps };
  } catch (error) {
    throw stageFailure(error, stageDir);
  }
}
