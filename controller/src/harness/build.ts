import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Logger } from '../../../common/src/logger.js';
import { listWorkspaceFiles } from './stage.js';
import { configErrors } from '../config/index.js';
import { harnessErrors } from './errors.js';

/** The last lines of a failed command's output, for the error and steps.json. */
export function tailLines(text: string, count = 30): string[] {
  return text.split('\n').filter((line) => line.trim() !== '').slice(-count);
}

/** A hash of every staged source file: equal hashes build equal trees. */
export async function sourceHash(stageDir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const file of (await listWorkspaceFiles(stageDir)).sort()) {
    hash.update(file).update('\0').update(readFileSync(join(stageDir, file))).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

export interface BuildResult {
  sourceHash: string;
  dist: 'cache-hit' | 'built';
  /** The npm script that built it (the app's, or `build` for a tree that lacks it). */
  script: string;
}

const DEFAULT_BUILD_SCRIPT = 'build';

/** `wanted` if the staged package.json defines it, else `build` (a stage from an older commit). */
export function stagedBuildScript(stageDir: string, wanted: string): string {
  if (wanted === DEFAULT_BUILD_SCRIPT) return wanted;
  try {
    const pkg = JSON.parse(readFileSync(join(stageDir, 'package.json'), 'utf8')) as { scripts?: Record<string, unknown> };
    return typeof pkg.scripts?.[wanted] === 'string' ? wanted : DEFAULT_BUILD_SCRIPT;
  } catch {
    return DEFAULT_BUILD_SCRIPT; // npm run build then names what is wrong with package.json
  }
}

/**
 * `npm run <script>` in the stage (the app's build script, default `build`), skipped when an
 * identical source tree was built by the same script before (the compiled tree is cached by
 * source hash and script, and hard-linked back).
 */
export async function buildStagedTree(stageDir: string, buildCacheRoot: string, logger: Logger, wantedScript = DEFAULT_BUILD_SCRIPT): Promise<BuildResult> {
  const hash = await sourceHash(stageDir);
  const script = stagedBuildScript(stageDir, wantedScript);
  const key = script === DEFAULT_BUILD_SCRIPT ? hash : `${hash}-${script.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const cached = join(buildCacheRoot, key, 'dist');
  if (existsSync(cached)) {
    rmSync(join(stageDir, 'dist'), { recursive: true, force: true });
    await execa('cp', ['-al', cached, join(stageDir, 'dist')]);
    return { sourceHash: hash, dist: 'cache-hit', script };
  }
  logger.info({ stageDir, script }, 'building the staged tree');
  const result = await execa('npm', ['run', script], { cwd: stageDir, reject: false, all: true });
  if (result.exitCode !== 0) {
    throw harnessErrors.create('WVO_BUILD_FAILED', `npm run ${script} failed in the stage (exit ${result.exitCode})`, {
      subject: stageDir,
      hint: 'fix the build errors below (rerun with --keep-stage to inspect the staged copy)',
      details: { output: tailLines(result.all ?? ''), script },
    });
  }
  rmSync(join(buildCacheRoot, key), { recursive: true, force: true });
  mkdirSync(join(buildCacheRoot, key), { recursive: true });
  await execa('cp', ['-al', join(stageDir, 'dist'), cached]);
  return { sourceHash: hash, dist: 'built', script };
}

/** Run the staged copy's tests; a failure names the command and shows its last lines. */
export async function runStagedTests(stageDir: string, command: string[]): Promise<{ command: string; summary: string[] }> {
  const [program, ...args] = command;
  if (!program) throw configErrors.create('WVO_CONFIG_INVALID', 'upgrade.testCommand is empty', { subject: 'upgrade.testCommand', exitCode: 1 });
  const result = await execa(program, args, {
    cwd: stageDir,
    reject: false,
    all: true,
    // Plain text for steps.json and the report: no colour codes from the test runner.
    env: { CI: 'true', WVO_REQUIRE_DOCKER: '0', NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  const summary = tailLines(result.all ?? '', 8);
  if (result.exitCode !== 0) {
    throw harnessErrors.create('WVO_TESTS_FAILED', `the staged copy's tests failed (exit ${result.exitCode})`, {
      subject: command.join(' '),
      hint: 'fix the failing tests, or pass --skip-tests for triage (promotion then refuses the run)',
      details: { output: tailLines(result.all ?? '') },
    });
  }
  return { command: command.join(' '), summary };
}
