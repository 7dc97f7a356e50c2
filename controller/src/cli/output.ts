import { formatError, isWvoError, toErrorJson } from '../../../common/src/errors.js';

/** Options every command that prints data accepts. */
export interface OutputOptions {
  json?: boolean;
}

/** Print `data` as JSON when --json, else the human rendering. */
export function printResult(options: OutputOptions, data: unknown, human: () => string): void {
  if (options.json) process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  else process.stdout.write(`${human()}\n`);
}

/**
 * Wrap a command action: a WvoError prints its code, subject and hint (or JSON with --json)
 * and sets the exit code it carries; anything else is an internal error (exit 1).
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void> | number | void) {
  return async (...args: A): Promise<void> => {
    const command = args[args.length - 1] as { optsWithGlobals?: () => OutputOptions } | undefined;
    const json = Boolean(command?.optsWithGlobals?.().json);
    try {
      const code = await fn(...args);
      if (typeof code === 'number') process.exitCode = code;
    } catch (error) {
      if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: toErrorJson(error) }, null, 2)}\n`);
      else process.stderr.write(`${formatError(error)}\n`);
      process.exitCode = isWvoError(error) ? error.exitCode : 1;
    }
  };
}
