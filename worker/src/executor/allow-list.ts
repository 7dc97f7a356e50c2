import type { ExecCommand } from './command-dsl.js';
import { WorkerError } from '../errors.js';

export interface AllowedProgram {
  readonly program: string;
  /** Pattern per argument position; the last one repeats for the remaining arguments. */
  readonly args: readonly RegExp[];
  readonly minArgs: number;
  readonly maxArgs: number;
  /** Allowed when SANDBOX_MODE=strict. */
  readonly sandboxSafe: boolean;
  /** Upper bound for this program's timeout. */
  readonly maxTimeoutMs: number;
}

export type AllowList = ReadonlyMap<string, AllowedProgram>;

const WORDS = /^[\w .,:=@%+/-]*$/;

export const DEFAULT_ALLOW_LIST: AllowList = new Map(
  (
    [
      { program: 'echo', args: [WORDS], minArgs: 0, maxArgs: 16, sandboxSafe: true, maxTimeoutMs: 5_000 },
      { program: 'true', args: [], minArgs: 0, maxArgs: 0, sandboxSafe: true, maxTimeoutMs: 5_000 },
      { program: 'false', args: [], minArgs: 0, maxArgs: 0, sandboxSafe: true, maxTimeoutMs: 5_000 },
      { program: 'sleep', args: [/^\d{1,3}(\.\d{1,3})?$/], minArgs: 1, maxArgs: 1, sandboxSafe: true, maxTimeoutMs: 120_000 },
      { program: 'node', args: [/^--version$/], minArgs: 1, maxArgs: 1, sandboxSafe: true, maxTimeoutMs: 10_000 },
      {
        program: 'git',
        args: [/^(status|log|diff|rev-parse|show)$/, /^[\w.@/=:-]+$/],
        minArgs: 1,
        maxArgs: 8,
        sandboxSafe: false,
        maxTimeoutMs: 60_000,
      },
      {
        program: 'npm',
        args: [/^(test|run)$/, /^[\w:.-]+$/],
        minArgs: 1,
        maxArgs: 4,
        sandboxSafe: false,
        maxTimeoutMs: 600_000,
      },
    ] satisfies AllowedProgram[]
  ).map((entry) => [entry.program, entry]),
);

/** Characters a shell would interpret. We never use a shell; rejecting them keeps intent honest. */
const SHELL_METACHARACTERS = /[;&|`$<>(){}[\]*?!~\\"'\n\r\t#]/;

/**
 * Pure: checks a command against the allow-list and returns the matched entry, or throws a coded
 * error whose subject is the field's path (`command.args[2]`), prefixed with `fieldPrefix`.
 */
export function checkCommand(
  command: ExecCommand,
  options: { allowList?: AllowList; sandbox?: boolean; fieldPrefix?: string } = {},
): AllowedProgram {
  const allowList = options.allowList ?? DEFAULT_ALLOW_LIST;
  const prefix = options.fieldPrefix ?? 'command';
  const values: Array<[string, string]> = [
    [`${prefix}.program`, command.program],
    ...command.args.map((arg, index): [string, string] => [`${prefix}.args[${index}]`, arg]),
  ];
  for (const [field, value] of values) {
    const bad = SHELL_METACHARACTERS.exec(value);
    if (bad) {
      throw new WorkerError('WVO_EXEC_SHELL_METACHAR', `shell metacharacter ${JSON.stringify(bad[0])} in ${field}`, {
        subject: field,
        hint: 'Commands run without a shell: pass each argument separately, with no quoting, pipes or globs.',
      });
    }
    if (value.includes('..')) {
      throw new WorkerError('WVO_EXEC_PATH_TRAVERSAL', `'..' is not allowed in ${field}`, {
        subject: field,
        hint: 'Use paths inside the working directory.',
      });
    }
  }
  const entry = allowList.get(command.program);
  if (!entry || command.program.includes('/')) {
    throw new WorkerError('WVO_EXEC_NOT_ALLOWED', `program ${command.program} is not on the allow-list`, {
      subject: `${prefix}.program`,
      hint: `Allowed programs: ${[...allowList.keys()].join(', ')}.`,
    });
  }
  if (options.sandbox && !entry.sandboxSafe) {
    throw new WorkerError('WVO_EXEC_SANDBOX_DENIED', `program ${command.program} is not allowed with SANDBOX_MODE=strict`, {
      subject: `${prefix}.program`,
      hint: 'Use a sandbox-safe program or turn SANDBOX_MODE off.',
    });
  }
  if (command.args.length < entry.minArgs || command.args.length > entry.maxArgs) {
    throw new WorkerError(
      'WVO_EXEC_ARG_REJECTED',
      `${command.program} takes ${entry.minArgs}..${entry.maxArgs} arguments, got ${command.args.length}`,
      { subject: `${prefix}.args` },
    );
  }
  command.args.forEach((arg, index) => {
    const pattern = entry.args[Math.min(index, entry.args.length - 1)];
    if (!pattern || !pattern.test(arg)) {
      throw new WorkerError('WVO_EXEC_ARG_REJECTED', `argument ${JSON.stringify(arg)} is not allowed for ${command.program}`, {
        subject: `${prefix}.args[${index}]`,
        hint: `Allowed pattern: ${pattern?.source ?? '(no arguments)'}.`,
      });
    }
  });
  return entry;
}
