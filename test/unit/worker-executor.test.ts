import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkCommand } from '../../worker/src/executor/allow-list.js';
import { TaskCommand, TaskSpec } from '../../worker/src/executor/command-dsl.js';
import { Executor } from '../../worker/src/executor/executor.js';
import { WorkerError } from '../../worker/src/errors.js';

function codeOf(fn: () => unknown): { code: string; subject: string | undefined } {
  try {
    fn();
  } catch (error) {
    if (error instanceof WorkerError) return { code: error.code, subject: error.subject };
    throw error;
  }
  throw new Error('expected a WorkerError');
}

const exec = (program: string, args: string[] = []) => ({ kind: 'exec' as const, program, args });

describe('task-command DSL', () => {
  it('accepts exec and noop commands and fills defaults', () => {
    expect(TaskCommand.parse({ kind: 'exec', program: 'echo' })).toEqual({ kind: 'exec', program: 'echo', args: [] });
    expect(TaskCommand.parse({ kind: 'noop' })).toEqual({ kind: 'noop' });
  });

  it('rejects unknown keys at every level', () => {
    expect(TaskCommand.safeParse({ kind: 'exec', program: 'echo', shell: true }).success).toBe(false);
    expect(TaskCommand.safeParse({ kind: 'noop', env: {} }).success).toBe(false);
    const spec = TaskSpec.safeParse({ command: { kind: 'noop' }, checks: [{ name: 'x', command: { kind: 'noop' }, cwd: '/' }] });
    expect(spec.success).toBe(false);
    expect(spec.error?.issues[0]?.code).toBe('unrecognized_keys');
  });

  it('rejects unknown kinds and wrong types', () => {
    expect(TaskCommand.safeParse({ kind: 'shell', script: 'ls' }).success).toBe(false);
    expect(TaskCommand.safeParse({ kind: 'exec', program: 'echo', args: 'hi' }).success).toBe(false);
    expect(TaskCommand.safeParse({ kind: 'exec', program: 'echo', timeout_ms: -1 }).success).toBe(false);
  });
});

describe('allow-list', () => {
  it('allows listed programs with matching arguments', () => {
    expect(checkCommand(exec('echo', ['hello', 'T-0001'])).program).toBe('echo');
    expect(checkCommand(exec('sleep', ['0.5'])).program).toBe('sleep');
    expect(checkCommand(exec('git', ['status'])).program).toBe('git');
  });

  it('rejects programs not on the list, naming the field', () => {
    expect(codeOf(() => checkCommand(exec('rm', ['-rf', 'x'])))).toEqual({ code: 'WVO_EXEC_NOT_ALLOWED', subject: 'command.program' });
    expect(codeOf(() => checkCommand(exec('/bin/echo')))).toEqual({ code: 'WVO_EXEC_NOT_ALLOWED', subject: 'command.program' });
  });

  it('rejects shell metacharacters in program and arguments', () => {
    for (const arg of ['a;b', 'a|b', '$(id)', '`id`', 'a&&b', '>out', 'x*', "it's", 'a\nb']) {
      expect(codeOf(() => checkCommand(exec('echo', ['ok', arg])))).toEqual({
        code: 'WVO_EXEC_SHELL_METACHAR',
        subject: 'command.args[1]',
      });
    }
    expect(codeOf(() => checkCommand(exec('echo;rm')))).toEqual({ code: 'WVO_EXEC_SHELL_METACHAR', subject: 'command.program' });
  });

  it("rejects '..' in arguments", () => {
    expect(codeOf(() => checkCommand(exec('git', ['diff', '../secret'])))).toEqual({
      code: 'WVO_EXEC_PATH_TRAVERSAL',
      subject: 'command.args[1]',
    });
  });

  it('rejects arguments outside the pattern and wrong counts', () => {
    expect(codeOf(() => checkCommand(exec('git', ['push'])))).toEqual({ code: 'WVO_EXEC_ARG_REJECTED', subject: 'command.args[0]' });
    expect(codeOf(() => checkCommand(exec('sleep', ['forever'])))).toEqual({ code: 'WVO_EXEC_ARG_REJECTED', subject: 'command.args[0]' });
    expect(codeOf(() => checkCommand(exec('true', ['x'])))).toEqual({ code: 'WVO_EXEC_ARG_REJECTED', subject: 'command.args' });
    expect(codeOf(() => checkCommand(exec('node', ['-e', 'x'])))).toMatchObject({ code: 'WVO_EXEC_ARG_REJECTED' });
  });

  it('with the sandbox on, allows only sandbox-safe programs', () => {
    expect(codeOf(() => checkCommand(exec('git', ['status']), { sandbox: true }))).toEqual({
      code: 'WVO_EXEC_SANDBOX_DENIED',
      subject: 'command.program',
    });
    expect(checkCommand(exec('echo', ['hi']), { sandbox: true }).program).toBe('echo');
  });

  it('prefixes fields for stored task commands', () => {
    expect(codeOf(() => checkCommand(exec('rm'), { fieldPrefix: 'tasks[T-1].command' })).subject).toBe('tasks[T-1].command.program');
  });
});

