import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** The built `wvo` CLI, as users run it (`npm run build` first; `npm test` does). */
export const WVO_MAIN = join(import.meta.dirname, '..', '..', 'dist', 'controller', 'src', 'cli', 'main.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

const run = promisify(execFile);

/** `wvo <args>` in `cwd` with JSON logs at warn; a non-zero exit is a result, not a throw. */
export async function runWvoCli(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<CliRun> {
  try {
    const { stdout, stderr } = await run(process.execPath, [WVO_MAIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, WVO_LOG_PRETTY: '0', WVO_LOG_LEVEL: 'warn', ...options.env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}
