import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * pino JSON logs; pretty when stderr is a TTY (and WVO_LOG_PRETTY is not 0).
 * Logs go to stderr so stdout stays clean for command output and --json.
 */
export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  const level = process.env.WVO_LOG_LEVEL ?? options.level ?? 'info';
  const pretty = process.stderr.isTTY && process.env.WVO_LOG_PRETTY !== '0';
  if (pretty) {
    return pino({
      name,
      level,
      ...options,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true } },
    });
  }
  return pino({ name, level, ...options }, pino.destination({ dest: 2, sync: true }));
}

/** A logger that drops everything: for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