describe('Executor', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function executor(options: Partial<ConstructorParameters<typeof Executor>[0]> = {}) {
    dir = mkdtempSync(join(tmpdir(), 'wvo-worker-test-exec-'));
    const spawned: string[][] = [];
    const instance = new Executor({ dryRun: false, cwd: dir, sandboxDir: dir, onSpawn: (argv) => spawned.push([...argv]), ...options });
    return { instance, spawned };
  }

  it('runs an allowed command without a shell, with a clean environment', async () => {
    const printenv = { program: 'printenv', args: [], minArgs: 0, maxArgs: 0, sandboxSafe: true, maxTimeoutMs: 5_000 };
    const { instance, spawned } = executor({ allowList: new Map([['printenv', printenv]]) });
    process.env.WVO_TEST_SECRET = 'leak';
    try {
      const result = await instance.run(instance.plan(exec('printenv'), { sandbox: false }));
      expect(result).toMatchObject({ status: 'succeeded', exit_code: 0, truncated: false });
      expect(result.stdout).not.toContain('WVO_TEST_SECRET');
      expect(result.stdout).toContain('PATH=/usr/local/bin:/usr/bin:/bin');
      expect(spawned).toEqual([['printenv']]);
    } finally {
      delete process.env.WVO_TEST_SECRET;
    }
  });

  it('passes arguments verbatim (no shell word splitting or expansion)', async () => {
    const { instance } = executor();
    const result = await instance.run(instance.plan(exec('echo', ['two words', '%HOME%']), { sandbox: false }));
    expect(result.stdout).toBe('two words %HOME%');
  });

  it('reports a failing command as a result, not an exception', async () => {
    const { instance } = executor();
    expect(await instance.run(instance.plan(exec('false'), { sandbox: false }))).toMatchObject({ status: 'failed', exit_code: 1 });
  });

  it('enforces the timeout', async () => {
    const { instance } = executor();
    const result = await instance.run(instance.plan({ kind: 'exec', program: 'sleep', args: ['5'], timeout_ms: 200 }, { sandbox: false }));
    expect(result.status).toBe('timed_out');
    expect(result.duration_ms).toBeLessThan(3000);
  });

  it('caps output', async () => {
    const { instance } = executor({ outputCapBytes: 8 });
    const result = await instance.run(instance.plan(exec('echo', ['a'.repeat(200)]), { sandbox: false }));
    expect(result.truncated).toBe(true);
    expect(result.stdout.length).toBeLessThanOrEqual(8);
  });

  it('halves the timeout and shrinks the output cap with the sandbox on', () => {
    const { instance } = executor();
    const plan = instance.plan({ kind: 'exec', program: 'sleep', args: ['1'], timeout_ms: 10_000 }, { sandbox: true });
    expect(plan).toMatchObject({ timeout_ms: 5_000, sandbox: true, output_cap_bytes: 16 * 1024 });
  });

  it('in DRY_RUN returns what it would run and spawns nothing', async () => {
    const { instance, spawned } = executor({ dryRun: true });
    const result = await instance.run(instance.plan(exec('sleep', ['3']), { sandbox: false }));
    expect(result).toMatchObject({ status: 'would_run', argv: ['sleep', '3'], exit_code: null });
    expect(spawned).toEqual([]);
  });

  it('still validates in DRY_RUN', () => {
    const { instance } = executor({ dryRun: true });
    expect(codeOf(() => instance.plan(exec('curl', ['x']), { sandbox: false })).code).toBe('WVO_EXEC_NOT_ALLOWED');
  });

  it('runs noop commands without spawning', async () => {
    const { instance, spawned } = executor();
    expect(await instance.run(instance.plan({ kind: 'noop' }, { sandbox: false }))).toMatchObject({ status: 'succeeded', argv: [] });
    expect(spawned).toEqual([]);
  });
});
